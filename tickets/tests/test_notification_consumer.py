"""The personal ticket doorbell: who may listen, and that an SLA event rings only its user."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings as dj_settings
from django.test import Client

from config.asgi import application
from core.realtime import _send

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/ws/tickets/notifications/"


def _headers(user=None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[dj_settings.SESSION_COOKIE_NAME].value
        headers.append((b"cookie", f"{dj_settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return headers


def test_anonymous_is_closed_with_4401(db):
    async def run():
        communicator = WebsocketCommunicator(application, PATH, headers=_headers())
        # Refusals come after the handshake (docs/realtime.md), as a close frame with a code.
        assert await communicator.connect(timeout=5) == (True, None)
        message = await communicator.receive_output(timeout=5)
        assert (message["type"], message.get("code")) == ("websocket.close", 4401)

    async_to_sync(run)()


def test_events_reach_only_their_user(people):
    mine, other = _headers(people["business"]), _headers(people["agent"])
    me = people["business"].pk

    async def run():
        a = WebsocketCommunicator(application, PATH, headers=mine)
        b = WebsocketCommunicator(application, PATH, headers=other)
        assert (await a.connect(timeout=5))[0]
        assert (await b.connect(timeout=5))[0]
        from channels.db import database_sync_to_async

        await database_sync_to_async(_send)(
            f"user.{me}", {"type": "ticket.sla", "ticket": 7, "kind": "breach"}
        )
        assert await a.receive_json_from(timeout=5) == {
            "type": "ticket.sla",
            "ticket": 7,
            "kind": "breach",
        }
        assert await b.receive_nothing(timeout=0.3)
        await a.disconnect()
        await b.disconnect()

    async_to_sync(run)()
