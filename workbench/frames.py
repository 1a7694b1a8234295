"""JSON frames over a websocket: the base of the chat consumers (docs/realtime.md).

A size cap, a `type` dispatch, error frames for everything bad, and the small readers of
frame fields. What a frame means is the consumers' (workbench.consumers) business.
"""

from __future__ import annotations

import json
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from agents.sockets import CLOSE_RATE_LIMITED
from core.layer_watch import current_watch
from core.ratelimits import RateLimited, SocketThrottle
from core.text import find_unstorable, is_unstorable
from workbench.errors import ChatError

MAX_FRAME_BYTES = 16 * 1024


class BadFrame(ChatError):
    pass


def read_int(frame: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    value = frame.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadFrame("bad_frame", _("%(key)s must be a whole number.") % {"key": key})
    return value


def read_str(frame: dict[str, Any], key: str, *, default: str | None = None) -> str:
    value = frame.get(key, default)
    if not isinstance(value, str):
        raise BadFrame("bad_frame", _("%(key)s must be a string.") % {"key": key})
    return value


class FrameConsumer(AsyncWebsocketConsumer):
    """JSON frames with a size cap, a `type` dispatch and error frames for everything bad."""

    handlers: dict[str, str] = {}
    # Frame types counted against the socket's rate, and the setting that holds the rate
    # (core.ratelimits.SocketThrottle; docs/security.md).
    rate_limited_types: frozenset[str] = frozenset()
    rate_setting = ""
    _throttle: SocketThrottle | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first hops to Django's single thread-sensitive worker to
        # close stale connections, for every frame and every doorbell, even those that
        # never touch the database. These consumers reach the database only through
        # core.async_db.db, which looks after its connections itself, so the hop goes.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_error(
        self, error: ChatError | RateLimited, frame: dict[str, Any] | None = None
    ) -> None:
        out: dict[str, Any] = {"type": "error", "code": error.code, "message": error.message}
        if isinstance(error, RateLimited):
            out["retry_after"] = error.retry_after
        if isinstance(frame, dict):
            for key in ("ref", "client_id"):
                if _echoable(frame.get(key)):
                    out[key] = frame[key]
        await self.send_frame(out)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.send_error(ChatError("bad_frame", _("Only JSON text frames are accepted.")))
            return
        too_large = len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES
        try:
            frame = json.loads(text_data)
        except ValueError:
            frame = None
            if not too_large:
                await self.send_error(ChatError("bad_json", _("The frame is not valid JSON.")))
                return
        if too_large:
            # Refused unread; its ref and client_id are echoed so the client knows which
            # of its frames it was (the server's websocket limit, 1 MiB, is far above this).
            error = ChatError(
                "frame_too_large",
                _("Frames may be at most %(bytes)d bytes.") % {"bytes": MAX_FRAME_BYTES},
            )
            await self.send_error(error, frame if isinstance(frame, dict) else None)
            return
        if not isinstance(frame, dict):
            await self.send_error(ChatError("bad_frame", _("A frame must be a JSON object.")))
            return
        if find_unstorable(frame):
            # NUL or a lone surrogate would fail in the database and drop the socket.
            await self.send_error(
                ChatError(
                    "invalid_text", _("Text may not contain NUL characters or broken Unicode.")
                ),
                frame,
            )
            return
        kind = frame.get("type")
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        if not await self.allow(kind):
            return
        if kind in self.rate_limited_types and not await self.within_rate(frame):
            return
        if handler is None:
            await self.send_error(ChatError("unknown_type", _("Unknown frame type.")), frame)
            return
        try:
            await getattr(self, handler)(frame)
        except (ChatError, RateLimited) as error:
            await self.send_error(error, frame)

    async def allow(self, kind: Any) -> bool:
        """A hook to refuse frames by state (e.g. before authentication)."""
        return True

    # Pushes lost while the channel layer was away (core.layer_watch).
    def watch_layer(self) -> None:
        """From now on this socket is told `resync` when the layer comes back."""
        current_watch().add(self)

    async def resync(self) -> None:
        await self.send_frame({"type": "resync"})

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        current_watch().discard(self)
        await super().websocket_disconnect(message)

    async def within_rate(self, frame: dict[str, Any]) -> bool:
        """Count the frame; over the rate, answer `rate_limited` (nothing else happens) and
        close with 4429 a socket that keeps sending after being told."""
        if self._throttle is None:
            self._throttle = SocketThrottle(self.rate_setting)
        elif self._throttle.closing:
            return False  # closed already; frames still in flight are dropped
        refused = self._throttle.hit()
        if refused is None:
            return True
        await self.send_error(refused, frame)
        if self._throttle.closing:
            await self.close(code=CLOSE_RATE_LIMITED)
        return False

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)

    async def leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        if group in self.groups:
            self.groups.remove(group)


# An echoed `ref` or `client_id` is short and storable text, or a number; anything else
# (a megabyte of ref, a lone surrogate that cannot be encoded) is not echoed.
MAX_ECHO_CHARS = 128


def _echoable(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and len(value) <= MAX_ECHO_CHARS and not is_unstorable(value)


def with_ref(out: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
    """Echo the request's `ref`, as docs/realtime.md promises for every direct answer."""
    if _echoable(frame.get("ref")):
        out["ref"] = frame["ref"]
    return out
