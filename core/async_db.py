"""Database calls from websocket consumers.

`db(fn)` runs a sync function (a service or selector call) off the event loop and then
sends the doorbells it committed from the loop itself (core.realtime.collected_broadcasts).

With settings.CHAT_DB_THREAD_POOL the calls run on a pool of CHAT_DB_THREADS threads,
each keeping its own connection, instead of queueing behind Django's one thread-sensitive
worker (or the loop's default executor, which has only CPUs + 4 threads). The call is a
plain `run_in_executor` with the caller's context: asgiref's SyncToAsync machinery
(thread-sensitive bookkeeping, a wrapper object per call) is not needed for a pool whose
functions never call back into async code. Channels' database_sync_to_async also checks
a connection's age and health around every call, which at chat rates is a `SELECT 1` per
message: the pool checks each thread's connection every HYGIENE_INTERVAL seconds, and at
once after a database error.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

from core.realtime import Outbox, collected_broadcasts, send_collected

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


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(
            max_workers=settings.CHAT_DB_THREADS, thread_name_prefix="chat-db"
        )
    return _pool


_later: set[asyncio.Task[None]] = set()


def _send_when_done(outbox: Outbox) -> None:
    task = asyncio.get_running_loop().create_task(send_collected(outbox))
    _later.add(task)
    task.add_done_callback(_later.discard)


def db(fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    async def run(*args: Any, **kwargs: Any) -> T:
        outbox: Outbox = []

        def call() -> T:
            with collected_broadcasts(outbox):
                return fn(*args, **kwargs)

        def pooled() -> T:
            _connection_hygiene()
            return call()

        future: asyncio.Future[T]
        if settings.CHAT_DB_THREAD_POOL:
            context = contextvars.copy_context()
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(_get_pool(), context.run, pooled)
        else:
            future = asyncio.ensure_future(database_sync_to_async(call)())
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The socket went away while the call runs on (it cannot be stopped halfway):
            # what it commits is still announced, once it is done.
            future.add_done_callback(lambda _done: _send_when_done(outbox))
            raise
        finally:
            # Doorbells of what committed are sent even when the call raised afterwards.
            if future.done():
                await send_collected(outbox)

    return run
