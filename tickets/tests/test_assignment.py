"""Who gets a ticket: on duty, least open work, order owner and earlier handler first,
held outside working hours, reassigned when untouched, overridden by supervisors."""

import pytest

from agents.models import AgentProfile
from agents.roles import Role
from agents.tests.factories import UserFactory
from commerce.tests.factories import OrderFactory
from tickets.models import Ticket, TicketNode
from tickets.services.assignment import ticket_assign, ticket_auto_assign, ticket_reassign_untouched
from tickets.services.errors import TicketPermissionError
from tickets.services.lifecycle import ticket_accept, ticket_create
from tickets.tasks import assign_waiting, reassign_untouched
from tickets.tests.conftest import member, office_calendar

pytestmark = pytest.mark.django_db
GOOD = {"order_no": "BT20261101001"}


def new_ticket(ticket_type, **kw):
    return ticket_create(ticket_type=ticket_type, title="x", submitter=None, answers=GOOD, **kw)


def test_least_open_tickets_wins_and_offline_is_skipped(ticket_type, group, clock):
    busy, free = member(group), member(group)
    member(group, state=AgentProfile.State.OFFLINE)
    for _ in range(2):
        t = new_ticket(ticket_type)
        Ticket.objects.filter(pk=t.pk).update(assignee=busy, status="in_progress")
    t = new_ticket(ticket_type)
    assert ticket_auto_assign(ticket_id=t.pk) == free


def test_away_counts_as_on_duty_but_online_breaks_ties(ticket_type, group, clock):
    away = member(group, state=AgentProfile.State.AWAY)
    online = member(group)
    assert ticket_auto_assign(ticket_id=new_ticket(ticket_type).pk) == online
    AgentProfile.objects.filter(user=online).update(state="offline")
    assert ticket_auto_assign(ticket_id=new_ticket(ticket_type).pk) == away


def test_nobody_on_duty_leaves_it_in_the_queue(ticket_type, group, clock):
    member(group, state=AgentProfile.State.OFFLINE)
    t = new_ticket(ticket_type)
    assert ticket_auto_assign(ticket_id=t.pk) is None
    t.refresh_from_db()
    assert t.status == Ticket.Status.NEW and t.assignee is None


def test_order_owner_gets_it_first(ticket_type, group, clock, shop_a):
    member(group)
    owner = member(group)
    for _ in range(3):
        t = new_ticket(ticket_type)
        Ticket.objects.filter(pk=t.pk).update(assignee=owner, status="in_progress")
    order = OrderFactory.create(shop=shop_a, owner=owner)
    assert ticket_auto_assign(ticket_id=new_ticket(ticket_type, order=order).pk) == owner


def test_earlier_handler_of_the_same_order_gets_it(ticket_type, group, clock, shop_a):
    member(group)
    earlier = member(group)
    order = OrderFactory.create(shop=shop_a)
    first = new_ticket(ticket_type, order=order)
    Ticket.objects.filter(pk=first.pk).update(assignee=earlier, status="resolved")
    t = new_ticket(ticket_type)  # unrelated load for the other member stays equal
    Ticket.objects.filter(pk=t.pk).update(assignee=earlier, status="in_progress")
    assert ticket_auto_assign(ticket_id=new_ticket(ticket_type, order=order).pk) == earlier


def test_owner_off_duty_falls_back_to_least_load(ticket_type, group, clock, shop_a):
    other = member(group)
    owner = member(group, state=AgentProfile.State.OFFLINE)
    order = OrderFactory.create(shop=shop_a, owner=owner)
    assert ticket_auto_assign(ticket_id=new_ticket(ticket_type, order=order).pk) == other


def test_running_twice_assigns_once(ticket_type, group, clock):
    member(group), member(group)
    t = new_ticket(ticket_type)
    first = ticket_auto_assign(ticket_id=t.pk)
    assert first is not None
    assert ticket_auto_assign(ticket_id=t.pk) is None
    assert t.nodes.filter(action=TicketNode.Action.ASSIGN).count() == 1


