"""SLA deadlines on the group's calendar, pauses, reminders and breaches sent once."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from agents.tests.factories import SkillGroupFactory
from tickets.models import SlaEvent, Ticket, TicketNode
from tickets.services.lifecycle import (
    ticket_accept,
    ticket_create,
    ticket_forward,
    ticket_hold,
    ticket_resume,
)
from tickets.services.notifications import sla_event_deliver
from tickets.tasks import sla_sweep
from tickets.tests.conftest import member, office_calendar
from tickets.tests.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
GOOD = {"order_no": "BT20261101001"}


def sh(*a: int) -> datetime:
    y, m, d, h, mi = (*a, 0)[:5]
    return datetime(y, m, d, h, mi, tzinfo=SH)


@pytest.fixture
def policy(ticket_type):
    # 2 business hours to first response, 16 to resolution, remind 30 minutes before.
    return SlaPolicyFactory.create(
        ticket_type=ticket_type, priority="high", first_response_minutes=120, resolution_minutes=960
    )


def make(ticket_type, priority="high"):
    return ticket_create(
        ticket_type=ticket_type, title="x", submitter=None, answers=GOOD, priority=priority
    )


def test_deadlines_follow_the_groups_calendar(ticket_type, group, policy, clock):
    office_calendar(group)
    clock.set(2025, 9, 30, 17, 0)  # the evening before National Day
    t = make(ticket_type)
    assert t.sla_policy == policy
    assert t.first_response_due == sh(2025, 10, 9, 10)
    # 16h = 1h on 09-30 + 7.5h on Thursday 10-09 + 7.5h on Friday 10-10.
    assert t.resolution_due == sh(2025, 10, 10, 18, 0)
    assert t.sla_due == t.first_response_due
    assert t.sla_warn_at == sh(2025, 10, 9, 9, 30)
    assert t.sla_state == "ok"


def test_most_specific_policy_wins(ticket_type, policy, clock):
    SlaPolicyFactory.create(ticket_type=None, priority="", first_response_minutes=5)
    assert make(ticket_type).sla_policy == policy
    assert make(ticket_type, priority="low").first_response_due is not None  # catch-all


def test_waiting_on_customer_pauses_the_clock(ticket_type, group, policy, clock):
    office_calendar(group)
    person = member(group)
    clock.set(2025, 11, 3, 9, 0)
    t = make(ticket_type)
    ticket_accept(ticket=t, actor=person)
    assert t.resolution_due == sh(2025, 11, 5, 10, 0)
    clock.set(2025, 11, 3, 11, 0)
    ticket_hold(ticket=t, actor=person, reason="customer")
    assert t.sla_state == "paused" and t.sla_due is None
    clock.set(2025, 11, 4, 10, 0)  # paused 1h + 4.5h + 1h = 6.5 business hours
    ticket_resume(ticket=t, actor=person)
    assert t.paused_seconds == 6.5 * 3600
    # Wednesday 10:00 + 6.5h = 2h before lunch + 4.5h after = Wednesday 18:00.
    assert t.resolution_due == sh(2025, 11, 5, 18, 0)


def test_third_party_hold_keeps_the_clock_running(ticket_type, group, policy, clock):
    person = member(group)
    t = make(ticket_type)
    ticket_accept(ticket=t, actor=person)
    due = t.resolution_due
    ticket_hold(ticket=t, actor=person, reason="third_party")
    assert t.sla_due == due and t.paused_at is None


def test_forward_moves_the_remaining_time_to_the_new_calendar(ticket_type, group, policy, clock):
    office_calendar(group)
    person = member(group)
    around_the_clock = SkillGroupFactory.create(name="Night desk")
    clock.set(2025, 11, 3, 17, 0)
    t = make(ticket_type)
    assert t.first_response_due == sh(2025, 11, 4, 10)
    clock.set(2025, 11, 3, 17, 30)  # 1.5 business hours left
    ticket_forward(ticket=t, to_group=around_the_clock, actor=person, note="urgent")
    assert t.first_response_due == sh(2025, 11, 3, 19, 0)


def test_reminder_then_breach_each_sent_once(
    ticket_type, group, policy, clock, django_capture_on_commit_callbacks
):
    office_calendar(group)
    holder = member(group)
    lead = member(group, lead=True)
    clock.set(2025, 11, 3, 9, 0)
    t = make(ticket_type)
    Ticket.objects.filter(pk=t.pk).update(assignee=holder, status="assigned")
    clock.set(2025, 11, 3, 10, 40)  # 20 minutes before the first-response deadline
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep() == 0  # run again: nothing new, nothing resent
    assert [m.to for m in mail.outbox] == [[holder.email]]
    clock.set(2025, 11, 3, 11, 5)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep() == 1
        assert sla_sweep() == 0
    assert len(mail.outbox) == 2
    assert sorted(mail.outbox[1].to) == sorted([holder.email, lead.email])
    assert "breached" in mail.outbox[1].subject
    assert f"/tickets/{t.pk}/" in mail.outbox[1].body  # a link to open it
    kinds = list(SlaEvent.objects.order_by("created_at").values_list("kind", flat=True))
    assert kinds == ["reminder", "breach"]
    t.refresh_from_db()
    assert t.sla_state == "breached"
    actions = set(t.nodes.values_list("action", flat=True))
    assert {TicketNode.Action.SLA_REMINDER, TicketNode.Action.SLA_BREACH} <= actions


def test_retried_delivery_sends_nothing_twice(ticket_type, group, policy, clock):
    holder = member(group)
    t = make(ticket_type)
    Ticket.objects.filter(pk=t.pk).update(assignee=holder, status="assigned")
    event = SlaEvent.objects.create(
        ticket=t, deadline_kind="first_response", deadline=t.first_response_due, kind="breach"
    )
    assert sla_event_deliver(event_id=event.pk) is True
    assert sla_event_deliver(event_id=event.pk) is False
    assert len(mail.outbox) == 1


def test_breach_reassigns_when_the_policy_says_so(ticket_type, group, policy, clock):
    policy.reassign_on_breach = True
    policy.save()
    holder = member(group)
    other = member(group)
    t = make(ticket_type)
    Ticket.objects.filter(pk=t.pk).update(assignee=holder, status="assigned")
    clock.set(2025, 11, 3, 12, 30)
    sla_sweep()
    t.refresh_from_db()
    assert t.assignee == other


def test_breach_live_event_goes_to_the_user_group(
    ticket_type, group, policy, clock, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    holder = member(group)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"user.{holder.pk}", channel)
    t = make(ticket_type)
    Ticket.objects.filter(pk=t.pk).update(assignee=holder, status="assigned")
    clock.set(2025, 11, 3, 12, 30)
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == "ticket.sla" and message["ticket"] == t.pk


def test_ticket_filed_inside_the_reminder_window_still_gets_its_reminder(
    ticket_type, group, clock, django_capture_on_commit_callbacks
):
    SlaPolicyFactory.create(
        ticket_type=ticket_type, first_response_minutes=20, remind_before_minutes=30
    )
    holder = member(group)
    t = make(ticket_type)
    Ticket.objects.filter(pk=t.pk).update(assignee=holder, status="assigned")
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep() == 1
    assert SlaEvent.objects.get().kind == "reminder"
    t.refresh_from_db()
    assert t.sla_check_at == t.first_response_due  # next look: the deadline itself


def test_a_shifted_deadline_is_a_new_deadline_with_its_own_reminder(
    ticket_type, group, policy, clock, django_capture_on_commit_callbacks
):
    office_calendar(group)
    person = member(group)
    clock.set(2025, 11, 3, 9, 0)
    t = make(ticket_type)
    ticket_accept(ticket=t, actor=person)  # first response met; resolution due Wed 10:00
    clock.set(2025, 11, 5, 9, 45)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep() == 1  # reminder for Wednesday 10:00
    ticket_hold(ticket=t, actor=person, reason="customer")
    clock.set(2025, 11, 5, 9, 55)
    assert sla_sweep() == 0  # paused: no clock, no breach
    clock.set(2025, 11, 6, 9, 0)
    ticket_resume(ticket=t, actor=person)
    # Held from Wed 09:45: 2h15m + 4h30m = 6h45m paused; Wed 10:00 + 6h45m = Thu 09:15.
    assert t.resolution_due == sh(2025, 11, 6, 9, 15)
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    events = list(SlaEvent.objects.order_by("created_at").values_list("kind", "deadline"))
    assert [k for k, _ in events] == ["reminder", "reminder"]
    assert events[0][1] != events[1][1]


def test_sla_state_filter_values(ticket_type, group, policy, clock):
    holder = member(group)
    t = make(ticket_type)
    Ticket.objects.filter(pk=t.pk).update(assignee=holder, status="assigned")
    t.refresh_from_db()
    assert t.sla_state == "ok"
    clock.set(2025, 11, 3, 11, 40)
    assert t.sla_state == "due_soon"
    clock.set(2025, 11, 3, 12, 1)
    assert t.sla_state == "breached"


def test_undelivered_event_left_by_a_dead_worker_is_sent_by_the_next_sweep(
    ticket_type, group, policy, clock, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    holder = member(group)
    t = make(ticket_type)
    Ticket.objects.filter(pk=t.pk).update(assignee=holder, status="assigned")
    # The row was recorded, then the worker died before delivering it.
    SlaEvent.objects.create(
        ticket=t,
        deadline_kind="first_response",
        deadline=t.first_response_due,
        kind="reminder",
        created_at=clock.now - timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    assert len(mail.outbox) == 1
    assert SlaEvent.objects.get().delivered_at is not None
    sla_sweep()
    assert len(mail.outbox) == 1


def test_reminder_for_an_unassigned_ticket_goes_to_the_leads(
    ticket_type, group, policy, clock, django_capture_on_commit_callbacks
):
    lead = member(group, lead=True)
    member(group)  # a plain member is not told
    make(ticket_type)
    clock.set(2025, 11, 3, 11, 40)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep() == 1
    assert [m.to for m in mail.outbox] == [[lead.email]]
