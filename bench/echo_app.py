"""The floor for bench/chat_latency.py: a bare Channels echo over the Redis channel layer.

    uvicorn echo_app:application --app-dir bench ...   (chat_latency.py starts it for you)

Two websocket routes per conversation, /ws/customer/<conv>/ and /ws/agent/<conv>/. Both
consumers join the group "conv.<conv>"; every text frame a customer sends is group_sent
unchanged to that group, so it reaches the agent (and comes back to the customer, as a
real chat broadcast does). No database, no authentication, no Origin check, no parsing:
the cost of Channels + the channel layer + uvicorn's websockets and nothing else.

Configured from the environment (no Django project needed):
  BENCH_LAYER                 pubsub (RedisPubSubChannelLayer) or core (RedisChannelLayer)
  BENCH_REDIS_URL             default redis://127.0.0.1:6379/7
  BENCH_REDIS_MAX_CONNECTIONS redis-py async pool size (its default caps at 100)
  BENCH_LAYER_CAPACITY        RedisChannelLayer per-channel capacity (its default is 100)
  BENCH_PREFIX                the channel layer prefix (default bench-echo)
"""

from __future__ import annotations

import os

import django
from django.conf import settings

LAYERS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}
LAYER = os.environ.get("BENCH_LAYER", "pubsub")
PREFIX = os.environ.get("BENCH_PREFIX", "bench-echo")
if LAYER not in LAYERS:
    raise SystemExit(f"BENCH_LAYER must be one of {', '.join(LAYERS)}, got {LAYER!r}")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
MAX_CONNECTIONS = int(os.environ.get("BENCH_REDIS_MAX_CONNECTIONS", "1000"))

layer_config: dict[str, object] = {
    "hosts": [{"address": REDIS_URL, "max_connections": MAX_CONNECTIONS}],
    "prefix": PREFIX,
}
if LAYER == "core":
    layer_config["capacity"] = int(os.environ.get("BENCH_LAYER_CAPACITY", "100"))

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-echo-" + "x" * 50,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={"default": {"BACKEND": LAYERS[LAYER], "CONFIG": layer_config}},
        USE_TZ=True,
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class EchoConsumer(AsyncWebsocketConsumer):
    """Joins its conversation's group; a customer's frames are group_sent verbatim."""

    group = ""

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        self.role = kwargs["role"]
        self.group = f"conv.{int(kwargs['conv'])}"
        assert self.channel_layer is not None
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group and self.channel_layer is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.role != "customer" or text_data is None or self.channel_layer is None:
            return
        await self.channel_layer.group_send(self.group, {"type": "chat.message", "text": text_data})

    async def chat_message(self, event: dict[str, str]) -> None:
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {
        "websocket": URLRouter(
            [path("ws/<str:role>/<int:conv>/", EchoConsumer.as_asgi())],
        ),
    }
)
