"""Rate limits: how often one address, visitor or user may do something (docs/security.md).

The counting is the `limits` library's (docs/decisions/0016-rate-limits.md): a sliding
window counter per (setting, who), in Redis when REDIS_URL is set, so every web process
shares one count, and in process memory otherwise (the demo is one process). Each rate is a
setting in `limits` notation ("30/minute", several joined by ";"), read when counted, so
tests tighten them with override_settings.

Services call the named checks below before they write anything; a refusal raises
RateLimited and nothing is counted or stored. The transports answer it: HTTP with 429,
Retry-After and JSON `{"error": "rate_limited", "message", "retry_after"}`
(core.middleware.RateLimitedMiddleware), the chat sockets with an `error` frame
`rate_limited` (workbench.frames), the ticket page with its message.

If the counter store fails (Redis down), the request is let through and a warning logged:
a broken limiter must not take the chat down with it.
"""

from __future__ import annotations

import functools
import logging
import math
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import ngettext
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

logger = logging.getLogger(__name__)

MB = 1024 * 1024


class RateLimited(Exception):
    """Over a rate: try again in `retry_after` seconds. Shaped like a ChatError (a code
    and a message) so the chat transports answer it the same way."""

    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        self.message = ngettext(
            "Too many requests: please try again in %(seconds)d second.",
            "Too many requests: please try again in %(seconds)d seconds.",
            self.retry_after,
        ) % {"seconds": self.retry_after}
        super().__init__(self.message)


@dataclass(frozen=True)
class Hit:
    """One count against the rate in `setting`, for `who`."""

    setting: str
    who: str
    cost: int = 1
    # The setting's amounts are in units of this many (MB for the upload volume rates).
    unit: int = 1


@functools.cache
def _items(rate: str, unit: int, namespace: str) -> tuple[RateLimitItem, ...]:
    return tuple(
        type(item)(item.amount * unit, item.multiples, namespace=namespace)
        for item in parse_many(rate)
    )


@functools.cache
def _limiter(url: str) -> SlidingWindowCounterRateLimiter:
    return SlidingWindowCounterRateLimiter(storage_from_string(url, wrap_exceptions=True))


def hit(*hits: Hit) -> None:
    """Count every hit, or, when any of them is over its rate, none and raise RateLimited.

    Test-then-count is not one atomic step: two racing requests may both pass the last
    free place. A limit here is a brake, not an exact quota."""
    if not settings.KEFU_RATE_LIMITS_ENABLED:
        return
    limiter = _limiter(settings.KEFU_RATE_STORAGE_URL)
    checks = [
        (item, h)
        for h in hits
        for item in _items(getattr(settings, h.setting), h.unit, settings.KEFU_RATE_KEY_PREFIX)
    ]
    try:
        over = [
            (item, h) for item, h in checks if not limiter.test(item, h.setting, h.who, cost=h.cost)
        ]
        if over:
            now = time.time()
            wait = max(limiter.get_window_stats(i, h.setting, h.who).reset_time for i, h in over)
            raise RateLimited(wait - now)
        for item, h in checks:
            limiter.hit(item, h.setting, h.who, cost=h.cost)
    except StorageError:
        logger.warning("rate limit store unavailable; letting the request through", exc_info=True)


@functools.cache
def _local_limiter() -> SlidingWindowCounterRateLimiter:
    # The sliding window counter, not the moving window: in limits' MemoryStorage a moving
    # window leaves an (empty) entry behind for every key it ever saw, one per socket.
    return SlidingWindowCounterRateLimiter(MemoryStorage())


class SocketThrottle:
    """One socket's frames against the rate in `setting`, counted in this process: a socket
    lives in one process, so its count needs no Redis round trip on the chat's hot path.
    "10/5seconds" allows a burst of 10, then about 2 a second (the same sliding window as
    the shared counters). Refusals are counted too, against KEFU_RATE_SOCKET_REFUSALS: a
    socket that keeps sending after being told is marked `closing`."""

    def __init__(self, setting: str) -> None:
        self.setting = setting
        self.who = uuid.uuid4().hex
        self.closing = False

    def _items(self, setting: str) -> tuple[RateLimitItem, ...]:
        return _items(getattr(settings, setting), 1, settings.KEFU_RATE_KEY_PREFIX)

    def hit(self) -> RateLimited | None:
        """Count one frame; its refusal (RateLimited) when over the rate, else None."""
        if not settings.KEFU_RATE_LIMITS_ENABLED:
            return None
        limiter = _local_limiter()
        items = self._items(self.setting)
        over = [item for item in items if not limiter.test(item, self.setting, self.who)]
        if not over:
            for item in items:
                limiter.hit(item, self.setting, self.who)
            return None
        now = time.time()
        wait = max(limiter.get_window_stats(i, self.setting, self.who).reset_time for i in over)
        refusals = "KEFU_RATE_SOCKET_REFUSALS"
        if not all(limiter.hit(i, refusals, self.who) for i in self._items(refusals)):
            self.closing = True
        return RateLimited(wait - now)


# --- The limits Kefu enforces, one function each (docs/security.md lists them) -----------


def chat_session_opening(*, address: str | None) -> None:
    """A new visitor session is about to be made (resuming one is not counted). `address`
    None: not from a client (code, tests): nothing to count per address."""
    if address is not None:
        hit(Hit("KEFU_RATE_CHAT_SESSIONS", f"address:{address}"))


def conversation_starting(*, visitor_id: int, address: str | None) -> None:
    hits = [Hit("KEFU_RATE_CONVERSATIONS_PER_VISITOR", f"visitor:{visitor_id}")]
    if address is not None:
        hits.append(Hit("KEFU_RATE_CONVERSATIONS_PER_ADDRESS", f"address:{address}"))
    hit(*hits)


def visitor_uploading(*, visitor_id: int, address: str | None, size: int) -> None:
    hits = [
        Hit("KEFU_RATE_UPLOADS_PER_VISITOR", f"visitor:{visitor_id}"),
        Hit("KEFU_RATE_UPLOAD_MB_PER_VISITOR", f"visitor:{visitor_id}", max(size, 1), MB),
    ]
    if address is not None:
        hits.append(Hit("KEFU_RATE_UPLOAD_MB_PER_ADDRESS", f"address:{address}", max(size, 1), MB))
    hit(*hits)


def user_uploading(*, user_id: int, size: int) -> None:
    """A staff member's file: chat attachments and ticket attachments share one count."""
    hit(
        Hit("KEFU_RATE_UPLOADS_PER_USER", f"user:{user_id}"),
        Hit("KEFU_RATE_UPLOAD_MB_PER_USER", f"user:{user_id}", max(size, 1), MB),
    )
