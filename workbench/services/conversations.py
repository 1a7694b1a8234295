"""Conversations: start, accept, transfer, close, rate, and system notices in them.

Close and transfer ask workbench.permissions (through agents.capabilities.may) under the
conversation's row lock, so whichever transport calls them, only the holder or a
supervisor acts, and only an agent who may hold the conversation receives it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.capabilities import may
from agents.models import SkillGroup, User
from core.realtime import broadcast_on_commit
from integrations.services import webhook_emit
from service_orders import services as so
from service_orders.models import IssueType, ServiceOrder, TransferStep
from workbench.errors import ChatError
from workbench.models import Conversation, Message, Visitor
from workbench.payloads import conversation_event_payload
from workbench.selectors import conversation_open_for
from workbench.services.doorbells import (
    ring_lists,
    ring_queue_order,
    ring_state,
)
from workbench.services.messages import MAX_TEXT, existing_message, message_system
from workbench.services.routing import (
    conversation_assign,
    routing_enqueue,
    routing_enqueue_for_agent,
    seat_lock,
)


def _lock_open(conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("agent")
        .get(pk=conversation_id)
    )
    if conversation.status == Conversation.Status.CLOSED:
        raise ChatError("conversation_closed", _("This conversation is closed."))
    return conversation


def conversation_start(*, visitor: Visitor) -> Conversation:
    """Open a conversation (and its service order) or return the one already open."""
    with transaction.atomic():
        # Serialise starts of one visitor so two tabs cannot open two conversations.
        Visitor.objects.select_for_update().filter(pk=visitor.pk).first()
        existing = conversation_open_for(visitor=visitor)
        if existing is not None:
            return existing
        channel = visitor.channel
        now = timezone.now()
        conversation = Conversation.objects.create(
            channel=channel,
            shop_id=channel.shop_id,
            visitor=visitor,
            customer_id=visitor.customer_id,
            group_id=channel.default_group_id,
            created_at=now,
        )
        so.service_order_create(conversation=conversation)
        so.service_order_add_step(
            conversation=conversation,
            kind=TransferStep.Kind.QUEUED,
            group=channel.default_group,
            at=now,
        )
        if channel.greeting:
            message_system(conversation, channel.greeting)
        ring_lists(conversation)
        routing_enqueue(conversation.group_id)
    return conversation


def conversation_notice(*, conversation_id: int, text: str, key: str) -> tuple[Message, bool]:
    """A system line from elsewhere in Kefu (a resolved ticket), once per key; returns
    (message, created). Unlike message_send it also lands in a closed conversation: the
    history is where the customer looks when they come back to the chat. The key is
    checked under the conversation's row lock, so a retry or a racing twin finds the
    first message instead of adding a second."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        existing = existing_message(conversation_id, Message.Sender.SYSTEM, key)
        if existing is not None:
            return existing, False
        return message_system(conversation, text[:MAX_TEXT], client_id=key), True


def conversation_accept(*, conversation_id: int, agent: User) -> Conversation:
    """An agent picks a waiting conversation from the queue (manual pickup)."""
    with transaction.atomic():
        conversation = _lock_open(conversation_id)
        if conversation.status != Conversation.Status.QUEUED:
            raise ChatError("already_taken", _("Another agent already took this conversation."))
        seat_lock(agent)
        conversation_assign(
            conversation=conversation, agent=agent, kind=TransferStep.Kind.ACCEPTED, actor=agent
        )
    return conversation


