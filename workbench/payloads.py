"""The JSON shapes of messages and conversations, shared by sockets, HTTP and broadcasts."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from service_orders.models import ServiceOrder
from workbench.models import Conversation, Message


def message_payload(message: Message, *, agent_name: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "client_id": message.client_id,
        "sender": message.sender,
        "agent_name": agent_name if agent_name is not None else "",
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "attachment": None,
    }
    if message.attachment:
        data["attachment"] = {
            "url": reverse("chat:attachment", args=[message.pk]),
            "name": message.attachment_name,
            "type": message.attachment_type,
            "size": message.attachment_size,
            "is_image": message.attachment_type.startswith("image/"),
        }
    return data


def conversation_state(
    conversation: Conversation, *, queue_position: int | None = None, rating: int | None = None
) -> dict[str, Any]:
    agent = conversation.agent if conversation.agent_id else None
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "group_id": conversation.group_id,
        "agent_name": agent.name if agent is not None else "",
        "queue_position": queue_position,
        "last_seq": conversation.last_seq,
        "agent_read_seq": conversation.agent_read_seq,
        "customer_read_seq": conversation.customer_read_seq,
        "rating": rating,
    }


def conversation_list_item(c: Conversation) -> dict[str, Any]:
    """One row of the workbench lists (GET /workbench/api/lists/ and the `list` frame)."""
    return {
        "id": c.pk,
        "status": c.status,
        "customer": c.customer.name if c.customer_id and c.customer else "",
        "visitor_id": c.visitor_id,
        "channel": c.channel.name,
        "group": c.group.name,
        "agent_id": c.agent_id,
        "created_at": c.created_at.isoformat(),
        "accepted_at": c.accepted_at.isoformat() if c.accepted_at else None,
        "closed_at": c.closed_at.isoformat() if c.closed_at else None,
        "last_message_at": c.last_message_at.isoformat() if c.last_message_at else None,
        "last_seq": c.last_seq,
        "agent_read_seq": c.agent_read_seq,
        "last_text": (getattr(c, "last_text", "") or "")[:80],
    }


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "display_name": user.display_name}


def conversation_event_payload(
    conversation: Conversation, order: ServiceOrder, *, actor: Any
) -> dict[str, Any]:
    """The stable webhook payload of a `conversation.*` event (documented in
    docs/webhooks.md): the conversation and its service order right after the step, and
    who did it (None: the system)."""
    shop = conversation.shop
    customer = conversation.customer
    issue_type = order.issue_type
    return {
        "conversation": {
            "id": conversation.pk,
            "status": conversation.status,
            "channel": {"id": conversation.channel_id, "key": conversation.channel.key},
            "shop": {"id": shop.pk, "code": shop.code} if shop is not None else None,
            "group": {"id": conversation.group_id, "name": conversation.group.name},
            "agent": _person(conversation.agent if conversation.agent_id else None),
            "customer": (
                {"id": customer.pk, "external_id": customer.external_id}
                if customer is not None
                else None
            ),
            "visitor_id": conversation.visitor_id,
            "messages": conversation.last_seq,
            "created_at": conversation.created_at,
            "accepted_at": conversation.accepted_at,
            "first_response_at": conversation.first_response_at,
            "closed_at": conversation.closed_at,
        },
        "service_order": {
            "id": order.pk,
            "issue_type": (
                {"id": issue_type.pk, "name": issue_type.name} if issue_type is not None else None
            ),
            "summary": order.summary,
            "wait_seconds": order.wait_seconds,
            "first_response_seconds": order.first_response_seconds,
            "handle_seconds": order.handle_seconds,
            "customer_messages": order.customer_messages,
            "agent_messages": order.agent_messages,
        },
        "actor": _person(actor),
    }
