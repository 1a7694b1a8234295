"""Writes of service orders. Called only from workbench.services (conversations, messages,
routing), inside their transactions."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import SkillGroup, User
from service_orders.models import IssueType, ServiceOrder, TransferStep
from workbench.errors import ChatError
from workbench.models import Conversation, Message


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def service_order_create(*, conversation: Conversation) -> ServiceOrder:
    return ServiceOrder.objects.create(
        conversation=conversation,
        channel_id=conversation.channel_id,
        shop_id=conversation.shop_id,
        customer_id=conversation.customer_id,
        group_id=conversation.group_id,
        created_at=conversation.created_at,
    )


def service_order_add_step(
    *,
    conversation: Conversation,
    kind: str,
    at: datetime,
    agent: User | None = None,
    group: SkillGroup | None = None,
    actor: User | None = None,
    note: str = "",
) -> TransferStep:
    """Append to the transfer path and keep the order's holder, group and times current."""
    order = ServiceOrder.objects.get(conversation=conversation)
    step = TransferStep.objects.create(
        service_order=order, kind=kind, agent=agent, group=group, actor=actor, note=note, at=at
    )
    fields: list[str] = []
    if kind == TransferStep.Kind.QUEUED and order.queued_at is None:
        order.queued_at = at
        fields.append("queued_at")
    if agent is not None:
        order.agent = agent
        fields.append("agent")
    if group is not None:
        order.group = group
        fields.append("group")
    if kind in (TransferStep.Kind.ROUTED, TransferStep.Kind.ACCEPTED) and order.accepted_at is None:
        order.accepted_at = at
        order.wait_seconds = _seconds(order.created_at, at)
        fields += ["accepted_at", "wait_seconds"]
    if fields:
        order.save(update_fields=fields)
    return step


def service_order_first_response(*, conversation_id: int, at: datetime) -> None:
    order = ServiceOrder.objects.filter(
        conversation_id=conversation_id, first_response_at__isnull=True
    ).first()
    if order is not None:
        order.first_response_at = at
        order.first_response_seconds = _seconds(order.created_at, at)
        order.save(update_fields=["first_response_at", "first_response_seconds"])


def _turns(messages: QuerySet[Message] | list[Message]) -> tuple[int, int, list[float]]:
    """(customer messages, agent messages, each answered turn's response delay in seconds).

    A customer turn starts with the first customer message after an agent message (or the
    start); it is answered by the next agent message. Unanswered turns do not count.
    """
    customer = agent = 0
    waiting_since: datetime | None = None
    gaps: list[float] = []
    for message in messages:
        if message.sender == Message.Sender.CUSTOMER:
            customer += 1
            if waiting_since is None:
                waiting_since = message.created_at
        elif message.sender == Message.Sender.AGENT:
            agent += 1
            if waiting_since is not None:
                gaps.append((message.created_at - waiting_since).total_seconds())
                waiting_since = None
    return customer, agent, gaps


def response_metrics(messages: QuerySet[Message] | list[Message]) -> tuple[int, int, int | None]:
    """(customer messages, agent messages, average agent response in seconds)."""
    customer, agent, gaps = _turns(messages)
    average = round(sum(gaps) / len(gaps)) if gaps else None
    return customer, agent, average


def answered_turns(messages: QuerySet[Message] | list[Message]) -> int:
    """The workbench's "exchanges": customer turns an agent has answered (see _turns)."""
    return len(_turns(messages)[2])


def service_order_close(
    *,
    conversation: Conversation,
    at: datetime,
    actor: User | None,
    issue_type: IssueType | None,
    summary: str,
) -> ServiceOrder:
    order = ServiceOrder.objects.get(conversation=conversation)
    messages = conversation.messages.only("sender", "created_at").order_by("seq")
    customer, agent, average = response_metrics(list(messages))
    order.closed_at = at
    order.handle_seconds = _seconds(order.accepted_at, at)
    order.customer_messages = customer
    order.agent_messages = agent
    order.avg_agent_response_seconds = average
    order.issue_type = issue_type
    order.summary = summary
    order.save(
        update_fields=[
            "closed_at",
            "handle_seconds",
            "customer_messages",
            "agent_messages",
            "avg_agent_response_seconds",
            "issue_type",
            "summary",
        ]
    )
    TransferStep.objects.create(
        service_order=order,
        kind=TransferStep.Kind.CLOSED,
        agent=conversation.agent,
        actor=actor,
        at=at,
    )
    return order


def service_order_rate(*, conversation: Conversation, rating: int, comment: str) -> ServiceOrder:
    order = ServiceOrder.objects.get(conversation=conversation)
    if order.rating is not None:
        raise ChatError("already_rated", _("This conversation has already been rated."))
    order.rating = rating
    order.rating_comment = comment
    order.rated_at = timezone.now()
    order.save(update_fields=["rating", "rating_comment", "rated_at"])
    return order
