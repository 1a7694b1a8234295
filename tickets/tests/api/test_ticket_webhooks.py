"""Ticket events reach webhook endpoints: platform endpoints every shop's, a merchant's
endpoint only its shop's; a rolled-back change emits nothing; the payload is stable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from integrations.models import WebhookDelivery
from integrations.tests.factories import WebhookEndpointFactory
from integrations.webhook_events import WEBHOOK_EVENTS
from tickets.models import Ticket
from tickets.services import content, lifecycle, notifications, sla
from tickets.services.errors import StaleTicketError
from tickets.tests.conftest import member
from tickets.tests.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db

TICKET_EVENTS = [
    "ticket.created",
    "ticket.updated",
    "ticket.assigned",
    "ticket.forwarded",
    "ticket.resolved",
    "ticket.closed",
    "ticket.reopened",
    "ticket.commented",
]


def events(endpoint) -> list[str]:
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .order_by("pk")
        .values_list("event_type", flat=True)
    )


def test_every_ticket_event_is_registered():
    assert set(TICKET_EVENTS) <= set(WEBHOOK_EVENTS)


# --- every ticket.* event of the registry has an emitter, proven here ------------------------
# One situation per event: what a person (or the sweep) does that must emit it. A new
# ticket.* event in integrations/webhook_events.py fails test_each_registered_ticket_event
# until its emitter exists in tickets/services and its situation is written here.


def _resolved(ticket: Ticket, agent) -> Ticket:
    lifecycle.ticket_accept(ticket=ticket, actor=agent)
    return lifecycle.ticket_resolve(ticket=ticket, actor=agent, note="Found")


def _sla_check(ticket: Ticket, *, minutes: int) -> None:
    # The policy answers first within 60 minutes and reminds 30 before (around the clock).
    sla.ticket_sla_check(ticket_id=ticket.pk, now=ticket.created_at + timedelta(minutes=minutes))


SITUATIONS: dict[str, Callable[..., object]] = {
    "ticket.created": lambda ticket, agent, other_desk: ticket,
    "ticket.updated": lambda ticket, agent, other_desk: content.ticket_update(
        ticket=ticket, actor=agent, title="Lost twice"
    ),
    "ticket.assigned": lambda ticket, agent, other_desk: lifecycle.ticket_accept(
        ticket=ticket, actor=agent
    ),
    "ticket.commented": lambda ticket, agent, other_desk: content.ticket_comment(
        ticket=ticket, actor=agent, text="On it"
    ),
    "ticket.forwarded": lambda ticket, agent, other_desk: lifecycle.ticket_forward(
        ticket=ticket, to_group=other_desk, actor=agent, note="Refund it"
    ),
    "ticket.resolved": lambda ticket, agent, other_desk: _resolved(ticket, agent),
    "ticket.closed": lambda ticket, agent, other_desk: lifecycle.ticket_close(
        ticket=_resolved(ticket, agent), actor=agent
    ),
    "ticket.reopened": lambda ticket, agent, other_desk: lifecycle.ticket_reopen(
        ticket=_resolved(ticket, agent), actor=agent, note="Not found after all"
    ),
    "ticket.sla_warning": lambda ticket, agent, other_desk: _sla_check(ticket, minutes=40),
    "ticket.sla_breached": lambda ticket, agent, other_desk: _sla_check(ticket, minutes=61),
}
REGISTERED = sorted(name for name in WEBHOOK_EVENTS if name.startswith("ticket."))


def test_every_situation_is_a_registered_event():
    assert set(SITUATIONS) == set(REGISTERED)


@pytest.mark.parametrize("event", REGISTERED)
def test_each_registered_ticket_event_is_emitted(event, people, make_ticket, other_desk):
    assert event in SITUATIONS, f"{event} is registered but no test makes tickets emit it"
    SlaPolicyFactory.create(first_response_minutes=60, remind_before_minutes=30)
    endpoint = WebhookEndpointFactory.create(event_types=[event])
    ticket = make_ticket()
    SITUATIONS[event](ticket, people["agent"], other_desk)
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).last()
    assert delivery is not None, f"nothing emitted {event}"
    assert delivery.event_type == event
    assert delivery.payload["ticket"]["id"] == ticket.pk


def test_platform_endpoint_gets_every_shops_events_merchant_only_its_own(
    people, make_ticket, shop_a, shop_b, other_desk
):
    platform = WebhookEndpointFactory.create(event_types=TICKET_EVENTS)
    shop_a_hook = WebhookEndpointFactory.create(event_types=TICKET_EVENTS, shop=shop_a)
    shop_b_hook = WebhookEndpointFactory.create(event_types=TICKET_EVENTS, shop=shop_b)
    member(other_desk)
    agent = people["agent"]
    ticket = make_ticket()
    lifecycle.ticket_accept(ticket=ticket, actor=agent)
    content.ticket_comment(ticket=ticket, actor=agent, text="On it")
    content.ticket_update(ticket=ticket, actor=agent, title="Parcel lost twice")
    lifecycle.ticket_resolve(ticket=ticket, actor=agent, note="Found")
    lifecycle.ticket_close(ticket=ticket, actor=agent)
    lifecycle.ticket_reopen(ticket=ticket, actor=agent, note="Not found after all")
    lifecycle.ticket_forward(ticket=ticket, to_group=other_desk, actor=agent, note="Refund")
    expected = [
        "ticket.created",
        "ticket.assigned",
        "ticket.commented",
        "ticket.updated",
        "ticket.resolved",
        "ticket.closed",
        "ticket.reopened",
        "ticket.forwarded",
    ]
    assert events(platform) == expected
    assert events(shop_a_hook) == expected
    assert events(shop_b_hook) == []
    platform_ticket = lifecycle.ticket_create(
        ticket_type=ticket.ticket_type,
        title="Platform",
        submitter=None,
        answers={"order_no": "X1234"},
    )
    assert platform_ticket.shop_id is None
    assert events(platform)[-1] == "ticket.created"
    assert events(shop_a_hook) == expected


def test_payload_shape(people, make_ticket, shop_a):
    endpoint = WebhookEndpointFactory.create(event_types=["ticket.resolved"])
    agent = people["agent"]
    ticket = make_ticket(priority="high")
    lifecycle.ticket_accept(ticket=ticket, actor=agent)
    lifecycle.ticket_resolve(ticket=ticket, actor=agent, note="Refunded")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.event_shop_id == shop_a.pk
    data = delivery.payload
    assert set(data) == {"ticket", "node"}
    t = data["ticket"]
    assert t["id"] == ticket.pk
    assert t["status"] == "resolved"
    assert t["priority"] == "high"
    assert t["group"] == {"id": ticket.group_id, "name": ticket.group.name}
    assert t["assignee"]["username"] == agent.username
    assert t["shop"] == {"id": shop_a.pk, "code": shop_a.code}
    assert t["type"]["id"] == ticket.ticket_type_id
    assert t["order_no"] == ticket.order.order_no
    assert t["customer"]["id"] == ticket.customer_id
    assert t["version"] == Ticket.objects.get(pk=ticket.pk).version
    assert t["resolved_at"] and t["created_at"]
    node = data["node"]
    assert node["action"] == "resolve"
    assert node["comment"] == "Refunded"
    assert node["actor"]["id"] == agent.pk
    assert node["status"] == "resolved"


def test_a_rolled_back_transition_emits_nothing(people, make_ticket):
    endpoint = WebhookEndpointFactory.create(event_types=TICKET_EVENTS)
    ticket = make_ticket()
    before = events(endpoint)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        lifecycle.ticket_accept(ticket=ticket, actor=people["agent"])
        raise Boom
    assert events(endpoint) == before
    ticket.refresh_from_db()
    with pytest.raises(StaleTicketError):
        lifecycle.ticket_accept(ticket=ticket, actor=people["agent"], version=ticket.version - 1)
    assert events(endpoint) == before


def test_payload_is_not_built_when_nobody_listens(people, make_ticket, monkeypatch):
    """Without an active subscribed endpoint a transition costs one endpoint query, not
    the payload's lookups (type, group, shop, customer, order)."""
    WebhookEndpointFactory.create(event_types=["ticket.closed"])  # listens to something else
    WebhookEndpointFactory.create(event_types=["ticket.commented"], is_active=False)
    ticket = make_ticket()

    def refuse(*args, **kwargs):
        raise AssertionError("payload built with nobody listening")

    monkeypatch.setattr(notifications, "ticket_event_payload", refuse)
    fresh = Ticket.objects.get(pk=ticket.pk)  # nothing related loaded yet
    with CaptureQueriesContext(connection) as ctx:
        content.ticket_comment(ticket=fresh, actor=people["admin"], text="note")
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert sql.count('FROM "integrations_webhookendpoint"') == 1
    assert 'FROM "commerce_order"' not in sql and 'FROM "tickets_tickettype"' not in sql
