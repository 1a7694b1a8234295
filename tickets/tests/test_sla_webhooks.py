"""SLA reminders and breaches reach webhook endpoints once per deadline, scoped by shop."""

from __future__ import annotations

import pytest

from commerce.tests.factories import OrderFactory
from integrations.models import WebhookDelivery
from integrations.tests.factories import WebhookEndpointFactory
from tickets.models import SlaEvent, Ticket
from tickets.services import sla
from tickets.services.lifecycle import ticket_create
from tickets.tasks import sla_sweep
from tickets.tests.conftest import member, office_calendar
from tickets.tests.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db
SLA_EVENTS = ["ticket.sla_warning", "ticket.sla_breached"]


@pytest.fixture
def shop_ticket(ticket_type, group, shop_a, clock):
    SlaPolicyFactory.create(
        ticket_type=ticket_type, priority="high", first_response_minutes=120, resolution_minutes=960
    )
    office_calendar(group)
    holder = member(group)
    clock.set(2025, 11, 3, 9, 0)
    order = OrderFactory.create(shop=shop_a, order_no="BT20261101001")
    ticket = ticket_create(
        ticket_type=ticket_type,
        title="x",
        submitter=None,
        answers={"order_no": "BT20261101001"},
        order=order,
        priority="high",
    )
    Ticket.objects.filter(pk=ticket.pk).update(assignee=holder, status="assigned")
    return ticket


def sent(endpoint) -> list[tuple[str, dict]]:
    return [
        (d.event_type, d.payload)
        for d in WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    ]


def test_warning_then_breach_each_emitted_once_per_deadline(
    shop_ticket, shop_a, shop_b, clock, django_capture_on_commit_callbacks
):
    platform = WebhookEndpointFactory.create(event_types=SLA_EVENTS)
    mine = WebhookEndpointFactory.create(event_types=SLA_EVENTS, shop=shop_a)
    other = WebhookEndpointFactory.create(event_types=SLA_EVENTS, shop=shop_b)
    clock.set(2025, 11, 3, 10, 40)  # 20 minutes before the first-response deadline
    with django_capture_on_commit_callbacks(execute=False):
        assert sla_sweep() == 1
        assert sla_sweep() == 0  # a second sweep finds the event row: nothing again
        sla.ticket_sla_check(ticket_id=shop_ticket.pk)  # a retried check: nothing
    clock.set(2025, 11, 3, 11, 5)
    with django_capture_on_commit_callbacks(execute=False):
        assert sla_sweep() == 1
        assert sla_sweep() == 0
    for endpoint in (platform, mine):
        deliveries = sent(endpoint)
        assert [kind for kind, _ in deliveries] == SLA_EVENTS
        warning, breach = (data for _, data in deliveries)
        assert warning["ticket"]["id"] == shop_ticket.pk
        assert warning["node"]["action"] == "sla_reminder"
        assert breach["node"]["action"] == "sla_breach"
        assert warning["sla"]["deadline"] == breach["sla"]["deadline"] == "first_response"
        assert warning["sla"]["due"] == breach["sla"]["due"] is not None
        assert {warning["sla"]["event_id"], breach["sla"]["event_id"]} == set(
            SlaEvent.objects.values_list("pk", flat=True)
        )
    assert sent(other) == []  # another shop's endpoint hears nothing of this ticket


def test_no_sla_webhook_without_a_subscriber(
    shop_ticket, clock, django_capture_on_commit_callbacks
):
    other_events = WebhookEndpointFactory.create(event_types=["ticket.created"])
    clock.set(2025, 11, 3, 11, 5)
    with django_capture_on_commit_callbacks(execute=False):
        assert sla_sweep() == 1
    assert sent(other_events) == []
    assert SlaEvent.objects.filter(kind="breach").count() == 1
