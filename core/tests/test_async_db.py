"""core.async_db: doorbells of a consumer's database call are sent from the loop after
commit (also when the call fails afterwards, never for a rolled-back change), and the
chat thread pool keeps a connection per thread and replaces it after a database error."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, connections, transaction

from core import async_db
from core.realtime import broadcast_on_commit

pytestmark = pytest.mark.django_db(transaction=True)


def _stop_pool() -> None:
    pool = async_db._pool
    if pool is not None:
        # The pool's one thread closes its connection, or it would outlive the test.
        pool.submit(connections.close_all).result()
        pool.shutdown(wait=True)
        async_db._pool = None


@pytest.fixture(params=[False, True], ids=["django-thread", "chat-pool"])
def pool(request, settings):
    _stop_pool()
    settings.CHAT_DB_THREAD_POOL = request.param
    settings.CHAT_DB_THREADS = 1
    yield request.param
    _stop_pool()


def _ring(text: str) -> None:
    with transaction.atomic():
        broadcast_on_commit("t.room", {"type": "t.note", "text": text})


def _ring_then_fail() -> None:
    _ring("committed")
    with transaction.atomic():
        broadcast_on_commit("t.room", {"type": "t.note", "text": "rolled back"})
        raise RuntimeError("boom")


def _ring_built() -> None:
    broadcast_on_commit("t.room", lambda: {"type": "t.note", "text": "built"})


def test_committed_doorbells_are_sent_by_the_caller_in_order(pool):
    layer = get_channel_layer()

    async def go() -> list[str]:
        channel = await layer.new_channel()
        await layer.group_add("t.room", channel)
        await async_db.db(_ring)("first")
        with pytest.raises(RuntimeError):
            await async_db.db(_ring_then_fail)()
        await async_db.db(_ring_built)()
        heard: list[str] = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=0.3)
            except TimeoutError:
                return heard
            heard.append(message["text"])

    assert async_to_sync(go)() == ["first", "committed", "built"]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


@pytest.mark.postgres
@pytest.mark.parametrize("pool", [True], indirect=True)
def test_pool_thread_replaces_its_connection_after_it_died(pool):
    call = async_db.db(_backend_pid)
    first = async_to_sync(call)()
    assert async_to_sync(call)() == first  # one thread, one kept connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])

    async def after_kill() -> int:
        # The first call on the dead connection fails and Django marks the error; the
        # next call is checked before use and gets a fresh connection.
        with pytest.raises(Exception, match=r"terminat|closed|connection"):
            await call()
        return await call()

    again = async_to_sync(after_kill)()
    assert again != first


def _slow_ring() -> None:
    import time

    time.sleep(0.3)
    _ring("after the caller left")


def test_a_call_whose_socket_went_away_still_announces_what_it_committed(pool):
    layer = get_channel_layer()

    async def go() -> list[str]:
        channel = await layer.new_channel()
        await layer.group_add("t.room", channel)
        caller = asyncio.ensure_future(async_db.db(_slow_ring)())
        await asyncio.sleep(0.05)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        message = await asyncio.wait_for(layer.receive(channel), timeout=3)
        return [message["text"]]

    assert async_to_sync(go)() == ["after the caller left"]
