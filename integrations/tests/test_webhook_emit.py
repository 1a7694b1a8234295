"""webhook_emit: who gets which event, inside the caller's transaction."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from integrations.models import WebhookDelivery
from integrations.services import webhook_emit
from integrations.tests.factories import WebhookAllowedHostFactory, WebhookEndpointFactory
from integrations.tests.receiver import receiver

pytestmark = pytest.mark.django_db


def test_only_active_subscribed_endpoints_get_a_delivery(django_capture_on_commit_callbacks):
    wants = WebhookEndpointFactory.create(event_types=["ticket.closed"])
    WebhookEndpointFactory.create(event_types=["ticket.created"])
    WebhookEndpointFactory.create(event_types=["ticket.closed"], is_active=False)
    with django_capture_on_commit_callbacks() as callbacks:
        deliveries = webhook_emit(event_type="ticket.closed", payload={"id": 1}, shop_id=None)
    assert [d.endpoint_id for d in deliveries] == [wants.pk]
    assert len(callbacks) == 1  # one task, enqueued on commit


def test_merchant_endpoint_receives_only_its_own_shops_events(shop_a, shop_b):
    platform = WebhookEndpointFactory.create(shop=None)
    mine = WebhookEndpointFactory.create(shop=shop_a)
    theirs = WebhookEndpointFactory.create(shop=shop_b)
    a = webhook_emit(event_type="ticket.created", payload={}, shop_id=shop_a.pk)
    b = webhook_emit(event_type="ticket.created", payload={}, shop_id=shop_b.pk)
    none = webhook_emit(event_type="ticket.created", payload={}, shop_id=None)
    assert {d.endpoint_id for d in a} == {platform.pk, mine.pk}
    assert {d.endpoint_id for d in b} == {platform.pk, theirs.pk}
    assert {d.endpoint_id for d in none} == {platform.pk}
    assert len({d.event_id for d in a}) == 1  # one event id shared by its deliveries


def test_merchant_receiver_never_hears_another_shops_event(
    shop_a, shop_b, django_capture_on_commit_callbacks
):
    WebhookAllowedHostFactory.create(host="127.0.0.1")
    with receiver() as ra, receiver() as rb:
        WebhookEndpointFactory.create(shop=shop_a, url=ra.url)
        WebhookEndpointFactory.create(shop=shop_b, url=rb.url)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_emit(event_type="ticket.created", payload={"n": 1}, shop_id=shop_a.pk)
    assert len(ra.requests) == 1
    assert json.loads(ra.requests[0].body)["shop_id"] == shop_a.pk
    assert rb.requests == []


def test_a_rolled_back_transaction_leaves_no_delivery_and_no_task(
    django_capture_on_commit_callbacks,
):
    WebhookEndpointFactory.create()
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        webhook_emit(event_type="ticket.created", payload={}, shop_id=None)
        raise RuntimeError("the ticket change failed")
    assert WebhookDelivery.objects.count() == 0
    assert callbacks == []


def test_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhook_emit(event_type="ticket.creatd", payload={}, shop_id=None)


def test_payload_is_stored_as_plain_json():
    WebhookEndpointFactory.create()
    [d] = webhook_emit(
        event_type="ticket.created",
        payload={"amount": Decimal("12.50"), "at": datetime(2026, 11, 24, 8, 0)},
        shop_id=None,
    )
    d.refresh_from_db()
    assert d.payload == {"amount": "12.50", "at": "2026-11-24T08:00:00"}
