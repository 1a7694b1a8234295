"""The personal doorbell: a signed-in user hears about their tickets (SLA, changes).

The group name is built from the user's primary key only (`user.<pk>`); the frames carry
ids, never ticket content, and the page links to the ticket, where access is checked.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from agents.sections import SECTIONS_BY_KEY, user_may_enter

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"


class TicketNotificationConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        allowed = await database_sync_to_async(user_may_enter)(user, SECTIONS_BY_KEY["tickets"])
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group and self.channel_layer is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"type": "error", "code": "read_only"})

    async def ticket_sla(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "ticket.sla", "ticket": event["ticket"], "kind": event["kind"]}
        )

    async def ticket_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "ticket.changed", "ticket": event["ticket"]})
