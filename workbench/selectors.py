"""Reads of live chat, always scoped through agents.access for back-office users."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.access import get_for, restrict
from agents.capabilities import may, with_capability_q
from agents.models import SkillGroup
from workbench.errors import ChatError
from workbench.models import ChannelAccount, Conversation, Message, Visitor
from workbench.payloads import conversation_state

MAX_BATCH = 200


def messages_after(*, conversation: Conversation, after_seq: int, limit: int = MAX_BATCH):
    """The conversation's messages with seq > after_seq, in order (at most `limit`)."""
    return list(
        Message.objects.filter(conversation=conversation, seq__gt=after_seq)
        .select_related("agent")
        .order_by("seq")[:limit]
    )


def conversation_list_for(*, user: Any) -> QuerySet[Conversation]:
    return restrict(
        Conversation.objects.select_related("agent", "group", "customer", "channel", "visitor"),
        user=user,
    )


def conversation_get_for(*, user: Any, pk: Any) -> Conversation:
    return get_for(conversation_list_for(user=user), user=user, pk=pk)


def _with_last_text(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    # The newest message's text, for the list's preview line, in the same query.
    last_text = (
        Message.objects.filter(conversation=OuterRef("pk")).order_by("-seq").values("text")[:1]
    )
    return qs.annotate(last_text=Subquery(last_text))


def conversation_for_lists(pk: int) -> Conversation | None:
    """One conversation as the workbench lists show it, for the `list` doorbell (whose
    listeners were scoped when they joined its group)."""
    return (
        _with_last_text(Conversation.objects.select_related("group", "customer", "channel"))
        .filter(pk=pk)
        .first()
    )


def workbench_lists_for(*, user: Any) -> dict[str, list[Conversation]]:
    """The three zones of the session list: waiting (in my groups' queues), my active ones,
    and mine closed today. Platform supervisors/admins see every waiting conversation."""
    base = _with_last_text(conversation_list_for(user=user))
    waiting = base.filter(status=Conversation.Status.QUEUED)
    if not may(user, "supervise"):
        waiting = waiting.filter(group__memberships__user=user)
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "waiting": list(waiting.order_by("created_at")[:100]),
        "active": list(
            base.filter(status=Conversation.Status.ACTIVE, agent=user).order_by("created_at")
        ),
        "closed": list(
            base.filter(
                status=Conversation.Status.CLOSED, agent=user, closed_at__gte=start_of_day
            ).order_by("-closed_at")[:50]
        ),
    }


