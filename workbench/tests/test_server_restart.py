"""The whole stack for real: uvicorn with production settings, Redis, Postgres, real
websockets. The server is SIGKILLed mid-conversation and restarted; the customer reconnects
with after-seq, resends what was not acknowledged, and every message is stored once."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
import requests
import websockets
from websockets.typing import Origin

from agents.models import AgentProfile, GroupMembership
from agents.tests.factories import SkillGroupFactory
from service_orders.models import ServiceOrder
from workbench.models import Message
from workbench.tests.factories import ChannelFactory
from workbench.tests.live_server import Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

TOTAL = 60


async def _hello(ws, token, conversation_id=None, after_seq=0):
    hello = {"type": "hello", "visitor_token": token, "after_seq": after_seq}
    if conversation_id:
        hello["conversation_id"] = conversation_id
    await ws.send(json.dumps(hello))
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome", welcome
    return welcome


def test_sigkill_mid_conversation_loses_and_doubles_nothing(people, shop_a):
    group = SkillGroupFactory.create(shop=shop_a)
    GroupMembership.objects.create(group=group, user=people["merchant_a"])
    AgentProfile.objects.filter(user=people["merchant_a"]).update(state="online")
    channel = ChannelFactory.create(shop=shop_a, default_group=group, greeting="Hi!")

    server = Server()
    server.start()
    try:
        token = requests.post(
            f"{server.base}/chat/api/session/", json={"channel": channel.key}, timeout=30
        ).json()["visitor_token"]
        origin = Origin(server.base)
        acked: dict[str, tuple[int, int]] = {}
        seen: dict[int, dict] = {}
        state = {"conversation_id": None}

        async def first_life():
            async with websockets.connect(
                f"{server.ws_base}/ws/chat/visitor/", origin=origin
            ) as ws:
                await _hello(ws, token)

                async def reader():
                    async for raw in ws:
                        frame = json.loads(raw)
                        if frame["type"] == "ack":
                            acked[frame["client_id"]] = (frame["id"], frame["seq"])
                            state["conversation_id"] = frame["conversation_id"]
                        elif frame["type"] == "message":
                            seen[frame["message"]["seq"]] = frame["message"]

                read_task = asyncio.create_task(reader())

                def frame(i):
                    return json.dumps({"type": "send", "client_id": f"m{i}", "text": f"#{i}"})

                # A first stretch at a steady pace, until some are acknowledged (however
                # loaded the machine is)...
                for i in range(20):
                    await ws.send(frame(i))
                    await asyncio.sleep(0.01)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 60
                while len(acked) < 15 and loop.time() < deadline:
                    await asyncio.sleep(0.05)
                # ...then a burst, and the server is killed while it is in flight.
                for i in range(20, TOTAL):
                    await ws.send(frame(i))
                server.kill()
                with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
                    await asyncio.wait_for(read_task, 5)

        asyncio.run(first_life())
        assert 15 <= len(acked) < TOTAL, len(acked)
        first_acks = dict(acked)

        server.start()

        async def second_life():
            async with websockets.connect(
                f"{server.ws_base}/ws/chat/visitor/", origin=origin
            ) as ws:
                held = max(seen) if seen else 0
                welcome = await _hello(ws, token, state["conversation_id"], held)
                assert welcome["conversation"]["id"] == state["conversation_id"]
                batch = json.loads(await ws.recv())
                assert batch["type"] == "messages"
                caught_up = [m["seq"] for m in batch["messages"]]
                # Exactly the missing ones, in order, none we already held.
                assert caught_up == sorted(caught_up) and not set(caught_up) & set(seen)
                for m in batch["messages"]:
                    seen[m["seq"]] = m
                # Resend everything not acknowledged, with the original client ids; also
                # resend a few acknowledged ones (a client unsure whether its ack arrived).
                resend = [f"m{i}" for i in range(TOTAL) if f"m{i}" not in first_acks]
                resend += list(first_acks)[:3]
                for client_id in resend:
                    text = f"#{client_id[1:]}"
                    await ws.send(
                        json.dumps({"type": "send", "client_id": client_id, "text": text})
                    )
                while not all(c in acked and acked[c] for c in resend):
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if frame["type"] == "ack":
                        acked[frame["client_id"]] = (frame["id"], frame["seq"])
                await ws.send(json.dumps({"type": "sync", "after_seq": 0}))
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if frame["type"] == "messages":
                        return frame["messages"]

        everything = asyncio.run(second_life())
    finally:
        server.stop()

    # Every acknowledged message kept its id and seq across the crash.
    for client_id, ids in first_acks.items():
        assert acked[client_id] == ids
    customer = [m for m in everything if m["sender"] == "customer"]
    client_ids = [m["client_id"] for m in customer]
    assert sorted(client_ids) == sorted(f"m{i}" for i in range(TOTAL))  # all, once each
    seqs = [m["seq"] for m in everything]
    assert seqs == list(range(1, len(everything) + 1))  # gapless, in order
    assert Message.objects.filter(sender="customer").count() == TOTAL


def test_a_client_written_from_the_protocol_page_can_be_the_agent(people, shop_a):
    """Follows docs/realtime.md literally: sign in over HTTP, go online, open the agent
    socket with the session cookie, watch, reply, close; the customer rates."""
    import re

    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    agent = people["merchant_a"]
    # The server runs with production hashers (the test settings use MD5 for speed).
    agent.password = PBKDF2PasswordHasher().encode("agent-pass-1", "fixedsalt1234")
    agent.save(update_fields=["password"])
    group = SkillGroupFactory.create(shop=shop_a)
    GroupMembership.objects.create(group=group, user=agent)
    channel = ChannelFactory.create(shop=shop_a, default_group=group, greeting="")

    # HTML pages need static files: the development settings serve them without
    # collectstatic (Redis and Postgres are the same as in production).
    server = Server(settings_module="config.settings.local")
    server.start()
    try:
        web = requests.Session()
        page = web.get(f"{server.base}/accounts/login/", timeout=30)
        form = page.text
        assert page.status_code == 200, (page.status_code, form[:500])
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert found is not None
        token = found.group(1)
        signed_in = web.post(
            f"{server.base}/accounts/login/",
            data={
                "username": agent.username,
                "password": "agent-pass-1",
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{server.base}/accounts/login/"},
            timeout=30,
        )
        assert signed_in.status_code == 200 and "sessionid" in web.cookies
        csrf = web.cookies["csrftoken"]
        web.post(
            f"{server.base}/agents/me/state/",
            data={"state": "online", "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{server.base}/workbench/"},
            timeout=30,
        )
        visitor_token = requests.post(
            f"{server.base}/chat/api/session/", json={"channel": channel.key}, timeout=30
        ).json()["visitor_token"]
        cookie = f"sessionid={web.cookies['sessionid']}"
        origin = Origin(server.base)

        async def story():
            async with (
                websockets.connect(f"{server.ws_base}/ws/chat/visitor/", origin=origin) as cust,
                websockets.connect(
                    f"{server.ws_base}/ws/chat/agent/",
                    origin=origin,
                    additional_headers={"Cookie": cookie},
                ) as desk,
            ):

                async def until(ws, kind, **match):
                    while True:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        if frame["type"] == kind and all(
                            frame.get(k) == v for k, v in match.items()
                        ):
                            return frame

                assert (await until(desk, "welcome"))["user_id"] == agent.pk
                await _hello(cust, visitor_token)
                await cust.send(json.dumps({"type": "send", "client_id": "c1", "text": "Hello?"}))
                ack = await until(cust, "ack")
                conversation_id = ack["conversation_id"]
                await until(desk, "list")  # routed to the online agent: re-read the lists
                lists = web.get(f"{server.base}/workbench/api/lists/", timeout=30).json()
                assert [c["id"] for c in lists["active"]] == [conversation_id]
                await desk.send(
                    json.dumps(
                        {"type": "watch", "conversation_id": conversation_id, "after_seq": 0}
                    )
                )
                batch = await until(desk, "messages")
                assert [m["text"] for m in batch["messages"]] == ["Hello?"]
                await desk.send(
                    json.dumps(
                        {
                            "type": "send",
                            "conversation_id": conversation_id,
                            "client_id": "a1",
                            "text": "Hi, how can I help?",
                        }
                    )
                )
                assert (await until(desk, "ack"))["seq"] == 2
                reply = await until(cust, "message")
                while reply["message"]["sender"] != "agent":
                    reply = await until(cust, "message")
                assert reply["message"]["text"] == "Hi, how can I help?"
                await desk.send(
                    json.dumps(
                        {"type": "close", "conversation_id": conversation_id, "summary": "ok"}
                    )
                )
                assert (await until(desk, "done"))["action"] == "close"
                state = await until(cust, "conversation")
                while state["conversation"]["status"] != "closed":
                    state = await until(cust, "conversation")
                await cust.send(json.dumps({"type": "rate", "rating": 5, "comment": "great"}))
                assert (await until(cust, "rated"))["rating"] == 5

        asyncio.run(story())
    finally:
        server.stop()
    order = ServiceOrder.objects.get()
    assert (order.rating, order.summary, order.agent) == (5, "ok", agent)
