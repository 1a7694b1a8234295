"""The floor: bench/echo_app.py (a bare Channels echo, no Django project) under uvicorn."""

from __future__ import annotations

import json
import os
from typing import Any

import redis
from common import ROOT, VAR, server_process, uvicorn_cmd

from .target import BENCH, ChatTarget, Pair, ws_connect, ws_server_flags


class EchoTarget(ChatTarget):
    """bench/echo_app.py under uvicorn with one of the two Redis channel layers."""

    def __init__(
        self, layer: str, redis_url: str, max_connections: int, capacity: int, ws_ping: float
    ) -> None:
        self.layer = layer
        self.ws_ping = ws_ping
        self.redis_url = redis_url
        self.max_connections = max_connections
        self.capacity = capacity
        self.name = f"echo-{layer}"
        cls = "RedisPubSubChannelLayer" if layer == "pubsub" else "RedisChannelLayer"
        extra = f", capacity {capacity}" if layer == "core" else ""
        self.description = (
            f"bare Channels echo, {cls} (redis pool max_connections {max_connections}{extra}), "
            f"uvicorn 1 process, uvloop, websockets, per-message-deflate off, ws ping {ws_ping:g} s"
        )

    def serve(self, port: int) -> Any:
        env = {
            **os.environ,
            "BENCH_LAYER": self.layer,
            "BENCH_REDIS_URL": self.redis_url,
            "BENCH_REDIS_MAX_CONNECTIONS": str(self.max_connections),
            "BENCH_LAYER_CAPACITY": str(self.capacity),
        }
        cmd = uvicorn_cmd(
            "echo_app:application", port, *ws_server_flags(self.ws_ping), app_dir=BENCH
        )
        return server_process(
            cmd, port=port, env=env, cwd=ROOT, log=VAR / f"chat-{self.name}-server.log"
        )

    def before_run(self, pairs: int) -> None:
        # A clean Redis database per run: nothing left over from an earlier step.
        redis.Redis.from_url(self.redis_url).flushdb()

    async def open_pair(self, base: str, index: int) -> Pair:
        agent = await ws_connect(f"{base}/ws/agent/{index}/")
        customer = await ws_connect(f"{base}/ws/customer/{index}/")
        return Pair(index, customer, agent)

    def customer_frame(self, msg_id: str, sent_at: float) -> str:
        return json.dumps({"type": "message", "id": msg_id, "t": sent_at, "text": "hello"})

    def agent_message_id(self, frame: str | bytes) -> str | None:
        data = json.loads(frame)
        return data.get("id") if data.get("type") == "message" else None
