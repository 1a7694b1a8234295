"""What docs/realtime.md promises a client written from it alone (issue 11, item 1): the
greeting and first message pushed to the customer who started the conversation, `ref`
echoed on every answer, a socket that never says hello closed, an agent-side `sync`, `list`
frames that say what changed, and a `resync` hint after the channel layer was away."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers

from agents.models import AgentProfile, GroupMembership
from agents.tests.factories import SkillGroupFactory
from workbench.frames import MAX_FRAME_BYTES
from workbench.models import Conversation, Message
from workbench.services.messages import message_send
from workbench.services.visitors import visitor_open
from workbench.tests import ws
from workbench.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(people, shop_a):
    group = SkillGroupFactory.create(shop=shop_a, name="A service")
    GroupMembership.objects.create(group=group, user=people["merchant_a"])
    AgentProfile.objects.filter(user=people["merchant_a"]).update(state="online")
    channel = ChannelFactory.create(shop=shop_a, default_group=group, greeting="Welcome!")
    return {
        "group": group,
        "token": visitor_open(channel=channel).token,
        "agent_headers": ws.headers(people["merchant_a"]),
        **people,
    }


def run(coro_fn):
    async_to_sync(coro_fn)()


async def frames_while_talking(communicator, quiet=0.5):
    """Every frame that arrives until the socket has been quiet for `quiet` seconds
    (receive_nothing leaves the application running; a receive timeout would stop it)."""
    frames = []
    while not await communicator.receive_nothing(timeout=quiet):
        frames.append(await communicator.receive_json_from())
    return frames


async def frames_until(communicator, done, *, timeout=10):
    """Read frames until `done(frames)` holds; return them all."""
    frames: list[dict] = []
    while not done(frames):
        frames.append(await communicator.receive_json_from(timeout=timeout))
    return frames


def pushed_seqs(frames):
    seqs = set()
    for f in frames:
        if f["type"] == "messages":
            seqs |= {m["seq"] for m in f["messages"]}
        elif f["type"] == "message":
            seqs.add(f["message"]["seq"])
    return seqs


def test_the_customer_who_starts_a_conversation_gets_the_greeting_and_their_message(setup):
    async def go():
        customer, welcome = await ws.visitor(setup["token"])
        assert welcome["conversation"] is None
        await customer.send_json_to({"type": "send", "client_id": "c1", "text": "Hi", "ref": 7})
        frames = await frames_until(
            customer,
            lambda fs: {1, 2} <= pushed_seqs(fs) and any(f["type"] == "ack" for f in fs),
        )
        ack = next(f for f in frames if f["type"] == "ack")
        assert ack["ref"] == 7 and ack["seq"] == 2
        texts = {
            m["seq"]: m["text"] for f in frames if f["type"] == "messages" for m in f["messages"]
        }
        assert texts == {1: "Welcome!", 2: "Hi"}
        assert any(f["type"] == "conversation" for f in frames)
        await customer.disconnect()

    run(go)


def test_the_agent_ack_echoes_ref_and_sync_answers_without_watching(setup):
    async def go():
        customer, _ = await ws.visitor(setup["token"])
        await customer.send_json_to({"type": "send", "client_id": "c1", "text": "Hi"})
        conversation_id = (await ws.until(customer, "ack"))["conversation_id"]
        agent = await ws.agent(setup["agent_headers"])
        await agent.send_json_to(
            {"type": "sync", "conversation_id": conversation_id, "after_seq": 1, "ref": "s1"}
        )
        batch = await ws.until(agent, "messages")
        assert batch["ref"] == "s1"
        assert [m["seq"] for m in batch["messages"]] == [2]
        await agent.send_json_to(
            {
                "type": "send",
                "conversation_id": conversation_id,
                "client_id": "a1",
                "text": "Hello!",
                "ref": "r-9",
            }
        )
        ack = await ws.until(agent, "ack")
        assert (ack["ref"], ack["client_id"], ack["seq"]) == ("r-9", "a1", 3)
        # sync did not subscribe: the customer's next message is not pushed to this socket.
        await customer.send_json_to({"type": "send", "client_id": "c2", "text": "More"})
        await ws.until(customer, "ack")
        frames = await frames_while_talking(agent)
        assert not [f for f in frames if f["type"] == "message"]
        await agent.disconnect()
        await customer.disconnect()

    run(go)


def test_the_list_frame_says_what_changed(setup):
    async def go():
        agent = await ws.agent(setup["agent_headers"])
        customer, _ = await ws.visitor(setup["token"])
        await customer.send_json_to({"type": "send", "client_id": "c1", "text": "Where is it?"})
        conversation_id = (await ws.until(customer, "ack"))["conversation_id"]
        rows: list[dict] = []
        while not rows or rows[-1]["status"] != "active":
            frame = await ws.until(agent, "list")
            rows.append(frame["conversation"])
        row = rows[-1]
        assert row["id"] == conversation_id
        assert row["agent_id"] == setup["merchant_a"].pk
        assert row["group"] == "A service"
        await agent.disconnect()
        await customer.disconnect()

    run(go)


def test_an_oversized_frame_is_answered_with_its_ref_and_client_id(setup):
    async def go():
        customer, _ = await ws.visitor(setup["token"])
        text = "x" * (MAX_FRAME_BYTES + 10)
        await customer.send_json_to({"type": "send", "client_id": "big", "ref": "r1", "text": text})
        error = await ws.until(customer, "error")
        assert (error["code"], error["ref"], error["client_id"]) == ("frame_too_large", "r1", "big")
        # A ref that is itself huge, or not storable text, is not echoed back.
        await customer.send_json_to({"type": "nope", "ref": "r" * 500})
        error = await ws.until(customer, "error")
        assert error["code"] == "unknown_type" and "ref" not in error
        await customer.disconnect()

    run(go)
    assert not Message.objects.exists()


def test_a_socket_that_never_says_hello_is_closed(setup, settings):
    settings.KEFU_SOCKET_HELLO_SECONDS = 0.5

    async def go():
        communicator, connected, _ = await ws.connect(ws.VISITOR_PATH, ws.headers())
        assert connected
        error = await communicator.receive_json_from(timeout=5)
        assert error["code"] == "hello_timeout"
        closed = await communicator.receive_output(timeout=5)
        assert (closed["type"], closed["code"]) == ("websocket.close", 4008)
        # One that does say hello in time stays open past the limit.
        customer, _ = await ws.visitor(setup["token"])
        assert await customer.receive_nothing(timeout=1.0)
        await customer.disconnect()

    run(go)


# --- The channel layer goes away for a while ----------------------------------------------


class RedisOutage:
    """A TCP relay to Redis that can be cut (every connection dropped, new ones refused)
    and restored on the same port: Redis going away and coming back, for this test only."""

    def __init__(self, redis_url: str) -> None:
        target = urlsplit(redis_url)
        self.target = (target.hostname or "127.0.0.1", target.port or 6379)
        self.db = target.path or "/0"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server: asyncio.base_events.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}{self.db}"

    async def _pipe(self, reader, writer) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _relay(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def up(self) -> None:
        self.server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )

    async def down(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        self.writers = []
        await self.server.wait_closed()


@pytest.mark.redis
def test_after_a_layer_outage_clients_are_told_to_resync(setup, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    outage = RedisOutage(settings.REDIS_URL)
    settings.KEFU_LAYER_WATCH_SECONDS = 0.3
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [outage.url], "prefix": f"t{uuid.uuid4().hex[:8]}"},
        }
    }
    channel_layers.backends.clear()
    agent = setup["merchant_a"]

    async def go():
        await outage.up()
        customer, _ = await ws.visitor(setup["token"])
        await customer.send_json_to({"type": "send", "client_id": "c1", "text": "Hi"})
        conversation_id = (await ws.until(customer, "ack"))["conversation_id"]
        held = await database_sync_to_async(
            Conversation.objects.filter(pk=conversation_id, agent=agent).exists
        )()
        assert held
        await asyncio.sleep(1.0)  # the watcher has pinged through the relay at least once

        await outage.down()
        reply, _created = await database_sync_to_async(message_send)(
            conversation_id=conversation_id,
            sender=Message.Sender.AGENT,
            client_id="a1",
            text="Your parcel left today.",
            agent=agent,
        )
        # Stored, but its doorbell is gone: nothing reaches the customer.
        quiet = await frames_while_talking(customer, quiet=1.0)
        assert reply.seq not in pushed_seqs(quiet)

        await outage.up()
        frames = await frames_until(
            customer, lambda fs: any(f["type"] == "resync" for f in fs), timeout=10
        )
        state = [f for f in frames if f["type"] == "conversation"]
        assert state and state[-1]["conversation"]["last_seq"] == reply.seq
        await customer.send_json_to({"type": "sync", "after_seq": 2})
        batch = await ws.until(customer, "messages")
        assert [m["text"] for m in batch["messages"]] == ["Your parcel left today."]
        await customer.disconnect()
        await outage.down()

    try:
        run(go)
    finally:
        channel_layers.backends.clear()


def test_a_client_without_origin_is_not_a_browser_and_may_connect(setup):
    # A browser always sends Origin (and a foreign one is refused: test_consumers); an app
    # or a bot sends none and brings its own credentials.
    no_origin = [h for h in setup["agent_headers"] if h[0] != b"origin"]

    async def go():
        agent, connected, _ = await ws.connect(ws.AGENT_PATH, no_origin)
        assert connected
        assert (await agent.receive_json_from())["type"] == "welcome"
        await agent.disconnect()
        customer, connected, _ = await ws.connect(ws.VISITOR_PATH, [(b"host", b"127.0.0.1")])
        assert connected
        await customer.send_json_to({"type": "hello", "visitor_token": setup["token"]})
        assert (await customer.receive_json_from())["type"] == "welcome"
        await customer.disconnect()

    run(go)
