"""The state machine, nodes, optimistic locking, and the customer hearing back."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from agents.tests.factories import SkillGroupFactory, UserFactory
from commerce.tests.factories import CustomerFactory
from tickets.models import Ticket, TicketNode
from tickets.services.content import ticket_comment, ticket_reply
from tickets.services.errors import InvalidTransitionError, StaleTicketError, TicketPermissionError
from tickets.services.lifecycle import (
    ticket_accept,
    ticket_close,
    ticket_create,
    ticket_forward,
    ticket_hold,
    ticket_reopen,
    ticket_resolve,
    ticket_resume,
)
from tickets.tests.conftest import member

pytestmark = pytest.mark.django_db
A = TicketNode.Action
GOOD = {"order_no": "BT20261101001"}


@pytest.fixture
def ticket(ticket_type, group, clock):
    return ticket_create(ticket_type=ticket_type, title="Parcel lost", submitter=None, answers=GOOD)


def test_full_life_through_three_groups(ticket, group, clock, django_capture_on_commit_callbacks):
    first = member(group)
    refunds = SkillGroupFactory.create(name="Refunds desk")
    complaints = SkillGroupFactory.create(name="Complaints")
    refunder = member(refunds)
    handler = member(complaints)
    ticket_accept(ticket=ticket, actor=first)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_forward(ticket=ticket, to_group=refunds, actor=first, note="Refund the parcel")
    ticket.refresh_from_db()
    assert (ticket.group, ticket.assignee, ticket.status) == (refunds, refunder, "assigned")
    ticket_accept(ticket=ticket, actor=refunder)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_forward(ticket=ticket, to_group=complaints, actor=refunder, note="Customer angry")
    ticket.refresh_from_db()
    assert ticket.assignee == handler
    ticket_accept(ticket=ticket, actor=handler)
    ticket_resolve(ticket=ticket, actor=handler, note="Refunded and apologised")
    ticket_close(ticket=ticket, actor=handler)
    ticket_reopen(ticket=ticket, actor=handler, note="Customer wrote again")
    assert ticket.status == Ticket.Status.IN_PROGRESS
    actions = list(ticket.nodes.values_list("action", "group__name"))
    assert [a for a, _ in actions] == [
        A.CREATE,
        A.ACCEPT,
        A.FORWARD,
        A.ASSIGN,
        A.ACCEPT,
        A.FORWARD,
        A.ASSIGN,
        A.ACCEPT,
        A.RESOLVE,
        A.CLOSE,
        A.REOPEN,
    ]
    assert actions[2][1] == "Refunds desk"  # the forward node records the group it went to


def test_invalid_transition_is_a_clear_error(ticket, group):
    person = member(group)
    with pytest.raises(InvalidTransitionError, match="cannot be"):
        ticket_close(ticket=ticket, actor=person)
    with pytest.raises(InvalidTransitionError):
        ticket_resume(ticket=ticket, actor=person)


def test_stale_version_is_refused_and_nothing_is_lost(ticket, group):
    alice, bob = member(group), member(group)
    seen_by_bob = ticket.version
    ticket_accept(ticket=ticket, actor=alice)  # Alice saves first
    bobs_copy = Ticket.objects.get(pk=ticket.pk)
    with pytest.raises(StaleTicketError, match="Someone else changed this ticket"):
        ticket_hold(ticket=bobs_copy, actor=bob, reason="customer", version=seen_by_bob)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.status == Ticket.Status.IN_PROGRESS and fresh.assignee == alice
    assert not fresh.nodes.filter(action=A.HOLD).exists()


def test_two_in_memory_copies_cannot_both_save(ticket, group):
    alice = member(group)
    one, two = Ticket.objects.get(pk=ticket.pk), Ticket.objects.get(pk=ticket.pk)
    ticket_accept(ticket=one, actor=alice)
    with pytest.raises(StaleTicketError):
        ticket_forward(ticket=two, to_group=SkillGroupFactory.create(), actor=alice, note="go")
    assert Ticket.objects.get(pk=ticket.pk).group == group


def test_outsider_cannot_work_the_ticket(ticket):
    with pytest.raises(TicketPermissionError):
        ticket_forward(
            ticket=ticket, to_group=SkillGroupFactory.create(), actor=UserFactory.create(), note="x"
        )


def test_forward_needs_a_note(ticket, group):
    with pytest.raises(ValidationError):
        ticket_forward(
            ticket=ticket, to_group=SkillGroupFactory.create(), actor=member(group), note=" "
        )


def test_comment_is_internal_and_reply_reaches_the_customer_by_email(
    ticket_type, group, django_capture_on_commit_callbacks
):
    customer = CustomerFactory.create(email="buyer@example.com")
    ticket = ticket_create(
        ticket_type=ticket_type, title="Where is it", submitter=None, answers=GOOD
    )
    ticket.customer = customer
    ticket.save(update_fields=["customer"])
    person = member(group)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_comment(ticket=ticket, actor=person, text="Checking with SF")
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, actor=person, text="We are on it")
        ticket_accept(ticket=ticket, actor=person)
        ticket_resolve(ticket=ticket, actor=person, note="Parcel found, arriving Friday")
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]] * 2
    assert "Parcel found" in mail.outbox[1].body
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


def test_hold_for_customer_then_resume(ticket, group):
    person = member(group)
    ticket_accept(ticket=ticket, actor=person)
    ticket_hold(ticket=ticket, actor=person, reason="customer")
    assert ticket.status == Ticket.Status.ON_HOLD
    ticket_resume(ticket=ticket, actor=person)
    assert ticket.status == Ticket.Status.IN_PROGRESS


def test_reopen_starts_a_fresh_resolution_clock(ticket_type, group, clock):
    from tickets.tests.factories import SlaPolicyFactory

    SlaPolicyFactory.create(first_response_minutes=60, resolution_minutes=120)
    person = member(group)
    t = ticket_create(ticket_type=ticket_type, title="x", submitter=None, answers=GOOD)
    ticket_accept(ticket=t, actor=person)
    ticket_resolve(ticket=t, actor=person, note="done")
    assert t.sla_due is None
    clock.set(2025, 11, 4, 10, 0)
    ticket_reopen(ticket=t, actor=person, note="not done")
    assert t.resolution_due == clock.set(2025, 11, 4, 12, 0)
    assert t.status == Ticket.Status.IN_PROGRESS and t.assignee == person


def test_timeline_says_how_long_each_step_sat(ticket, group, clock):
    from datetime import timedelta

    from tickets.selectors import timeline_for

    person = member(group)
    clock.set(2025, 11, 3, 10, 45)
    ticket_accept(ticket=ticket, actor=person)
    clock.set(2025, 11, 3, 12, 45)
    steps = timeline_for(ticket)
    assert [s.node.action for s in steps] == [A.CREATE, A.ACCEPT]
    assert steps[0].sat == timedelta(minutes=45)
    assert steps[1].sat == timedelta(hours=2)  # still open: sits until now


def test_watchers_hear_about_forward_and_resolve(ticket, group, django_capture_on_commit_callbacks):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from tickets.services.content import ticket_watch

    watcher = UserFactory.create()
    ticket_watch(ticket=ticket, user=watcher, watch=True)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"user.{watcher.pk}", channel)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_forward(
            ticket=ticket, to_group=SkillGroupFactory.create(), actor=member(group), note="go"
        )
    message = async_to_sync(layer.receive)(channel)
    assert message == {"type": "ticket.changed", "ticket": ticket.pk}


def test_who_had_it_sums_time_per_group_and_person(
    ticket, group, clock, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from tickets.selectors import holdings_from, timeline_for

    person = member(group)
    refunds = SkillGroupFactory.create(name="Refunds desk")
    clock.set(2025, 11, 3, 10, 30)
    ticket_accept(ticket=ticket, actor=person)
    clock.set(2025, 11, 3, 11, 30)
    ticket_comment(ticket=ticket, actor=person, text="checking")
    clock.set(2025, 11, 3, 12, 0)
    ticket_forward(ticket=ticket, to_group=refunds, actor=person, note="refund it")
    clock.set(2025, 11, 3, 14, 0)
    held = {(h.group, h.person): h.total for h in holdings_from(timeline_for(ticket))}
    assert held[("Logistics desk", "")] == timedelta(minutes=30)
    assert held[("Logistics desk", str(person))] == timedelta(hours=1, minutes=30)
    assert held[("Refunds desk", "")] == timedelta(hours=2)


def test_update_edits_fields_merges_answers_and_reapplies_the_sla(ticket_type, group, clock):
    from tickets.services.content import ticket_update
    from tickets.tests.factories import SlaPolicyFactory

    SlaPolicyFactory.create(ticket_type=ticket_type, priority="normal", first_response_minutes=240)
    SlaPolicyFactory.create(ticket_type=ticket_type, priority="urgent", first_response_minutes=30)
    person = member(group)
    t = ticket_create(
        ticket_type=ticket_type, title="x", submitter=None, answers={**GOOD, "carrier": "YTO"}
    )
    before = t.version
    ticket_update(
        ticket=t, actor=person, priority="urgent", answers={"carrier": None, "boxes": "3"}
    )
    assert t.version == before + 1
    assert t.answers == {"order_no": "BT20261101001", "boxes": 3}
    assert t.first_response_due == clock.set(2025, 11, 3, 10, 30)
    node = t.nodes.get(action=A.UPDATE)
    assert "priority" in node.comment and "answers" in node.comment
    with pytest.raises(ValidationError):
        ticket_update(ticket=t, actor=person, answers={"order_no": None})  # required
    with pytest.raises(StaleTicketError):
        ticket_update(ticket=Ticket.objects.get(pk=t.pk), actor=person, title="y", version=before)
    assert Ticket.objects.get(pk=t.pk).title == "x"
    assert ticket_update(ticket=t, actor=person, title="x") is t  # nothing changed: no node
    assert t.nodes.filter(action=A.UPDATE).count() == 1
