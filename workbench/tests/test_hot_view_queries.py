"""The workbench's hot views cost an exact, pinned number of queries
(workbench/tests/query_counts.json; KEFU_UPDATE_QUERY_COUNTS=1 records a deliberate change)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import GroupMembership
from tests.query_counts import assert_query_count
from workbench.models import Conversation
from workbench.services.conversations import (
    conversation_accept,
    conversation_close,
    conversation_start,
)
from workbench.services.messages import message_send
from workbench.services.visitors import visitor_open
from workbench.tests.helpers import make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(people, shop_a):
    """A merchant agent with conversations in every zone of the workbench: two waiting,
    two active (with messages both ways), one closed today."""
    agent = people["merchant_a"]
    channel = make_channel(shop=shop_a)
    GroupMembership.objects.create(group=channel.default_group, user=agent)
    conversations = [
        conversation_start(visitor=visitor_open(channel=channel).visitor) for _ in range(5)
    ]
    for n, conversation in enumerate(conversations[:3]):
        conversation_accept(conversation_id=conversation.pk, agent=agent)
        message_send(conversation_id=conversation.pk, sender="customer", client_id="c", text="?")
        message_send(
            conversation_id=conversation.pk,
            sender="agent",
            client_id="a",
            text=f"answer {n}",
            agent=agent,
        )
    conversation_close(conversation_id=conversations[2].pk, actor=agent)
    assert Conversation.objects.filter(status="queued").count() == 2
    client = Client()
    client.force_login(agent)
    return client, conversations[0]


def _pinned(name: str, client: Client, url: str) -> None:
    assert client.get(url).status_code == 200  # warm the per-process caches
    with assert_query_count(name):
        assert client.get(url).status_code == 200


def test_workbench_index(desk):
    client, _conversation = desk
    _pinned("workbench.index", client, reverse("workbench:index"))


def test_lists_api(desk):
    client, _conversation = desk
    _pinned("workbench.api_lists", client, reverse("workbench:api_lists"))


def test_conversation_api(desk):
    client, conversation = desk
    url = reverse("workbench:api_conversation", args=[conversation.pk])
    _pinned("workbench.api_conversation", client, url)
