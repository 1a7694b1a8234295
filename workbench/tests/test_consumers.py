"""Both chat sockets over the in-memory layer (and the round trip again over Redis):
acks after commit, idempotent resends, catch-up after seq N, and every kind of bad frame."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from agents.models import AgentProfile, GroupMembership
from agents.tests.factories import SkillGroupFactory
from service_orders.models import ServiceOrder
from workbench.models import Conversation, Message
from workbench.services.visitors import visitor_open
from workbench.tests import ws
from workbench.tests.factories import ChannelFactory, IssueTypeFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(people, shop_a):
    """A shop_a channel whose group has merchant_a online; a visitor token for it."""
    group = SkillGroupFactory.create(shop=shop_a, name="A service")
    GroupMembership.objects.create(group=group, user=people["merchant_a"])
    AgentProfile.objects.filter(user=people["merchant_a"]).update(state="online")
    channel = ChannelFactory.create(shop=shop_a, default_group=group, greeting="Welcome!")
    token = visitor_open(channel=channel).token
    # Session cookies are made before any event loop runs (they touch the database).
    hdrs = {who: ws.headers(people[who]) for who in ("merchant_a", "merchant_b", "business")}
    return {"channel": channel, "token": token, "group": group, "hdrs": hdrs, **people}


def run(coro_fn):
    async_to_sync(coro_fn)()


def test_customer_send_is_acked_after_commit_and_agent_hears_it(setup):
    async def go():
        customer, welcome = await ws.visitor(setup["token"])
        assert welcome["conversation"] is None
        assert welcome["channel"]["greeting"] == "Welcome!"
        await customer.send_json_to({"type": "send", "client_id": "c1", "text": "Hello there"})
        ack = await ws.until(customer, "ack")
        stored = await database_sync_to_async(Message.objects.get)(client_id="c1")
        assert ack == {
            "type": "ack",
            "client_id": "c1",
            "id": stored.pk,
            "seq": 2,
            "conversation_id": stored.conversation_id,
        }
        # Routing gave it to the online merchant agent; she watches and reads it.
        agent = await ws.agent(setup["hdrs"]["merchant_a"])
        await agent.send_json_to(
            {"type": "watch", "conversation_id": stored.conversation_id, "after_seq": 0}
        )
        batch = await ws.until(agent, "messages")
        assert [(m["seq"], m["sender"], m["text"]) for m in batch["messages"]] == [
            (1, "system", "Welcome!"),
            (2, "customer", "Hello there"),
        ]
        await agent.send_json_to(
            {
                "type": "send",
                "conversation_id": stored.conversation_id,
                "client_id": "a1",
                "text": "Hi, how can I help?",
            }
        )
        agent_ack = await ws.until(agent, "ack")
        assert agent_ack["seq"] == 3
        heard = await ws.until(customer, "message")
        while heard["message"]["seq"] != 3:
            heard = await ws.until(customer, "message")
        assert heard["message"]["text"] == "Hi, how can I help?"
        assert heard["message"]["agent_name"] == setup["merchant_a"].name
        # Typing and read reach the other side.
        await customer.send_json_to({"type": "typing"})
        assert (await ws.until(agent, "typing"))["side"] == "customer"
        await customer.send_json_to({"type": "read", "seq": 3})
        assert (await ws.until(agent, "read"))["seq"] == 3
        await customer.disconnect()
        await agent.disconnect()

    run(go)


def test_resend_returns_the_original_and_other_content_is_refused(setup):
    async def go():
        customer, _welcome = await ws.visitor(setup["token"])
        await customer.send_json_to({"type": "send", "client_id": "dup", "text": "once"})
        first = await ws.until(customer, "ack")
        await customer.send_json_to({"type": "send", "client_id": "dup", "text": "once"})
        second = await ws.until(customer, "ack")
        assert (second["id"], second["seq"]) == (first["id"], first["seq"])
        await customer.send_json_to({"type": "send", "client_id": "dup", "text": "changed"})
        error = await ws.until(customer, "error")
        assert error["code"] == "client_id_reused" and error["client_id"] == "dup"
        await customer.disconnect()

    run(go)
    assert Message.objects.filter(sender="customer").count() == 1


def test_reconnect_after_seq_gets_exactly_the_missing_messages(setup):
    async def go():
        customer, _ = await ws.visitor(setup["token"])
        for i in range(5):
            await customer.send_json_to({"type": "send", "client_id": f"m{i}", "text": f"{i}"})
            await ws.until(customer, "ack", client_id=f"m{i}")
        await customer.disconnect()
        conversation = await database_sync_to_async(Conversation.objects.get)()
        again, welcome = await ws.visitor(
            setup["token"], after_seq=3, conversation_id=conversation.pk
        )
        assert welcome["conversation"]["id"] == conversation.pk
        batch = await ws.until(again, "messages")
        assert [m["seq"] for m in batch["messages"]] == [4, 5, 6]
        await again.send_json_to({"type": "sync", "after_seq": 5})
        assert [m["seq"] for m in (await ws.until(again, "messages"))["messages"]] == [6]
        await again.disconnect()

    run(go)


BAD_FRAMES = [
    ("not json at all", "bad_json"),
    ("[1, 2]", "bad_frame"),
    ('{"no": "type"}', "unknown_type"),
    ('{"type": "shout"}', "unknown_type"),
    ('{"type": "send", "client_id": 5, "text": "x"}', "bad_frame"),
    ('{"type": "send", "client_id": "ok", "text": ""}', "empty"),
    ('{"type": "send", "client_id": "ok", "text": ["x"]}', "bad_frame"),
    ('{"type": "sync", "after_seq": -1}', "bad_frame"),
    ('{"type": "rate", "rating": 5}', "unknown_conversation"),
    ('{"type": "send", "client_id": "big", "text": "' + "x" * 17000 + '"}', "frame_too_large"),
    ('{"type": "send", "client_id": "long", "text": "' + "x" * 4001 + '"}', "too_long"),
]


def test_bad_customer_frames_get_an_error_and_change_nothing(setup):
    async def go():
        customer, _ = await ws.visitor(setup["token"])
        for text, code in BAD_FRAMES:
            await customer.send_to(text_data=text)
            frame = await customer.receive_json_from(timeout=15)
            assert (frame["type"], frame["code"]) == ("error", code), text[:60]
            assert frame["message"]
        assert await ws.nothing_more(customer)
        await customer.disconnect()

    run(go)
    assert Conversation.objects.count() == 0 and Message.objects.count() == 0


def test_frames_before_hello_and_unknown_tokens_close_4401(setup):
    async def go():
        communicator, connected, _ = await ws.connect(ws.VISITOR_PATH, ws.headers())
        assert connected
        await communicator.send_json_to({"type": "send", "client_id": "x", "text": "hi"})
        assert (await communicator.receive_json_from())["code"] == "hello_first"
        assert (await communicator.receive_output(timeout=15))["code"] == 4401

        communicator, connected, _ = await ws.connect(ws.VISITOR_PATH, ws.headers())
        await communicator.send_json_to({"type": "hello", "visitor_token": "forged"})
        assert (await communicator.receive_json_from())["code"] == "not_authenticated"
        assert (await communicator.receive_output(timeout=15))["code"] == 4401

    run(go)
    assert Message.objects.count() == 0


def test_wrong_origin_is_refused_for_both_sockets(setup):
    evil = [
        (ws.VISITOR_PATH, ws.headers(origin="https://evil.example")),
        (ws.AGENT_PATH, ws.headers(setup["agent"], origin="https://evil.example")),
    ]

    async def go():
        for path, hdrs in evil:
            _c, connected, _code = await ws.connect(path, hdrs)
            assert connected is False

    run(go)


def test_agent_socket_needs_sign_in_and_the_workbench(setup):
    async def go():
        _c, connected, code = await ws.connect(ws.AGENT_PATH, ws.headers())
        assert (connected, code) == (False, 4401)
        _c, connected, code = await ws.connect(ws.AGENT_PATH, setup["hdrs"]["business"])
        assert (connected, code) == (False, 4403)

    run(go)


def _a_conversation(setup):
    from workbench.selectors import visitor_from_token
    from workbench.services.conversations import conversation_start
    from workbench.services.messages import message_send

    customer_visitor = visitor_from_token(token=setup["token"])
    assert customer_visitor is not None

    conversation = conversation_start(visitor=customer_visitor)
    message_send(conversation_id=conversation.pk, sender="customer", client_id="q", text="?")
    return conversation


def test_other_shops_agent_cannot_touch_the_conversation(setup):
    conversation = _a_conversation(setup)
    before = Message.objects.count()

    async def go():
        other = await ws.agent(setup["hdrs"]["merchant_b"])
        cid = conversation.pk
        for frame in (
            {"type": "watch", "conversation_id": cid},
            {"type": "send", "conversation_id": cid, "client_id": "z", "text": "mine now"},
            {"type": "accept", "conversation_id": cid},
            {"type": "close", "conversation_id": cid, "summary": "x"},
            {"type": "transfer", "conversation_id": cid, "to_agent_id": setup["merchant_b"].pk},
            {"type": "watch", "conversation_id": 999999},
        ):
            await other.send_json_to(frame)
            error = await other.receive_json_from(timeout=15)
            assert error["code"] == "unknown_conversation", frame
        assert await ws.nothing_more(other)
        await other.disconnect()

    run(go)
    conversation.refresh_from_db()
    assert conversation.status == "active" and conversation.agent == setup["merchant_a"]
    assert Message.objects.count() == before


def test_bad_agent_frames(setup):
    conversation = _a_conversation(setup)

    c = {"conversation_id": conversation.pk}

    async def go():
        agent = await ws.agent(setup["hdrs"]["merchant_a"])
        cases = [
            ("{", "bad_json"),
            ('{"type": "watch"}', "bad_frame"),
            ('{"type": "watch", "conversation_id": "1"}', "bad_frame"),
            ('{"type": "hello"}', "unknown_type"),
            (json.dumps({**c, "type": "close", "issue_type_id": 99999}), "unknown_issue_type"),
            (json.dumps({**c, "type": "transfer"}), "transfer_target"),
            (
                json.dumps({**c, "type": "transfer", "to_agent_id": setup["merchant_b"].pk}),
                "unknown_agent",
            ),
            (json.dumps({**c, "type": "accept", "ref": "r1"}), "already_taken"),
        ]
        for text, code in cases:
            await agent.send_to(text_data=text)
            error = await agent.receive_json_from(timeout=15)
            assert (error["type"], error["code"]) == ("error", code), text
        assert error["ref"] == "r1"
        await agent.disconnect()

    run(go)
    conversation.refresh_from_db()
    assert conversation.status == "active"


def test_agent_closes_and_customer_rates(setup):
    conversation = _a_conversation(setup)
    issue = IssueTypeFactory.create(name="Shipping")

    async def go():
        customer, _welcome = await ws.visitor(setup["token"])
        agent = await ws.agent(setup["hdrs"]["merchant_a"])
        await agent.send_json_to(
            {
                "type": "close",
                "conversation_id": conversation.pk,
                "issue_type_id": issue.pk,
                "summary": "Explained shipping",
            }
        )
        assert (await ws.until(agent, "done"))["action"] == "close"
        await customer.disconnect()

    run(go)
    order = ServiceOrder.objects.get(conversation=conversation)
    assert order.issue_type == issue and order.summary == "Explained shipping"


def test_customer_sees_close_and_rates_it(setup):
    async def go():
        customer, _ = await ws.visitor(setup["token"])
        await customer.send_json_to({"type": "send", "client_id": "c", "text": "hi"})
        ack = await ws.until(customer, "ack")
        agent = await ws.agent(setup["hdrs"]["merchant_a"])
        await agent.send_json_to({"type": "close", "conversation_id": ack["conversation_id"]})
        state = await ws.until(customer, "conversation")
        while state["conversation"]["status"] != "closed":
            state = await ws.until(customer, "conversation")
        await customer.send_json_to({"type": "rate", "rating": 5, "comment": "great"})
        assert (await ws.until(customer, "rated"))["rating"] == 5
        await customer.send_json_to({"type": "rate", "rating": 9})
        assert (await ws.until(customer, "error"))["code"] == "invalid_rating"
        await customer.disconnect()
        await agent.disconnect()

    run(go)
    assert ServiceOrder.objects.get().rating == 5


def test_waiting_customer_sees_queue_position_move(setup):
    AgentProfile.objects.filter(user=setup["merchant_a"]).update(state="offline", max_concurrent=1)

    async def go():
        first, _ = await ws.visitor(setup["token"])
        await first.send_json_to({"type": "send", "client_id": "a", "text": "first"})
        state = await ws.until(first, "conversation")
        assert state["conversation"]["status"] == "queued"
        assert state["conversation"]["queue_position"] == 1
        from agents.services import agent_set_state

        await database_sync_to_async(agent_set_state)(user=setup["merchant_a"], state="online")
        state = await ws.until(first, "conversation")
        while state["conversation"]["status"] != "active":
            state = await ws.until(first, "conversation")
        assert state["conversation"]["agent_name"] == setup["merchant_a"].name
        await first.disconnect()

    run(go)


def _positions(frames):
    return [f["conversation"]["queue_position"] for f in frames if f["type"] == "conversation"]


async def _drain(communicator):
    frames = []
    while not await communicator.receive_nothing(timeout=0.3):
        frames.append(await communicator.receive_json_from())
    return frames


def test_queue_positions_follow_the_queue_without_reading_it_per_customer(setup):
    """Three customers wait. As the queue moves (one routed, one closed while waiting, one
    transferred in ahead of them), each waiting customer is told their new place; the
    customer already being served hears nothing of the queue."""
    AgentProfile.objects.filter(user=setup["merchant_a"]).update(state="offline", max_concurrent=1)
    other = SkillGroupFactory.create(shop=setup["channel"].shop, name="Other")
    tokens = [setup["token"]] + [visitor_open(channel=setup["channel"]).token for _ in range(2)]

    async def go():
        customers = []
        for n, token in enumerate(tokens):
            customer, _ = await ws.visitor(token)
            await customer.send_json_to({"type": "send", "client_id": f"c{n}", "text": "hi"})
            frame = await ws.until(customer, "conversation")
            assert frame["conversation"]["queue_position"] == n + 1
            customers.append(customer)
        for customer in customers:
            await _drain(customer)
        ids = [c.pk async for c in Conversation.objects.order_by("created_at", "pk")]

        # The agent comes online: the first is routed to her, the others move up.
        from agents.services import agent_set_state

        await database_sync_to_async(agent_set_state)(user=setup["merchant_a"], state="online")
        served, second, third = customers
        assert (await ws.until(served, "conversation"))["conversation"]["status"] == "active"
        assert _positions(await _drain(second)) == [1]
        assert _positions(await _drain(third)) == [2]

        # A conversation waiting in another group is transferred here: it started before
        # the third customer's, so it goes ahead of them (not of the second).
        from workbench.services.conversations import (
            conversation_close,
            conversation_start,
            conversation_transfer,
        )

        @database_sync_to_async
        def transfer_in():
            visitor = visitor_open(channel=setup["channel"]).visitor
            conversation = conversation_start(visitor=visitor)
            Conversation.objects.filter(pk=conversation.pk).update(
                group=other, created_at=Conversation.objects.get(pk=ids[1]).created_at
            )
            conversation_transfer(
                conversation_id=conversation.pk, actor=setup["supervisor"], to_group=setup["group"]
            )

        await transfer_in()
        assert await _drain(second) == []  # still next: the newcomer is behind them
        assert _positions(await _drain(third)) == [3]

        # The second customer gives up while waiting (closed): everyone behind moves up.
        await database_sync_to_async(conversation_close)(conversation_id=ids[1], actor=None)
        assert _positions(await _drain(third)) == [2]
        # The served customer heard none of it.
        assert _positions(await _drain(served)) == []
        for customer in customers:
            await customer.disconnect()

    run(go)


@pytest.mark.redis
def test_round_trip_over_redis(setup, settings):
    with ws.redis_layer(settings):
        test_customer_send_is_acked_after_commit_and_agent_hears_it(setup)


@pytest.mark.redis
def test_catch_up_over_redis(setup, settings):
    with ws.redis_layer(settings):
        test_reconnect_after_seq_gets_exactly_the_missing_messages(setup)


@pytest.mark.redis
def test_resend_over_redis(setup, settings):
    with ws.redis_layer(settings):
        test_resend_returns_the_original_and_other_content_is_refused(setup)


@pytest.mark.redis
def test_isolation_over_redis(setup, settings):
    with ws.redis_layer(settings):
        test_other_shops_agent_cannot_touch_the_conversation(setup)


def test_resend_after_the_conversation_closed_returns_the_original(setup):
    async def go():
        customer, _ = await ws.visitor(setup["token"])
        await customer.send_json_to({"type": "send", "client_id": "late-ack", "text": "hello"})
        first = await ws.until(customer, "ack")
        from workbench.services.conversations import conversation_close

        await database_sync_to_async(conversation_close)(
            conversation_id=first["conversation_id"], actor=None
        )
        # The client never saw the ack (say) and resends: same message, no new conversation.
        await customer.send_json_to({"type": "send", "client_id": "late-ack", "text": "hello"})
        again = await ws.until(customer, "ack")
        assert (again["id"], again["conversation_id"]) == (first["id"], first["conversation_id"])
        await customer.disconnect()

    run(go)
    assert (
        Conversation.objects.count() == 1 and Message.objects.filter(sender="customer").count() == 1
    )


def test_missed_close_doorbell_still_starts_a_new_conversation(setup):
    async def go():
        customer, _ = await ws.visitor(setup["token"])
        await customer.send_json_to({"type": "send", "client_id": "a", "text": "first"})
        first = await ws.until(customer, "ack")
        # Closed behind the socket's back (as if the broadcast were lost).
        await database_sync_to_async(
            Conversation.objects.filter(pk=first["conversation_id"]).update
        )(status="closed")
        await customer.send_json_to({"type": "send", "client_id": "b", "text": "second"})
        second = await ws.until(customer, "ack")
        assert second["conversation_id"] != first["conversation_id"] and second["seq"] == 2
        await customer.disconnect()

    run(go)
    assert Conversation.objects.count() == 2


def test_identified_customer_continues_on_another_device(setup):
    from workbench.services.visitors import identity_hash

    channel = setup["channel"]
    proof = identity_hash(channel.identity_secret, "C900")
    phone = visitor_open(channel=channel, customer_id="C900", customer_hash=proof).token
    laptop = visitor_open(channel=channel, customer_id="C900", customer_hash=proof).token
    stranger = visitor_open(channel=channel).token
    assert phone != laptop

    async def go():
        on_phone, _ = await ws.visitor(phone)
        await on_phone.send_json_to({"type": "send", "client_id": "p1", "text": "from my phone"})
        ack = await ws.until(on_phone, "ack")
        on_laptop, welcome = await ws.visitor(laptop)
        assert welcome["identified"] is True
        assert welcome["conversation"]["id"] == ack["conversation_id"]
        batch = await ws.until(on_laptop, "messages")
        assert "from my phone" in [m["text"] for m in batch["messages"]]
        # An anonymous visitor of the same channel sees none of it.
        anon, anon_welcome = await ws.visitor(stranger)
        assert anon_welcome["conversation"] is None and anon_welcome["identified"] is False
        for c in (on_phone, on_laptop, anon):
            await c.disconnect()

    run(go)


def test_transfer_to_a_colleague_and_to_a_group(setup, shop_a):
    from agents.roles import Role
    from agents.tests.factories import UserFactory

    colleague = UserFactory.create(role=Role.MERCHANT_AGENT, shops=[shop_a])
    other_group = SkillGroupFactory.create(shop=shop_a, name="A returns")
    GroupMembership.objects.create(group=other_group, user=colleague)
    conversation = _a_conversation(setup)
    hdrs = setup["hdrs"]["merchant_a"]

    async def go():
        customer, _ = await ws.visitor(setup["token"])
        agent = await ws.agent(hdrs)
        await agent.send_json_to(
            {"type": "transfer", "conversation_id": conversation.pk, "to_agent_id": colleague.pk}
        )
        assert (await ws.until(agent, "done"))["action"] == "transfer"
        notice = await ws.until(customer, "message")
        while notice["message"]["sender"] != "system":
            notice = await ws.until(customer, "message")
        assert colleague.name in notice["message"]["text"]
        await customer.disconnect()
        await agent.disconnect()

    run(go)
    conversation.refresh_from_db()
    assert conversation.agent == colleague and conversation.status == "active"
    from workbench.services.conversations import conversation_transfer

    conversation_transfer(conversation_id=conversation.pk, actor=colleague, to_group=other_group)
    conversation.refresh_from_db()
    # Nobody online in the new group: it waits in that group's queue.
    assert (conversation.status, conversation.group, conversation.agent) == (
        "queued",
        other_group,
        None,
    )
    kinds = list(conversation.service_order.steps.values_list("kind", flat=True))
    assert kinds == ["queued", "routed", "transferred", "transferred"]


def test_agent_catches_up_after_seq_on_watch(setup):
    conversation = _a_conversation(setup)  # greeting (1) and "?" (2)
    from workbench.services.messages import message_send

    for n in range(3):
        message_send(
            conversation_id=conversation.pk, sender="customer", client_id=f"more{n}", text=f"{n}"
        )
    hdrs = setup["hdrs"]["merchant_a"]

    async def go():
        agent = await ws.agent(hdrs)
        await agent.send_json_to(
            {"type": "watch", "conversation_id": conversation.pk, "after_seq": 3, "ref": "w-1"}
        )
        batch = await ws.until(agent, "messages")
        assert [m["seq"] for m in batch["messages"]] == [4, 5]
        assert batch["more"] is False
        assert batch["ref"] == "w-1"  # the answer can be matched to its request
        await agent.disconnect()

    run(go)
