"""Each web process watches its channel layer, so clients learn when pushes were lost.

The database is the record and a push is a doorbell (core.realtime). When the layer (Redis)
is away for a few seconds, sockets stay open and sends are still stored and acknowledged,
but every doorbell rung meanwhile is gone: a quiet conversation would never learn of a
message that arrived then. So, per process and event loop, while any socket is open:

- a ping goes through the layer to this process's own channel every
  `KEFU_LAYER_WATCH_SECONDS`; a ping that cannot be sent or does not come back in time
  marks the layer as down;
- a doorbell that could not be sent (core.realtime) marks it too, and also means other
  processes' sockets missed something;
- when a ping comes back after that, every socket of this process is told `resync`, and
  if this process lost doorbells of its own it asks every process to do the same (a
  `resync` broadcast through the layer, now that it works again).

A socket is told at most once per `RESYNC_MIN_GAP` seconds. The answer to `resync` is the
client's: a `sync` (docs/realtime.md). The clients also sync on their own every few
minutes, which covers an outage short enough to fall between two pings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

# Every process's watcher listens here for "resync everyone".
RESYNC_GROUP = "kefu.resync"
RESYNC_MIN_GAP = 2.0


class Resyncable(Protocol):
    async def resync(self) -> None: ...


class LayerWatch:
    """The watcher of one event loop (one per web process in production)."""

    def __init__(self) -> None:
        self.sockets: weakref.WeakSet[Any] = weakref.WeakSet()
        self.down = False
        self.lost_doorbells = False
        self.pings_answered = 0
        self.resyncs_sent = 0
        self._last_resync = 0.0
        self._task: asyncio.Task[None] | None = None
        self._pong: asyncio.Event | None = None

    @property
    def interval(self) -> float:
        return float(getattr(settings, "KEFU_LAYER_WATCH_SECONDS", 5))

    def add(self, socket: Resyncable) -> None:
        self.sockets.add(socket)
        if (self._task is None or self._task.done()) and self.interval > 0:
            self._task = asyncio.ensure_future(self._run())

    def discard(self, socket: Resyncable) -> None:
        self.sockets.discard(socket)
        if not self.sockets and self._task is not None:
            # No socket left to tell: stop pinging (an event loop of a test, or a quiet
            # process, is left with no task behind).
            self._task.cancel()
            self._task = None

    def doorbell_lost(self) -> None:
        self.down = True
        self.lost_doorbells = True

    async def _run(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        channel = await layer.new_channel("kefu-watch.")
        receiver = asyncio.ensure_future(self._receive(layer, channel))
        try:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(layer.group_add(RESYNC_GROUP, channel), self.interval)
            while True:
                await asyncio.sleep(self.interval)
                if await self._ping(layer, channel):
                    await self._recovered(layer)
                elif not self.down:
                    logger.warning("channel layer unreachable; clients will be told to resync")
                    self.down = True
        finally:
            receiver.cancel()
            with contextlib.suppress(Exception):
                await layer.group_discard(RESYNC_GROUP, channel)

    async def _receive(self, layer: Any, channel: str) -> None:
        while True:
            try:
                event = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(self.interval)
                continue
            kind = event.get("type")
            if kind == "watch.ping" and self._pong is not None:
                self._pong.set()
            elif kind == "watch.resync":
                await self.tell_sockets()

    async def _ping(self, layer: Any, channel: str) -> bool:
        self._pong = asyncio.Event()
        try:
            await asyncio.wait_for(layer.send(channel, {"type": "watch.ping"}), self.interval)
            await asyncio.wait_for(self._pong.wait(), self.interval)
        except Exception:
            return False
        self.pings_answered += 1
        return True

    async def _recovered(self, layer: Any) -> None:
        if not self.down:
            return
        self.down = False
        logger.warning("channel layer back; telling clients to resync")
        if self.lost_doorbells:
            self.lost_doorbells = False
            try:
                # Every process (this one included) tells its sockets.
                await asyncio.wait_for(
                    layer.group_send(RESYNC_GROUP, {"type": "watch.resync"}), self.interval
                )
                return
            except Exception:
                self.down = self.lost_doorbells = True
                return
        await self.tell_sockets()

    async def tell_sockets(self) -> None:
        now = time.monotonic()
        if now - self._last_resync < RESYNC_MIN_GAP:
            return
        self._last_resync = now
        for socket in list(self.sockets):
            with contextlib.suppress(Exception):
                await socket.resync()
                self.resyncs_sent += 1


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LayerWatch] = (
    weakref.WeakKeyDictionary()
)


def current_watch() -> LayerWatch:
    """The watcher of the running event loop."""
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = LayerWatch()
    return watch


def doorbell_lost() -> None:
    """A doorbell could not be sent (called by core.realtime, from any thread)."""
    for watch in list(_watches.values()):
        watch.doorbell_lost()
