"""The personal doorbell: a signed-in user hears about their tickets (SLA, changes).

The group name is built from the user's primary key only (`user.<pk>`); the frames carry
ids, never ticket content, and the page links to the ticket, where access is checked.
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from agents.sockets import AccessGuardMixin


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"


class TicketNotificationConsumer(AccessGuardMixin, AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        if not await self.guard_connect("tickets"):
            return
        self.group = user_group(self.scope["user"].pk)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        await self.guard_disconnect()
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
