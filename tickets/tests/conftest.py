"""Ticket fixtures: a group with on-duty members, a typed template, a controllable clock."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from agents.models import AgentProfile, GroupMembership, SkillGroup, User
from agents.roles import Role
from agents.tests.factories import SkillGroupFactory, UserFactory
from settings_app.models import BusinessCalendar, GroupSettings, WorkingInterval
from tickets.models import TicketField, TicketType
from tickets.tests.factories import TicketFieldFactory, TicketTypeFactory

SH = ZoneInfo("Asia/Shanghai")


class Clock:
    """timezone.now() under the test's control."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime(2025, 11, 3, 10, 0, tzinfo=SH)  # a Monday morning
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
        self.now = datetime(year, month, day, hour, minute, tzinfo=SH)
        return self.now


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """The list's per-group counts are cached; no test sees another test's counts."""
    cache.clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def on_duty(user: User, state: str = AgentProfile.State.ONLINE) -> User:
    AgentProfile.objects.update_or_create(user=user, defaults={"state": state})
    return user


def member(
    group: SkillGroup, *, role: str = Role.AGENT, lead: bool = False, state: str = "online"
) -> User:
    user = UserFactory.create(role=role)
    GroupMembership.objects.create(
        group=group, user=user, role=GroupMembership.Role.LEAD if lead else "member"
    )
    return on_duty(user, state)


def office_calendar(group: SkillGroup, *, reassign_after: int | None = None) -> BusinessCalendar:
    """Mon-Fri 09:00-12:00 and 13:30-18:00 Shanghai, with China's holidays."""
    cal, _ = BusinessCalendar.objects.get_or_create(name="Office")
    if not cal.intervals.exists():
        for day in range(5):
            WorkingInterval.objects.create(calendar=cal, weekday=day, start=time(9), end=time(12))
            WorkingInterval.objects.create(
                calendar=cal, weekday=day, start=time(13, 30), end=time(18)
            )
    GroupSettings.objects.update_or_create(
        group=group, defaults={"calendar": cal, "reassign_after_minutes": reassign_after}
    )
    return cal


@pytest.fixture
def group(db) -> SkillGroup:
    return SkillGroupFactory.create(name="Logistics desk")


@pytest.fixture
def ticket_type(group: SkillGroup) -> TicketType:
    kind = TicketTypeFactory.create(name="Lost parcel", default_group=group)
    TicketFieldFactory.create(
        ticket_type=kind,
        key="order_no",
        label="Order",
        kind=TicketField.Kind.ORDER_NO,
        required=True,
    )
    TicketFieldFactory.create(
        ticket_type=kind, key="amount", label="Amount", kind=TicketField.Kind.AMOUNT
    )
    TicketFieldFactory.create(
        ticket_type=kind,
        key="carrier",
        label="Carrier",
        kind=TicketField.Kind.CHOICE,
        options="SF Express\nYTO\nZTO",
    )
    TicketFieldFactory.create(
        ticket_type=kind, key="since", label="Since", kind=TicketField.Kind.DATE
    )
    TicketFieldFactory.create(
        ticket_type=kind, key="boxes", label="Boxes", kind=TicketField.Kind.NUMBER
    )
    return kind


@pytest.fixture
def chat_type(db) -> TicketType:
    """A platform type that asks nothing extra: the default for tickets from a chat."""
    return TicketTypeFactory.create(name="Follow-up", default_group=SkillGroupFactory.create())
