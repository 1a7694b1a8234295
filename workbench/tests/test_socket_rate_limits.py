"""Chat sockets: `send` frames are counted per socket (issue 11 item 5: one socket sent 100
messages in 2.5 s, all accepted). Over the rate each frame gets an `error` `rate_limited`
(echoing `ref` and `client_id`, with `retry_after`) and nothing is stored; a socket that
keeps sending after being told is closed with 4429. A refused message resent later with
the same client_id is stored once."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync

from agents.sockets import CLOSE_RATE_LIMITED
from workbench.models import Message
from workbench.services.conversations import conversation_accept, conversation_start
from workbench.tests import ws
from workbench.tests.helpers import make_channel, new_visitor, online_agent

pytestmark = pytest.mark.django_db(transaction=True)


async def _frames_until_close(communicator, timeout=15):
    """Every frame the server sends until it closes the socket; and the close code."""
    frames: list[dict] = []
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return frames, output.get("code")
        frames.append(json.loads(output["text"]))


def test_a_flooding_visitor_socket_is_refused_then_closed(rate_limits):
    rate_limits.KEFU_RATE_VISITOR_SOCKET_SENDS = "5/minute"
    rate_limits.KEFU_RATE_SOCKET_REFUSALS = "10/minute"
    channel = make_channel(greeting="")
    _visitor, token = new_visitor(channel)

    async def go():
        customer, _welcome = await ws.visitor(token)
        for n in range(100):
            frame = {"type": "send", "client_id": f"c{n}", "text": f"spam {n}", "ref": n}
            await customer.send_json_to(frame)
        frames, code = await _frames_until_close(customer)
        # A second socket of the same visitor has a count of its own.
        other, _welcome = await ws.visitor(token)
        await other.send_json_to({"type": "send", "client_id": "calm", "text": "hello"})
        ack = await ws.until(other, "ack")
        await other.disconnect()
        return frames, code, ack

    frames, code, ack = async_to_sync(go)()
    acks = [f for f in frames if f["type"] == "ack"]
    errors = [f for f in frames if f["type"] == "error"]
    assert [a["client_id"] for a in acks] == [f"c{n}" for n in range(5)]
    # Refused and told, ten times; the eleventh refusal closes the socket.
    assert len(errors) == 11
    assert {e["code"] for e in errors} == {"rate_limited"}
    assert [e["client_id"] for e in errors] == [f"c{n}" for n in range(5, 16)]
    assert [e["ref"] for e in errors] == list(range(5, 16))
    assert all(e["retry_after"] >= 1 and e["message"] for e in errors)
    assert code == CLOSE_RATE_LIMITED
    assert ack["client_id"] == "calm"
    # Nothing of the refused frames was stored.
    stored = set(Message.objects.values_list("client_id", flat=True))
    assert stored == {f"c{n}" for n in range(5)} | {"calm"}


def test_a_refused_message_resent_later_is_stored_once(rate_limits):
    rate_limits.KEFU_RATE_VISITOR_SOCKET_SENDS = "2/2seconds"
    channel = make_channel(greeting="")
    _visitor, token = new_visitor(channel)

    async def go():
        customer, _welcome = await ws.visitor(token)
        for n in range(3):
            await customer.send_json_to({"type": "send", "client_id": f"c{n}", "text": f"m{n}"})
        await ws.until(customer, "ack", client_id="c1")
        refused = await ws.until(customer, "error", client_id="c2")
        await asyncio.sleep(refused["retry_after"] + 0.5)
        await customer.send_json_to({"type": "send", "client_id": "c2", "text": "m2"})
        ack = await ws.until(customer, "ack", client_id="c2")
        await customer.disconnect()
        return refused, ack

    refused, ack = async_to_sync(go)()
    assert refused["code"] == "rate_limited"
    assert ack["seq"] == 3
    assert Message.objects.filter(client_id="c2").count() == 1


def test_agent_sockets_are_limited_too(rate_limits, people):
    rate_limits.KEFU_RATE_AGENT_SOCKET_SENDS = "3/minute"
    channel = make_channel(greeting="")
    agent = online_agent(channel.default_group)
    visitor, _token = new_visitor(channel)
    conversation = conversation_start(visitor=visitor)
    conversation.refresh_from_db()
    if conversation.agent_id is None:
        conversation_accept(conversation_id=conversation.pk, agent=agent)
    else:
        assert conversation.agent_id == agent.pk  # routed to the one online agent

    hdrs = ws.headers(agent)

    async def go():
        communicator = await ws.agent(hdrs)
        for n in range(4):
            frame = {"type": "send", "conversation_id": conversation.pk, "client_id": f"a{n}"}
            await communicator.send_json_to({**frame, "text": f"reply {n}"})
        await ws.until(communicator, "ack", client_id="a2")
        refused = await ws.until(communicator, "error", client_id="a3")
        await communicator.disconnect()
        return refused

    refused = async_to_sync(go)()
    assert refused["code"] == "rate_limited"
    assert not Message.objects.filter(client_id="a3").exists()


def test_other_frames_are_not_counted(rate_limits):
    rate_limits.KEFU_RATE_VISITOR_SOCKET_SENDS = "1/minute"
    channel = make_channel(greeting="")
    _visitor, token = new_visitor(channel)

    async def go():
        customer, _welcome = await ws.visitor(token)
        await customer.send_json_to({"type": "send", "client_id": "c1", "text": "hi"})
        await ws.until(customer, "ack")
        for _ in range(5):
            await customer.send_json_to({"type": "sync", "after_seq": 0, "ref": "s"})
            assert (await ws.until(customer, "messages"))["ref"] == "s"
        await customer.disconnect()

    async_to_sync(go)()
