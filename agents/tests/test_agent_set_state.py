import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.db import transaction

from agents.models import AgentProfile
from agents.services import SEAT_BOARD_GROUP, agent_set_state

pytestmark = pytest.mark.django_db(transaction=True)


def _listen():
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(SEAT_BOARD_GROUP, channel)
    return layer, channel


def _pending(layer, channel):
    import asyncio

    async def drain():
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), 0.05))
            except TimeoutError:
                return events

    return async_to_sync(drain)()


def test_state_change_is_saved_and_rung_after_commit(people):
    layer, channel = _listen()
    agent = people["agent"]
    before = AgentProfile.objects.get(user=agent).state_changed_at

    agent_set_state(user=agent, state="online")

    profile = AgentProfile.objects.get(user=agent)
    assert profile.state == "online" and profile.state_changed_at > before
    events = _pending(layer, channel)
    assert events == [{"type": "seat.changed", "user_id": agent.pk, "state": "online"}]


def test_rolled_back_change_rings_nothing(people):
    layer, channel = _listen()
    with pytest.raises(RuntimeError), transaction.atomic():
        agent_set_state(user=people["agent"], state="away")
        raise RuntimeError("boom")
    assert AgentProfile.objects.get(user=people["agent"]).state == "offline"
    assert _pending(layer, channel) == []


def test_same_state_again_changes_nothing(people):
    agent_set_state(user=people["agent"], state="online")
    first = AgentProfile.objects.get(user=people["agent"]).state_changed_at
    layer, channel = _listen()
    agent_set_state(user=people["agent"], state="online")
    assert AgentProfile.objects.get(user=people["agent"]).state_changed_at == first
    assert _pending(layer, channel) == []


def test_unknown_state_is_refused(people):
    with pytest.raises(ValidationError):
        agent_set_state(user=people["agent"], state="napping")
    assert AgentProfile.objects.get(user=people["agent"]).state == "offline"
