"""Reads of service orders, scoped through agents.access."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from agents.access import get_for, restrict
from core.dates import validate_date_in_range
from service_orders.models import IssueType, ServiceOrder, TransferStep
from workbench.models import Message

PAGE_SIZE = 50


def service_order_list_for(*, user: Any) -> QuerySet[ServiceOrder]:
    return restrict(
        ServiceOrder.objects.select_related(
            "channel", "shop", "customer", "agent", "group", "issue_type", "conversation"
        ).order_by("-created_at", "-id"),
        user=user,
    )


def service_order_get_for(*, user: Any, pk: int) -> ServiceOrder:
    return get_for(service_order_list_for(user=user), user=user, pk=pk)


def keyset_page(
    qs: QuerySet[ServiceOrder], cursor: str, size: int = PAGE_SIZE
) -> tuple[list[ServiceOrder], str | None]:
    """One page, newest first, after the cursor "<iso time>_<id>" of the previous page's
    last row. Costs the same on page 1 and page 1,000 (no OFFSET)."""
    if cursor:
        try:
            stamp, _sep, last_id = cursor.rpartition("_")
            when = datetime.fromisoformat(stamp)
            validate_date_in_range(when)
            if timezone.is_naive(when):
                when = timezone.make_aware(when, UTC)
            qs = qs.filter(Q(created_at__lt=when) | Q(created_at=when, id__lt=int(last_id)))
        except (ValueError, ValidationError):
            pass  # a mangled cursor shows the first page rather than an error
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = f"{rows[-1].created_at.isoformat()}_{rows[-1].pk}" if more and rows else None
    return rows, next_cursor


def replay_for(order: ServiceOrder) -> tuple[list[Message], list[TransferStep]]:
    messages = list(
        Message.objects.filter(conversation_id=order.conversation_id)
        .select_related("agent")
        .order_by("seq")
    )
    steps = list(order.steps.select_related("agent", "group", "actor"))
    return messages, steps


def issue_type_get_active(*, pk: int) -> IssueType | None:
    """An issue type an agent may pick when closing a conversation."""
    return IssueType.objects.filter(pk=pk, is_active=True).first()
