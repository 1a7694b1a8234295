"""The front-end kit in real Chromium against a real server: the customer chat and the
workbench lose their sockets in three ways, reconnect, catch up, and show every message
once, in seq order.

1. The customer's ack (and the push) is lost, then the server closes the socket (1012):
   the reconnect's catch-up brings the message, the outbox resend gets the original back.
2. The agent's socket goes silent both ways while the customer writes and the agent
   replies, then the server closes it: the workbench catches up the customer's messages
   with `watch` after_seq, and the reply waiting in the outbox is delivered once.
3. The server process is killed and started again: both pages reconnect by themselves, and
   what the customer wrote while it was down is delivered once.

Frames go through Playwright's WebSocket routing (a wire the test can hold and cut),
which is the page's own connection to the server, cookies and Origin included.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from agents.models import AgentProfile, GroupMembership
from agents.tests.factories import SkillGroupFactory
from tests.live_server import CHROMIUM, CHROMIUM_ARGS
from workbench.models import Message
from workbench.tests.factories import ChannelFactory
from workbench.tests.live_server import Server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


class Wire:
    """Between a page and the server: forwards frames, or holds them (they are lost), and
    closes the connection the way a server would."""

    def __init__(self) -> None:
        self.routes: list = []
        self.hold_up = False  # page -> server
        self.hold_down = False  # server -> page
        self.lost: list[str] = []

    def __call__(self, ws) -> None:
        server = ws.connect_to_server()
        self.routes.append(ws)

        def up(message) -> None:
            if self.hold_up:
                self.lost.append(f"up {message}")
            else:
                server.send(message)

        def down(message) -> None:
            if self.hold_down:
                self.lost.append(f"down {message}")
            else:
                ws.send(message)

        ws.on_message(up)
        server.on_message(down)

    def server_closes(self, code: int = 1012) -> None:
        """The server ends the connection (1012: service restart); the wire works again."""
        self.hold_up = self.hold_down = False
        self.routes[-1].close(code=code, reason="restart")


def _seqs(locator) -> list[int]:
    return [int(s) for s in locator.evaluate_all("els => els.map(e => e.dataset.seq)")]


def test_widget_and_workbench_reconnect_catch_up_and_deliver_the_outbox_once(people, shop_a):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30000)

    agent = people["merchant_a"]
    group = SkillGroupFactory.create(shop=shop_a, name="A service")
    GroupMembership.objects.create(group=group, user=agent)
    AgentProfile.objects.filter(user=agent).update(state="online")
    channel = ChannelFactory.create(shop=shop_a, default_group=group, greeting="Welcome to A!")
    client = Client()
    client.force_login(agent)
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value

    server = Server(
        settings_module="config.settings.local",
        extra_env={"DJANGO_SECRET_KEY": settings.SECRET_KEY, "DJANGO_DEBUG": "true"},
    )
    server.start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            errors: list[str] = []
            customer_wire, agent_wire = Wire(), Wire()

            chat = browser.new_context().new_page()
            chat.on("pageerror", lambda e: errors.append(str(e)))
            chat.route_web_socket(re.compile(r"/ws/chat/visitor/$"), customer_wire)
            agent_ctx = browser.new_context(viewport={"width": 1400, "height": 850})
            agent_ctx.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": server.base}]
            )
            desk = agent_ctx.new_page()
            desk.on("pageerror", lambda e: errors.append(str(e)))
            desk.route_web_socket(re.compile(r"/ws/chat/agent/$"), agent_wire)

            desk.goto(f"{server.base}/workbench/")
            live = desk.locator("[data-live]")
            expect(live).to_have_class("live is-live")
            chat.goto(f"{server.base}/chat/{channel.key}/")
            expect(chat.locator(".kchat-greeting")).to_contain_text("Welcome to A!")

            def customer_says(text: str) -> None:
                chat.locator("[data-input]").fill(text)
                chat.locator("[data-input]").press("Enter")

            def agent_says(text: str) -> None:
                desk.locator("[data-input]").fill(text)
                desk.locator("[data-input]").press("Enter")

            customer_log = chat.locator("[data-log] [data-seq]")
            agent_log = desk.locator("[data-log] [data-seq]")
            exchanges = desk.locator("[data-exchanges]")

            customer_says("Where is my tea?")
            expect(chat.locator(".from-customer:not(.is-pending)")).to_have_count(1)
            desk.locator('[data-list="active"] .wb-item').click()
            expect(desk.locator("[data-log]")).to_contain_text("Where is my tea?")
            agent_says("Let me look.")
            expect(chat.locator(".from-agent")).to_have_count(1)
            # The exchange count is the server's (customer turn answered: 1).
            expect(exchanges).to_have_text("1")

            # 1. The customer's ack and the push are lost; the server closes the socket.
            customer_wire.hold_down = True
            customer_says("Lost ack")
            expect(chat.locator(".is-pending")).to_have_count(1)
            expect(desk.locator("[data-log]")).to_contain_text("Lost ack")  # it was stored
            assert any('"ack"' in x for x in customer_wire.lost)
            customer_wire.server_closes()
            expect(chat.locator(".is-pending")).to_have_count(0)
            expect(chat.locator(".from-customer", has_text="Lost ack")).to_have_count(1)
            assert len(customer_wire.routes) == 2  # reconnected once

            # 2. The agent's wire goes silent both ways; the customer writes twice and the
            # agent replies (that reply waits in the outbox); then the server closes it.
            agent_wire.hold_up = agent_wire.hold_down = True
            customer_says("Away one")
            customer_says("Away two")
            expect(chat.locator(".from-customer:not(.is-pending)")).to_have_count(4)
            agent_says("Sorry, I was away.")
            expect(desk.locator(".wb-msg.is-pending")).to_have_count(1)
            expect(desk.locator("[data-log]")).not_to_contain_text("Away one")
            agent_wire.server_closes()
            expect(desk.locator(".wb-msg.is-pending")).to_have_count(0)
            expect(desk.locator(".wb-msg", has_text="Away one")).to_have_count(1)
            expect(desk.locator(".wb-msg", has_text="Away two")).to_have_count(1)
            expect(desk.locator(".wb-msg", has_text="Sorry, I was away.")).to_have_count(1)
            expect(chat.locator(".from-agent", has_text="Sorry, I was away.")).to_have_count(1)
            expect(exchanges).to_have_text("2")

            # 3. The server process dies. The customer writes meanwhile (the outbox keeps
            # it); the server comes back; both pages reconnect by themselves.
            server.kill()
            expect(live).not_to_have_class("live is-live")
            expect(chat.locator("[data-status]")).to_have_text(re.compile("Reconnecting"))
            customer_says("Written while you were down")
            expect(chat.locator(".is-pending")).to_have_count(1)
            server.start()
            expect(live).to_have_class("live is-live")
            expect(chat.locator(".is-pending")).to_have_count(0)
            expect(desk.locator(".wb-msg", has_text="Written while you were down")).to_have_count(1)
            agent_says("Welcome back.")
            expect(chat.locator(".from-agent", has_text="Welcome back.")).to_have_count(1)
            expect(exchanges).to_have_text("3")

            # Every message once, in seq order, on both sides: the greeting, 5 from the
            # customer, 3 from the agent.
            expect(customer_log).to_have_count(9)
            expect(agent_log).to_have_count(9)
            assert _seqs(customer_log) == list(range(1, 10))
            assert _seqs(agent_log) == list(range(1, 10))
            outbox = chat.evaluate(f"localStorage.getItem('kefu.{channel.key}.pending')")
            assert outbox == "[]"
            browser.close()
            assert errors == []
    finally:
        server.stop()

    texts = list(Message.objects.order_by("seq").values_list("text", flat=True))
    assert texts == [
        "Welcome to A!",
        "Where is my tea?",
        "Let me look.",
        "Lost ack",
        "Away one",
        "Away two",
        "Sorry, I was away.",
        "Written while you were down",
        "Welcome back.",
    ]