def conversation_transfer(
    *,
    conversation_id: int,
    actor: User,
    to_agent: User | None = None,
    to_group: SkillGroup | None = None,
    note: str = "",
) -> Conversation:
    """Hand a conversation to another agent directly, or back to a group's queue.

    Only the holder (anyone in scope while it waits) or a supervisor may; the agent must
    be one who may hold it (a seat, and the conversation's shop in their scope); the group
    must be the platform's or the conversation's shop's."""
    if (to_agent is None) == (to_group is None):
        raise ChatError("transfer_target", _("Transfer to exactly one agent or one group."))
    with transaction.atomic():
        conversation = _lock_open(conversation_id)
        if not may(actor, "transfer", conversation):
            raise ChatError(
                "not_your_conversation",
                _("Only the agent holding it, or a supervisor, can transfer it."),
            )
        previous = conversation.agent_id
        if to_agent is not None:
            if not may(to_agent, "hold", conversation):
                raise ChatError("unknown_agent", _("No such agent."))
            if to_agent.pk == previous:
                raise ChatError("transfer_target", _("The conversation is already theirs."))
            seat_lock(to_agent)
            conversation_assign(
                conversation=conversation,
                agent=to_agent,
                kind=TransferStep.Kind.TRANSFERRED,
                actor=actor,
                note=note,
            )
            message_system(conversation, _("Transferred to %(name)s.") % {"name": to_agent.name})
        else:
            assert to_group is not None
            if to_group.shop_id not in (None, conversation.shop_id):
                raise ChatError("unknown_group", _("No such skill group."))
            _requeue(conversation, to_group, actor=actor, note=note)
        if previous:
            routing_enqueue_for_agent(previous)
    return conversation


def _requeue(conversation: Conversation, group: SkillGroup, *, actor: User, note: str) -> None:
    """Back to a group's queue, keeping its start time (and so its place by age)."""
    previous = conversation.agent_id
    old_group = conversation.group_id
    was_queued = conversation.status == Conversation.Status.QUEUED
    conversation.group = group
    conversation.agent = None
    conversation.status = Conversation.Status.QUEUED
    conversation.save(update_fields=["group", "agent", "status"])
    so.service_order_add_step(
        conversation=conversation,
        kind=TransferStep.Kind.TRANSFERRED,
        group=group,
        actor=actor,
        note=note,
        at=timezone.now(),
    )
    message_system(
        conversation, _("Transferred to %(group)s. Please wait.") % {"group": group.name}
    )
    ring_state(conversation)
    ring_lists(conversation, agent_ids=(previous,), old_group_id=old_group)
    if was_queued and old_group != group.pk:
        ring_queue_order(old_group)
    ring_queue_order(group.pk)
    routing_enqueue(group.pk)


def conversation_close(
    *,
    conversation_id: int,
    actor: User | None,
    issue_type: IssueType | None = None,
    summary: str = "",
) -> Conversation:
    """End the conversation and its service order. `actor` None is the system; a person
    must hold it (anyone in scope while it waits) or supervise. Emits
    `conversation.closed` to webhooks once this commits."""
    with transaction.atomic():
        conversation = _lock_open(conversation_id)
        if actor is not None and not may(actor, "close", conversation):
            raise ChatError("not_your_conversation", _("Only the agent holding it can close it."))
        now = timezone.now()
        agent_id = conversation.agent_id
        was_queued = conversation.status == Conversation.Status.QUEUED
        conversation.status = Conversation.Status.CLOSED
        conversation.closed_at = now
        conversation.save(update_fields=["status", "closed_at"])
        order = so.service_order_close(
            conversation=conversation,
            at=now,
            actor=actor,
            issue_type=issue_type,
            summary=summary[:2000],
        )
        ring_state(conversation)
        ring_lists(conversation, agent_ids=(agent_id,))
        if was_queued:
            ring_queue_order(conversation.group_id)
        if agent_id:
            routing_enqueue_for_agent(agent_id)
        # Recorded in this transaction, sent after commit (nothing if it rolls back); the
        # payload is built only when an endpoint listens.
        webhook_emit(
            event_type="conversation.closed",
            payload=lambda: conversation_event_payload(conversation, order, actor=actor),
            shop_id=conversation.shop_id,
        )
    return conversation


def conversation_rate(
    *, conversation: Conversation, rating: Any, comment: str = ""
) -> ServiceOrder:
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ChatError("invalid_rating", _("The rating must be a whole number from 1 to 5."))
    if not isinstance(comment, str) or len(comment) > 1000:
        raise ChatError("invalid_comment", _("The comment may have at most 1000 characters."))
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.status != Conversation.Status.CLOSED:
            raise ChatError("not_closed", _("A conversation can be rated once it is closed."))
        order = so.service_order_rate(conversation=locked, rating=rating, comment=comment.strip())
        broadcast_on_commit(
            locked.group_name(),
            {"type": "chat.rated", "conversation_id": locked.pk, "rating": rating},
        )
    return order