def test_held_outside_working_hours_and_assigned_when_work_starts(ticket_type, group, clock):
    office_calendar(group)
    person = member(group)
    clock.set(2025, 11, 7, 19, 0)  # Friday evening
    t = new_ticket(ticket_type)
    assert ticket_auto_assign(ticket_id=t.pk) is None
    t.refresh_from_db()
    assert t.status == Ticket.Status.WAITING_HOURS
    clock.set(2025, 11, 8, 10, 0)  # Saturday: still closed, no second node
    assign_waiting()
    assert t.nodes.filter(action=TicketNode.Action.HOLD_FOR_HOURS).count() == 1
    clock.set(2025, 11, 10, 9, 1)  # Monday morning
    assert assign_waiting() == 1
    t.refresh_from_db()
    assert (t.status, t.assignee) == (Ticket.Status.ASSIGNED, person)


def test_untouched_ticket_is_reassigned_after_the_groups_time(ticket_type, group, clock):
    office_calendar(group, reassign_after=30)
    first, second = member(group), member(group)
    clock.set(2025, 11, 3, 17, 50)
    t = new_ticket(ticket_type)
    assert ticket_auto_assign(ticket_id=t.pk) == first
    clock.set(2025, 11, 4, 9, 10)  # 10 + 10 business minutes: not yet
    assert reassign_untouched() == 0
    clock.set(2025, 11, 4, 9, 25)  # 35 business minutes
    assert reassign_untouched() == 1
    t.refresh_from_db()
    assert t.assignee == second
    assert t.nodes.filter(action=TicketNode.Action.REASSIGN, actor=None).count() == 1
    assert ticket_reassign_untouched(ticket_id=t.pk) is None  # just reassigned: untouched 0 min


def test_accepted_ticket_is_not_reassigned(ticket_type, group, clock):
    office_calendar(group, reassign_after=30)
    first = member(group)
    member(group)
    t = new_ticket(ticket_type)
    ticket_auto_assign(ticket_id=t.pk)
    ticket_accept(ticket=Ticket.objects.get(pk=t.pk), actor=first)
    clock.set(2025, 11, 5, 10, 0)
    assert reassign_untouched() == 0


def test_supervisor_and_lead_override_but_members_cannot(ticket_type, group, clock):
    plain = member(group)
    lead = member(group, lead=True)
    target = member(group)
    supervisor = UserFactory.create(role=Role.SUPERVISOR)
    t = new_ticket(ticket_type)
    with pytest.raises(TicketPermissionError):
        ticket_assign(ticket=t, assignee=target, actor=plain)
    ticket_assign(ticket=t, assignee=target, actor=lead)
    ticket_assign(ticket=t, assignee=plain, actor=supervisor, note="balance")
    assert t.assignee == plain
    assert list(
        t.nodes.filter(action__in=["assign", "reassign"]).values_list("action", flat=True)
    ) == [
        "assign",
        "reassign",
    ]


def test_business_staff_are_on_duty_without_a_seat_switch(ticket_type, group, clock):
    clerk = member(group, role=Role.BUSINESS_STAFF, state=AgentProfile.State.OFFLINE)
    member(group, state=AgentProfile.State.OFFLINE)
    assert ticket_auto_assign(ticket_id=new_ticket(ticket_type).pk) == clerk


def test_assign_waiting_skips_groups_nobody_can_serve_without_starving_others(
    ticket_type, group, clock
):
    from agents.tests.factories import SkillGroupFactory

    empty = SkillGroupFactory.create(name="Nobody on duty")
    member(empty, state=AgentProfile.State.OFFLINE)
    for _ in range(5):
        new_ticket(ticket_type, group=empty)
    served = new_ticket(ticket_type)
    person = member(group)
    assert assign_waiting() == 1
    served.refresh_from_db()
    assert served.assignee == person
    assert Ticket.objects.filter(group=empty, status="new").count() == 5