def visitor_conversation(*, visitor: Visitor, pk: Any) -> Conversation | None:
    """A conversation the visitor takes part in: their own, or (identified) their
    customer's on the same channel."""
    condition = Q(visitor=visitor)
    if visitor.customer_id:
        condition |= Q(customer_id=visitor.customer_id, channel_id=visitor.channel_id)
    try:
        return Conversation.objects.select_related("agent").filter(condition, pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def visitor_current_conversation(*, visitor: Visitor) -> Conversation | None:
    """The conversation the chat window shows: the open one, else the latest (to rate it)."""
    condition = Q(visitor=visitor)
    if visitor.customer_id:
        condition |= Q(customer_id=visitor.customer_id, channel_id=visitor.channel_id)
    qs = Conversation.objects.select_related("agent").filter(condition)
    open_one = qs.exclude(status=Conversation.Status.CLOSED).order_by("-created_at").first()
    if open_one is not None:
        return open_one
    recent = timezone.now() - timedelta(hours=24)
    return qs.filter(closed_at__gte=recent).order_by("-closed_at").first()


def transfer_targets_for(*, user: Any) -> dict[str, Any]:
    from agents.selectors import user_list_for

    groups = restrict(SkillGroup.objects.filter(is_active=True).select_related("shop"), user=user)
    agents = user_list_for(user=user).filter(with_capability_q("hold_seat"))
    return {"groups": list(groups), "agents": list(agents)}


def queue_groups_for(*, user: Any) -> list[SkillGroup]:
    """Groups whose waiting list the user's workbench shows and listens to."""
    groups = restrict(SkillGroup.objects.filter(is_active=True), user=user)
    if not may(user, "supervise"):
        groups = groups.filter(memberships__user=user)
    return list(groups.order_by("pk"))


def transfer_agent_for(*, user: Any, pk: int) -> Any:
    from agents.selectors import user_list_for

    return user_list_for(user=user).filter(with_capability_q("hold_seat"), pk=pk).first()


def transfer_group_for(*, user: Any, pk: int) -> SkillGroup | None:
    return restrict(SkillGroup.objects.filter(is_active=True), user=user).filter(pk=pk).first()


def customer_conversations_for(*, user: Any, customer: Any, limit: int = 20) -> list[Conversation]:
    """All past conversations of a customer the user may see (any agent, any channel)."""
    return list(
        conversation_list_for(user=user)
        .filter(customer=customer)
        .select_related("service_order", "service_order__issue_type")
        .order_by("-created_at")[:limit]
    )


def visitor_conversations_for(*, user: Any, visitor_id: int, limit: int = 20) -> list[Conversation]:
    return list(
        conversation_list_for(user=user)
        .filter(visitor_id=visitor_id)
        .select_related("service_order", "service_order__issue_type")
        .order_by("-created_at")[:limit]
    )


# --- The customer's side ------------------------------------------------------------------


def hash_token(token: str) -> str:
    """Visitor tokens are stored only as this hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def channel_get_active(*, key: str) -> ChannelAccount:
    channel = (
        ChannelAccount.objects.select_related("shop", "default_group")
        .filter(key=key, is_active=True)
        .first()
    )
    if channel is None:
        raise ChatError("unknown_channel", _("This chat channel does not exist or is closed."))
    return channel


def visitor_from_token(*, token: str) -> Visitor | None:
    if not token or len(token) > 100:
        return None
    return (
        Visitor.objects.select_related("channel", "channel__shop")
        .filter(token_hash=hash_token(token), channel__is_active=True)
        .first()
    )


def conversation_open_for(*, visitor: Visitor) -> Conversation | None:
    """The visitor's conversation that is not closed yet, if any."""
    return (
        Conversation.objects.filter(visitor=visitor)
        .exclude(status=Conversation.Status.CLOSED)
        .order_by("-created_at")
        .first()
    )


def visitor_message(*, visitor: Visitor, client_id: str) -> Message | None:
    """The visitor's message with this client id, in any of their conversations."""
    return (
        Message.objects.select_related("conversation")
        .filter(visitor=visitor, sender=Message.Sender.CUSTOMER, client_id=client_id)
        .first()
    )


def conversation_state_for_customer(*, conversation: Conversation) -> dict[str, Any]:
    """The conversation as the customer's window shows it: with the queue position while
    it waits, and the rating once it is closed."""
    rating = None
    if conversation.status == Conversation.Status.CLOSED:
        rating = (
            conversation.service_order.rating if hasattr(conversation, "service_order") else None
        )
    return conversation_state(
        conversation, queue_position=queue_position(conversation), rating=rating
    )


# --- Queues and seats ---------------------------------------------------------------------


def queue_ids(group_id: int, *, limit: int) -> list[int]:
    """The waiting conversations of a group, next first."""
    return list(
        Conversation.objects.filter(group_id=group_id, status=Conversation.Status.QUEUED)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def queue_position(conversation: Conversation) -> int | None:
    if conversation.status != Conversation.Status.QUEUED:
        return None
    # The order of queue_ids and routing.queue_drain: by start time, then id.
    ahead = (
        Conversation.objects.filter(
            group_id=conversation.group_id, status=Conversation.Status.QUEUED
        )
        .filter(
            Q(created_at__lt=conversation.created_at)
            | Q(created_at=conversation.created_at, pk__lt=conversation.pk)
        )
        .count()
    )
    return ahead + 1


def agent_load(user_id: int) -> int:
    """How many conversations the agent holds now."""
    return Conversation.objects.filter(agent_id=user_id, status=Conversation.Status.ACTIVE).count()
