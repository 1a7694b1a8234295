"""Fixtures of the API and webhook tests: a platform group the agent works in, shop-A tickets."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import GroupMembership, SkillGroup, User
from agents.tests.factories import SkillGroupFactory
from commerce.tests.factories import OrderFactory
from tickets.models import Ticket, TicketType
from tickets.services.lifecycle import ticket_create


@pytest.fixture
def desk(ticket_type: TicketType, people: dict[str, User]) -> SkillGroup:
    """The type's platform group; the platform agent is a member, business staff not."""
    group = ticket_type.default_group
    assert group is not None
    GroupMembership.objects.create(group=group, user=people["agent"])
    return group


@pytest.fixture
def other_desk(db: Any) -> SkillGroup:
    return SkillGroupFactory.create(name="Refunds desk")


@pytest.fixture
def make_ticket(ticket_type: TicketType, desk: SkillGroup, shop_a: Any):
    """make_ticket() -> a new open ticket of shop A in the desk group."""
    counter = iter(range(1, 10_000))

    def make(**extra: Any) -> Ticket:
        n = next(counter)
        order = OrderFactory.create(shop=shop_a, order_no=f"BT{20261101000 + n}")
        return ticket_create(
            ticket_type=ticket_type,
            title=f"Parcel {n}",
            submitter=None,
            answers={"order_no": order.order_no},
            order=order,
            **extra,
        )

    return make
