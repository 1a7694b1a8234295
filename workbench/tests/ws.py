"""Websocket test helpers: communicators for visitors and signed-in agents."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings as dj_settings
from django.test import Client

from config.asgi import application

VISITOR_PATH = "/ws/chat/visitor/"
AGENT_PATH = "/ws/chat/agent/"


def headers(user=None, origin="http://127.0.0.1"):
    out = [(b"origin", origin.encode()), (b"host", b"127.0.0.1")]
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[dj_settings.SESSION_COOKIE_NAME].value
        out.append((b"cookie", f"{dj_settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return out


async def connect(path, hdrs):
    communicator = WebsocketCommunicator(application, path, headers=hdrs)
    connected, code = await communicator.connect(timeout=15)
    return communicator, connected, code


async def visitor(token, *, after_seq=None, conversation_id=None):
    communicator, connected, _code = await connect(VISITOR_PATH, headers())
    assert connected
    hello = {"type": "hello", "visitor_token": token}
    if after_seq is not None:
        hello["after_seq"] = after_seq
    if conversation_id is not None:
        hello["conversation_id"] = conversation_id
    await communicator.send_json_to(hello)
    welcome = await communicator.receive_json_from(timeout=15)
    assert welcome["type"] == "welcome", welcome
    return communicator, welcome


async def agent(hdrs):
    communicator, connected, code = await connect(AGENT_PATH, hdrs)
    assert connected, code
    welcome = await communicator.receive_json_from(timeout=15)
    assert welcome["type"] == "welcome"
    return communicator


async def until(communicator, kind, *, timeout=15, **match):
    """Read frames until one of `kind` (matching the given keys) arrives; return it."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


async def nothing_more(communicator, timeout=0.3):
    """True when no further frame arrives (the socket stays usable)."""
    return await communicator.receive_nothing(timeout=timeout)


def cid():
    return uuid.uuid4().hex


@contextmanager
def redis_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"t{uuid.uuid4().hex[:8]}"},
        }
    }
    channel_layers.backends.clear()
    try:
        yield
    finally:
        channel_layers.backends.clear()


def raw(text):
    return json.loads(text)
