"""The JSON shapes of messages and conversations, shared by sockets, HTTP and broadcasts."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

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
