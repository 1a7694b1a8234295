"""Database calls from websocket consumers.

`db(fn)` runs a sync function (a service or selector call) off the event loop and then
sends the doorbells it committed from the loop itself (core.realtime.collected_broadcasts).

With settings.CHAT_DB_THREAD_POOL the calls run on a pool of CHAT_DB_THREADS threads,
each keeping its own connection, instead of queueing behind Django's one thread-sensitive
worker (or the loop's default executor, which has only CPUs + 4 threads). Channels'
database_sync_to_async checks a connection's age and health around every call; at chat
rates that is a `SELECT 1` per message, so the pool checks each thread's connection at
most once a second, and at once after a database error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

from core.realtime import collected_broadcasts, send_collected

T = TypeVar("T")

HYGIENE_INTERVAL = 5.0

_pool: ThreadPoolExecutor | None = None
_local = threading.local()


def _connection_hygiene() -> None:
    now = time.monotonic()
    errors = any(conn.errors_occurred for conn in connections.all(initialized_only=True))
    if errors or now >= getattr(_local, "next_check", 0.0):
        close_old_connections()
        _local.next_check = now + HYGIENE_INTERVAL


def _pooled(fn: Callable[..., T]) -> Callable[..., T]:
    def run(*args: Any, **kwargs: Any) -> T:
        _connection_hygiene()
        return fn(*args, **kwargs)

    return run


def db(fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    def collecting(outbox_box: list[Any], *args: Any, **kwargs: Any) -> T:
        with collected_broadcasts() as outbox:
            outbox_box.append(outbox)
            return fn(*args, **kwargs)

    global _pool
    if settings.CHAT_DB_THREAD_POOL:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=settings.CHAT_DB_THREADS, thread_name_prefix="chat-db"
            )
        call: Callable[..., Awaitable[T]] = SyncToAsync(
            _pooled(collecting), thread_sensitive=False, executor=_pool
        )
    else:
        call = database_sync_to_async(collecting)

    async def run(*args: Any, **kwargs: Any) -> T:
        box: list[Any] = []
        try:
            return await call(box, *args, **kwargs)
        finally:
            # Doorbells of what committed are sent even when the call raised afterwards.
            if box:
                await send_collected(box[0])

    return run
