"""The frame limits a client meets on the real server, with the Procfile's websocket flags
(issue 11, item 1): a frame over the page's 16 KiB is answered `frame_too_large` with its
ref and client_id and the socket lives; only a message over the server's 1 MiB is cut
(1009). Before, a 70 KB frame hit the server's 64 KiB cap and the socket died unanswered."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests
import websockets
from websockets.typing import Origin

from workbench.models import Message
from workbench.tests.factories import ChannelFactory
from workbench.tests.live_server import Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_70_kb_frame_gets_the_documented_error_and_a_2_mib_one_is_cut(shop_a):
    channel = ChannelFactory.create(shop=shop_a)
    server = Server()
    server.start()
    try:
        token = requests.post(
            f"{server.base}/chat/api/session/", json={"channel": channel.key}, timeout=30
        ).json()["visitor_token"]

        async def go():
            async with websockets.connect(
                f"{server.ws_base}/ws/chat/visitor/", origin=Origin(server.base), max_size=None
            ) as ws:
                await ws.send(json.dumps({"type": "hello", "visitor_token": token}))
                assert json.loads(await ws.recv())["type"] == "welcome"
                big = {"type": "send", "client_id": "c-70k", "ref": "r1", "text": "x" * 70_000}
                await ws.send(json.dumps(big))
                error = json.loads(await asyncio.wait_for(ws.recv(), 30))
                assert (error["code"], error["ref"], error["client_id"]) == (
                    "frame_too_large",
                    "r1",
                    "c-70k",
                )
                # Still open and usable.
                await ws.send(json.dumps({"type": "send", "client_id": "c-ok", "text": "hi"}))
                while (frame := json.loads(await asyncio.wait_for(ws.recv(), 30)))["type"] != "ack":
                    pass
                assert frame["client_id"] == "c-ok"
                await ws.send(
                    json.dumps({"type": "send", "client_id": "c-2m", "text": "y" * 2**21})
                )
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    while True:
                        await asyncio.wait_for(ws.recv(), 30)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

        asyncio.run(go())
    finally:
        server.stop()
    assert list(Message.objects.filter(sender="customer").values_list("client_id", flat=True)) == [
        "c-ok"
    ]
