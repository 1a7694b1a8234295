"""The one helper that rings websocket doorbells.

The database is the record; a broadcast only tells clients that something changed so
they re-read it. Broadcasts are sent after the surrounding transaction commits (Zulip's
send_event_on_commit): a rolled-back change never reaches a browser, and a client that
reacts to the doorbell always finds the committed row. Only services call this.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# Channels allows ASCII letters, digits, hyphens, underscores and periods, under 100 chars.
_GROUP_NAME = re.compile(r"^[A-Za-z0-9._-]{1,99}$")


def _send(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        # A lost doorbell is recoverable (clients re-read on reconnect); a failed commit
        # hook must not turn a saved change into a 500 for the user who made it.
        logger.exception("broadcast to %s failed", group)


def broadcast_on_commit(group: str, event: dict[str, Any]) -> None:
    if not _GROUP_NAME.match(group):
        raise ValueError(f"invalid channel group name: {group!r}")
    if "type" not in event:
        raise ValueError("a channel-layer event needs a 'type'")
    transaction.on_commit(lambda: _send(group, event))
