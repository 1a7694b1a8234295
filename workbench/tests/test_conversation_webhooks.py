"""Every non-ticket webhook event has its emitter in the workbench services, proved here."""

from __future__ import annotations

import pytest
from django.db import transaction

from integrations.models import WebhookDelivery
from integrations.tasks import webhook_deliver
from integrations.tests.factories import WebhookEndpointFactory
from integrations.webhook_events import WEBHOOK_EVENTS
from workbench.models import Conversation
from workbench.services.conversations import conversation_close
from workbench.services.messages import message_send
from workbench.tests.factories import IssueTypeFactory
from workbench.tests.helpers import make_channel, online_agent, start

pytestmark = pytest.mark.django_db


def _close(conversation, agent):
    conversation_close(
        conversation_id=conversation.pk,
        actor=agent,
        issue_type=IssueTypeFactory.create(name="Delivery"),
        summary="Parcel found",
    )


# The event, and a step that must emit it (given a held conversation and its agent).
EMITTERS = {"conversation.closed": _close}


def test_every_non_ticket_event_has_an_emitter_here():
    assert {e for e in WEBHOOK_EVENTS if not e.startswith("ticket.")} == set(EMITTERS)


@pytest.fixture
def held(shop_a):
    channel = make_channel(shop=shop_a, greeting="")
    agent = online_agent(channel.default_group)
    conversation = start(channel)
    if Conversation.objects.get(pk=conversation.pk).agent_id is None:
        from workbench.services.conversations import conversation_accept

        conversation_accept(conversation_id=conversation.pk, agent=agent)
    message_send(conversation_id=conversation.pk, sender="customer", client_id="c", text="hi")
    conversation.refresh_from_db()
    return conversation, agent


@pytest.mark.parametrize("event", sorted(EMITTERS))
def test_event_is_recorded_and_sent_after_commit(event, held, django_capture_on_commit_callbacks):
    conversation, agent = held
    WebhookEndpointFactory.create(event_types=[event])
    with django_capture_on_commit_callbacks() as callbacks:
        EMITTERS[event](conversation, agent)
    [delivery] = WebhookDelivery.objects.filter(event_type=event)
    assert delivery.event_shop_id == conversation.shop_id
    # Recorded in the step's transaction; the sending task is enqueued on commit.
    assert any(getattr(c, "func", None) == webhook_deliver.delay for c in callbacks)


def test_conversation_closed_payload(held, shop_a):
    conversation, agent = held
    WebhookEndpointFactory.create(event_types=["conversation.closed"], shop=shop_a)
    _close(conversation, agent)
    [delivery] = WebhookDelivery.objects.all()
    data = delivery.payload
    conv = data["conversation"]
    assert conv["id"] == conversation.pk and conv["status"] == "closed"
    assert conv["shop"] == {"id": shop_a.pk, "code": shop_a.code}
    assert conv["agent"]["id"] == agent.pk and conv["messages"] == 1
    assert conv["closed_at"] is not None and conv["customer"] is None
    order = data["service_order"]
    assert order["issue_type"]["name"] == "Delivery" and order["summary"] == "Parcel found"
    assert order["customer_messages"] == 1
    assert data["actor"] == {
        "id": agent.pk,
        "username": agent.username,
        "display_name": agent.display_name,
    }


def test_a_refused_or_rolled_back_close_sends_nothing(held, people):
    conversation, agent = held
    WebhookEndpointFactory.create(event_types=["conversation.closed"])
    with pytest.raises(Exception, match="holding"):
        conversation_close(conversation_id=conversation.pk, actor=people["merchant_b"])
    with pytest.raises(RuntimeError), transaction.atomic():
        conversation_close(conversation_id=conversation.pk, actor=agent)
        raise RuntimeError("something after the close failed")
    assert WebhookDelivery.objects.count() == 0


def test_another_shops_endpoint_does_not_hear_it(held, shop_b):
    conversation, agent = held
    WebhookEndpointFactory.create(event_types=["conversation.closed"], shop=shop_b)
    _close(conversation, agent)
    assert WebhookDelivery.objects.count() == 0
