"""A socket's rights end when the user's do.

Every back-office socket (workbench, ticket notifications, seat board) authorises in
`connect()` and then keeps asking: it listens on the user's access group, where the
services ring when the user signs out, is deactivated, or changes role or shops
(`agents.services.user_access_changed`), and it re-checks on a timer in case a doorbell
was lost. When the answer turns to no, the socket closes with 4401 (not signed in, or no
longer active) or 4403 (no longer allowed here); when the user may stay but with other
rights (another role or other shops), with 4005, and the client reconnects to a socket
scoped to the new rights.

Refusals are sent after accepting the handshake, so a client can tell the codes apart
(a refused handshake is only an HTTP 403 to the browser, close code 1006).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from django.conf import settings

from agents.sections import SECTIONS_BY_KEY, user_may_enter
from core.async_db import db

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# Still allowed, but with other rights than when the socket opened (another role or other
# shops): the client reconnects at once and gets a socket scoped to the new rights.
CLOSE_RIGHTS_CHANGED = 4005
# A customer socket that did not say `hello` in time (KEFU_SOCKET_HELLO_SECONDS): nothing is
# wrong with the token, so the client simply reconnects (4000-4399: clients retry).
CLOSE_HELLO_TIMEOUT = 4008
# A chat socket that kept sending after it was told it was over its rate (`error`
# `rate_limited`, KEFU_RATE_SOCKET_REFUSALS times): the client waits before reconnecting.
CLOSE_RATE_LIMITED = 4429


def access_group(user_id: int) -> str:
    """The group every socket of one user listens on for revocations (built from the pk)."""
    return f"access.{int(user_id)}"


def rights_of(user_id: int) -> tuple[str | None, bool, tuple[int, ...]] | None:
    """What a socket's answers depend on: role and shops, read fresh (None: no such user
    or inactive)."""
    from agents.access import scope_for
    from agents.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    scope = scope_for(user)
    return scope.role, scope.all_shops, tuple(sorted(scope.shop_ids))


def access_verdict(
    user_id: int,
    section_key: str,
    rights_at_connect: tuple[str | None, bool, tuple[int, ...]] | None = None,
) -> int | None:
    """None while the user may still use `section_key` with the rights the socket opened
    with; otherwise the close code."""
    from agents.models import User

    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return CLOSE_UNAUTHENTICATED
    if not user_may_enter(user, SECTIONS_BY_KEY[section_key]):
        return CLOSE_FORBIDDEN
    if rights_at_connect is not None and rights_of(user_id) != rights_at_connect:
        return CLOSE_RIGHTS_CHANGED
    return None


class AccessGuardMixin:
    """For AsyncWebsocketConsumer subclasses of the back office.

    Call `await self.guard_connect("<section>")` first in `connect()`: it checks, and
    either accepts and closes with the code (returns False), or starts guarding and returns
    True; the consumer then joins its groups and accepts (so nothing sent between the two
    is missed). Call `await self.guard_disconnect()` from `disconnect()`.
    """

    access_section: str = ""
    _rights: tuple[str | None, bool, tuple[int, ...]] | None = None
    _guard_task: asyncio.Task[None] | None = None
    _guard_group: str | None = None

    async def guard_connect(self, section_key: str) -> bool:
        self.access_section = section_key
        user = self.scope.get("user")  # type: ignore[attr-defined]
        if user is None or not user.is_authenticated:
            verdict: int | None = CLOSE_UNAUTHENTICATED
        else:
            verdict = await db(access_verdict)(user.pk, section_key)
        if verdict is not None:
            # Accept, then close: a refused handshake reaches a browser as a bare 1006.
            await self.accept()  # type: ignore[attr-defined]
            await self.close(code=verdict)  # type: ignore[attr-defined]
            return False
        self._rights = await db(rights_of)(user.pk)
        self._guard_group = access_group(user.pk)
        await self.channel_layer.group_add(self._guard_group, self.channel_name)  # type: ignore[attr-defined]
        interval = float(getattr(settings, "KEFU_SOCKET_RECHECK_SECONDS", 60))
        if interval > 0:
            self._guard_task = asyncio.ensure_future(self._recheck_every(user.pk, interval))
        return True

    async def guard_disconnect(self) -> None:
        if self._guard_task is not None:
            self._guard_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._guard_task
            self._guard_task = None
        if self._guard_group and self.channel_layer is not None:  # type: ignore[attr-defined]
            await self.channel_layer.group_discard(self._guard_group, self.channel_name)  # type: ignore[attr-defined]
            self._guard_group = None

    async def _recheck_every(self, user_id: int, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                verdict = await db(access_verdict)(user_id, self.access_section, self._rights)
            except Exception:
                logger.exception("socket access re-check failed for user %s", user_id)
                continue
            if verdict is not None:
                await self.close(code=verdict)  # type: ignore[attr-defined]
                return

    async def access_revoked(self, event: dict[str, Any]) -> None:
        """The services rang: sign-out (of this session, or all), deactivation, role or
        shop change. Ask again; close if the answer is no."""
        session = self.scope.get("session")  # type: ignore[attr-defined]
        signed_out = event.get("signed_out_session")
        if signed_out is not None:
            mine = getattr(session, "session_key", None)
            if signed_out == "*" or signed_out == mine:
                await self.close(code=CLOSE_UNAUTHENTICATED)  # type: ignore[attr-defined]
            return
        user = self.scope.get("user")  # type: ignore[attr-defined]
        verdict = await db(access_verdict)(user.pk, self.access_section, self._rights)
        if verdict is not None:
            await self.close(code=verdict)  # type: ignore[attr-defined]
