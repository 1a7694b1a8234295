"""A socket's rights end when the user's do.

Every back-office socket (workbench, ticket notifications, seat board) authorises in
`connect()` and then keeps asking: it listens on the user's access group, where the
services ring when the user signs out, is deactivated, or changes role or shops
(`agents.services.user_access_changed`), and it re-checks on a timer in case a doorbell
was lost. When the answer turns to no, the socket closes with 4401 (not signed in, or no
longer active) or 4403 (no longer allowed here).

Refusals are sent after accepting the handshake, so a client can tell the codes apart
(a refused handshake is only an HTTP 403 to the browser, close code 1006).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from agents.sections import SECTIONS_BY_KEY, user_may_enter

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def access_group(user_id: int) -> str:
    """The group every socket of one user listens on for revocations (built from the pk)."""
    return f"access.{int(user_id)}"


def access_verdict(user_id: int, section_key: str) -> int | None:
    """None while the user may still use `section_key`; otherwise the close code."""
    from agents.models import User

    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return CLOSE_UNAUTHENTICATED
    if not user_may_enter(user, SECTIONS_BY_KEY[section_key]):
        return CLOSE_FORBIDDEN
    return None


class AccessGuardMixin:
    """For AsyncWebsocketConsumer subclasses of the back office.

    Call `await self.guard_connect("<section>")` first in `connect()`: it accepts, checks,
    and either closes (returns False) or starts guarding (returns True). Call
    `await self.guard_disconnect()` from `disconnect()`.
    """

    access_section: str = ""
    _guard_task: asyncio.Task[None] | None = None
    _guard_group: str | None = None

    async def guard_connect(self, section_key: str) -> bool:
        self.access_section = section_key
        user = self.scope.get("user")  # type: ignore[attr-defined]
        await self.accept()  # type: ignore[attr-defined]
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)  # type: ignore[attr-defined]
            return False
        verdict = await database_sync_to_async(access_verdict)(user.pk, section_key)
        if verdict is not None:
            await self.close(code=verdict)  # type: ignore[attr-defined]
            return False
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
                verdict = await database_sync_to_async(access_verdict)(user_id, self.access_section)
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
        verdict = await database_sync_to_async(access_verdict)(user.pk, self.access_section)
        if verdict is not None:
            await self.close(code=verdict)  # type: ignore[attr-defined]
