"""The seat board socket: who may listen, and that a seat change rings it after commit."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings as dj_settings
from django.test import Client

from agents.services import agent_set_state
from config.asgi import application
from core.layer_watch import current_watch

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/ws/monitoring/seats/"


def _headers(user=None, origin="http://127.0.0.1"):
    headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1")]
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[dj_settings.SESSION_COOKIE_NAME].value
        headers.append((b"cookie", f"{dj_settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return headers


async def _connect(headers):
    communicator = WebsocketCommunicator(application, PATH, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def _refused_with(headers):
    """Refusals come after the handshake (docs/realtime.md), as a close frame with a code."""
    communicator, connected, _code = await _connect(headers)
    assert connected
    message = await communicator.receive_output(timeout=5)
    return message["type"], message.get("code")


def test_anonymous_is_closed_with_4401(db):
    headers = _headers()

    async def run():
        assert await _refused_with(headers) == ("websocket.close", 4401)

    async_to_sync(run)()


def test_agent_without_monitoring_is_closed_with_4403(people):
    agent, merchant = _headers(people["agent"]), _headers(people["merchant_a"])

    async def run():
        assert await _refused_with(agent) == ("websocket.close", 4403)
        assert await _refused_with(merchant) == ("websocket.close", 4403)

    async_to_sync(run)()


def test_foreign_origin_is_refused(people):
    headers = _headers(people["supervisor"], origin="https://evil.example")

    async def run():
        _communicator, connected, _code = await _connect(headers)
        assert connected is False

    async_to_sync(run)()


def _ring_and_hear(people):
    headers = _headers(people["supervisor"])

    async def run():
        communicator, connected, _code = await _connect(headers)
        assert connected
        await database_sync_to_async(agent_set_state)(user=people["agent"], state="online")
        frame = await communicator.receive_json_from(timeout=5)
        assert frame == {"type": "seat.changed", "user_id": people["agent"].pk, "state": "online"}
        await communicator.send_json_to({"type": "anything"})
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "error",
            "code": "read_only",
        }
        await communicator.disconnect()

    async_to_sync(run)()


def test_supervisor_hears_a_seat_change(people):
    _ring_and_hear(people)


@pytest.mark.redis
def test_supervisor_hears_a_seat_change_over_redis(people, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"t{uuid.uuid4().hex[:8]}"},
        }
    }
    channel_layers.backends.clear()
    try:
        _ring_and_hear(people)
    finally:
        channel_layers.backends.clear()


def test_board_lists_seats_of_chatting_roles_only(people):
    from monitoring.selectors import seat_board_for

    names = {row.user_id for row in seat_board_for(user=people["supervisor"])}
    expected = {people[k].pk for k in ("supervisor", "agent", "merchant_a", "merchant_b")}
    assert names == expected


def test_the_board_is_told_to_resync_after_a_layer_outage(people):
    # core.layer_watch tells every registered socket when the layer is back
    # (workbench/tests/test_protocol_promises.py cuts a real Redis for the whole path).
    headers = _headers(people["supervisor"])

    async def run():
        communicator, connected, _code = await _connect(headers)
        assert connected
        watch = current_watch()
        assert len(watch.sockets) == 1
        await watch.tell_sockets()
        assert await communicator.receive_json_from(timeout=5) == {"type": "resync"}
        await communicator.disconnect()
        assert len(watch.sockets) == 0

    async_to_sync(run)()
