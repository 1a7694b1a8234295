"""The seat board's doorbell: supervisors are told a seat changed, then re-read the board."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from agents.services import SEAT_BOARD_GROUP
from agents.sockets import AccessGuardMixin
from core.layer_watch import current_watch


class SeatBoardConsumer(AccessGuardMixin, AsyncJsonWebsocketConsumer):
    joined = False

    async def connect(self) -> None:
        if not await self.guard_connect("monitoring"):
            return
        await self.channel_layer.group_add(SEAT_BOARD_GROUP, self.channel_name)
        self.joined = True
        await self.accept()
        # Told `resync` when the layer comes back after an outage: the board re-reads.
        current_watch().add(self)

    async def resync(self) -> None:
        await self.send_json({"type": "resync"})

    async def disconnect(self, code: int) -> None:
        current_watch().discard(self)
        await self.guard_disconnect()
        if self.joined and self.channel_layer is not None:
            await self.channel_layer.group_discard(SEAT_BOARD_GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Listen-only socket: anything a client sends is answered with an error frame.
        await self.send_json({"type": "error", "code": "read_only"})

    async def seat_changed(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "seat.changed", "user_id": event["user_id"], "state": event["state"]}
        )
