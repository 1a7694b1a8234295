"""The one helper that rings websocket doorbells.

The database is the record; a broadcast only tells clients that something changed so
they re-read it. Broadcasts are sent after the surrounding transaction commits (Zulip's
send_event_on_commit): a rolled-back change never reaches a browser, and a client that
reacts to the doorbell always finds the committed row. Only services call this.

Inside `collected_broadcasts()` (a sync function run for a websocket consumer, see
core.async_db) committed doorbells are handed back to the caller instead of being sent
from the worker thread: the consumer sends them on its own event loop, sparing a
thread-to-loop round trip per doorbell.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from core.layer_watch import doorbell_lost

logger = logging.getLogger(__name__)

# Channels allows ASCII letters, digits, hyphens, underscores and periods, under 100 chars.
_GROUP_NAME = re.compile(r"^[A-Za-z0-9._-]{1,99}$")

Event = dict[str, Any]
Outbox = list[tuple[str, Event]]

_outbox: ContextVar[Outbox | None] = ContextVar("kefu_broadcast_outbox", default=None)


def _send(group: str, event: Event | Callable[[], Event]) -> None:
    try:
        # A factory builds the event after commit, so it reads committed state.
        payload = event() if callable(event) else event
    except Exception:
        logger.exception("building the broadcast to %s failed", group)
        return
    outbox = _outbox.get()
    if outbox is not None:
        outbox.append((group, payload))
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, payload)
    except Exception:
        # A lost doorbell is recoverable (clients re-read on reconnect, and are told to
        # resync when the layer is back: core.layer_watch); a failed commit hook must not
        # turn a saved change into a 500 for the user who made it.
        logger.exception("broadcast to %s failed", group)
        doorbell_lost()


def broadcast_on_commit(group: str, event: Event | Callable[[], Event]) -> None:
    """Send `event` (or what `event()` builds after commit) to a channel-layer group."""
    if not _GROUP_NAME.match(group):
        raise ValueError(f"invalid channel group name: {group!r}")
    if not callable(event) and "type" not in event:
        raise ValueError("a channel-layer event needs a 'type'")
    transaction.on_commit(lambda: _send(group, event))


@contextmanager
def collected_broadcasts(outbox: Outbox) -> Iterator[Outbox]:
    """Collect the doorbells committed inside this block into `outbox` instead of sending
    them; the caller sends them with `send_collected` (in order, after the block)."""
    token = _outbox.set(outbox)
    try:
        yield outbox
    finally:
        _outbox.reset(token)


async def send_collected(outbox: Outbox) -> None:
    if not outbox:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    for group, event in outbox:
        try:
            await layer.group_send(group, event)
        except Exception:
            logger.exception("broadcast to %s failed", group)
            doorbell_lost()
