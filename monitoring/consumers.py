"""The seat board's doorbell: supervisors are told a seat changed, then re-read the board."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from agents.sections import SECTIONS_BY_KEY, user_may_enter
from agents.services import SEAT_BOARD_GROUP

# Close codes in the 4000 range are ours: 4401 not signed in, 4403 not allowed.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class SeatBoardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        allowed = await database_sync_to_async(user_may_enter)(user, SECTIONS_BY_KEY["monitoring"])
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(SEAT_BOARD_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.channel_layer is not None:
            await self.channel_layer.group_discard(SEAT_BOARD_GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Listen-only socket: anything a client sends is answered with an error frame.
        await self.send_json({"type": "error", "code": "read_only"})

    async def seat_changed(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "seat.changed", "user_id": event["user_id"], "state": event["state"]}
        )
