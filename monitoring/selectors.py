"""Reads for the supervisors' live board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from agents.access import restrict
from agents.capabilities import with_capability_q
from agents.models import AgentProfile, User


@dataclass(frozen=True)
class SeatRow:
    user_id: int
    name: str
    state: str
    state_label: str
    since: datetime
    seconds_in_state: int
    capacity: int


def seat_board_for(*, user: Any) -> list[SeatRow]:
    """Every seat the viewer may watch, online first, in two queries."""
    profiles: QuerySet[AgentProfile] = (
        AgentProfile.objects.select_related("user")
        .filter(with_capability_q("hold_seat", prefix="user__"), user__is_active=True)
        .distinct()
    )
    visible_users = restrict(User.objects.all(), user=user)
    profiles = profiles.filter(user__in=visible_users)
    now = timezone.now()
    order = {"online": 0, "away": 1, "offline": 2}
    rows = [
        SeatRow(
            user_id=p.user_id,
            name=str(p.user),
            state=p.state,
            state_label=p.get_state_display(),
            since=p.state_changed_at,
            seconds_in_state=max(0, int((now - p.state_changed_at).total_seconds())),
            capacity=p.max_concurrent,
        )
        for p in profiles
    ]
    rows.sort(key=lambda r: (order.get(r.state, 9), r.name.lower()))
    return rows


def seat_state_counts(rows: list[SeatRow]) -> dict[str, int]:
    counts = dict.fromkeys(AgentProfile.State.values, 0)
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts
