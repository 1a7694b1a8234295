"""The whole story in real Chromium: a customer writes from the widget on a shop page, an
agent signed in elsewhere gets it on the workbench and replies, the customer sees the reply,
the agent closes with an issue type, the customer rates, and the service order is right."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from agents.models import AgentProfile, GroupMembership
from agents.tests.factories import SkillGroupFactory
from commerce.tests.factories import CustomerFactory, OrderFactory
from service_orders.models import ServiceOrder
from tests.live_server import CHROMIUM, CHROMIUM_ARGS
from workbench.tests.factories import ChannelFactory, IssueTypeFactory
from workbench.tests.live_server import Server

pytestmark = [
    pytest.mark.browser,
    # The server runs in its own process: it needs a database that process can open.
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


def test_customer_and_agent_whole_story(people, shop_a):
    from playwright.sync_api import expect, sync_playwright

    # Generous waits: the suite shares a 2-core machine with other test runs.
    expect.set_options(timeout=20000)

    agent = people["merchant_a"]
    group = SkillGroupFactory.create(shop=shop_a, name="A service")
    GroupMembership.objects.create(group=group, user=agent)
    AgentProfile.objects.filter(user=agent).update(state="online")
    channel = ChannelFactory.create(shop=shop_a, default_group=group, greeting="Welcome to A!")
    IssueTypeFactory.create(name="Delivery question")
    huang = CustomerFactory.create(external_id="C1002", name="Huang Min")
    OrderFactory.create(shop=shop_a, customer=huang, order_no="BT-HM-1")
    client = Client()
    client.force_login(agent)
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value

    # Development settings serve static files without collectstatic; the secret key is
    # shared so the session made here is valid there.
    server = Server(
        settings_module="config.settings.local",
        extra_env={"DJANGO_SECRET_KEY": settings.SECRET_KEY, "DJANGO_DEBUG": "true"},
    )
    server.start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            errors: list[str] = []
            shop_page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
            shop_page.on("pageerror", lambda e: errors.append(str(e)))
            agent_ctx = browser.new_context(viewport={"width": 1400, "height": 850})
            agent_ctx.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": server.base}]
            )
            desk = agent_ctx.new_page()
            desk.on("pageerror", lambda e: errors.append(str(e)))
            desk.goto(f"{server.base}/workbench/")
            expect(desk.locator("[data-live]")).to_have_class("live is-live")

            # Customer: widget on the shop's page, one message.
            # The demo shop page signs customer C1002 the way a shop's server would; the
            # widget hands the identity to the chat by postMessage.
            shop_page.goto(f"{server.base}/chat/demo/?channel={channel.key}&customer=C1002")
            shop_page.locator("button[aria-label]").last.click()
            chat = shop_page.frame_locator("iframe")
            expect(chat.locator(".kchat-greeting")).to_contain_text("Welcome to A!")
            chat.locator("[data-input]").fill("My tea has not arrived")
            chat.locator("[data-input]").press("Enter")
            expect(chat.locator(".from-customer:not(.is-pending)")).to_have_count(1)

            # Agent: routed to her (online, free); open it from the active list and reply.
            item = desk.locator('[data-list="active"] .wb-item')
            expect(item).to_have_count(1)
            expect(item).to_contain_text("Huang Min")  # identified, not "Visitor #…"
            item.click()
            expect(desk.locator("[data-log]")).to_contain_text("My tea has not arrived")
            expect(desk.locator("[data-customer]")).to_contain_text("BT-HM-1")  # her order
            desk.locator("[data-input]").fill("Sorry! It ships today, tracking SF123.")
            desk.locator("[data-input]").press("Enter")
            expect(desk.locator(".wb-msg.from-agent:not(.is-pending)")).to_have_count(1)

            # Customer sees the reply, once.
            reply = chat.locator(".from-agent")
            expect(reply).to_have_count(1)
            expect(reply).to_contain_text("tracking SF123")

            # A reload shows the whole conversation again, each message once.
            shop_page.reload()
            shop_page.locator("button[aria-label]").last.click()
            chat = shop_page.frame_locator("iframe")
            expect(chat.locator(".from-agent")).to_have_count(1)
            expect(chat.locator(".from-customer")).to_have_count(1)
            expect(chat.locator(".from-system")).to_have_count(1)  # the greeting

            # Agent closes with an issue type and summary.
            desk.locator('[data-action="close"]').click()
            dialog = desk.locator('[data-dialog="close"]')
            dialog.locator("select[name=issue_type_id]").select_option(label="Delivery question")
            dialog.locator("textarea[name=summary]").fill("Shipping delay explained")
            dialog.locator("button[value=ok]").click()
            expect(desk.locator('[data-list="closed"] .wb-item')).to_have_count(1)

            # Customer rates.
            rate = chat.locator("[data-rate]")
            expect(rate).to_be_visible(timeout=10000)
            rate.locator('[data-star="4"]').click()
            rate.locator("textarea[name=comment]").fill("Quick answer")
            rate.locator("button[type=submit]").click()
            expect(chat.locator("[data-rated]")).to_be_visible(timeout=10000)

            # (No ORM calls in here: Playwright's sync API runs an event loop.)
            desk.goto(f"{server.base}/service-orders/")
            desk.locator("table a").first.click()
            expect(desk.locator('[data-metric="messages"]')).to_have_text("1 / 1")
            expect(desk.locator("body")).to_contain_text("Delivery question")
            expect(desk.locator("body")).to_contain_text("Quick answer")
            desk.screenshot(path=str(settings.BASE_DIR / "var" / "browser-story-order.png"))
            browser.close()
            assert errors == []
    finally:
        server.stop()

    order = ServiceOrder.objects.get()
    assert (order.rating, order.rating_comment) == (4, "Quick answer")
    assert order.issue_type is not None and order.issue_type.name == "Delivery question"
    assert order.summary == "Shipping delay explained"
    assert (order.customer_messages, order.agent_messages) == (1, 1)
    assert order.wait_seconds == 0  # routed at once: she was online and free
    assert order.first_response_seconds is not None and order.handle_seconds is not None
    # One customer turn, answered once: the average response is that one answer's delay,
    # which is (to rounding) the first response time, the conversation having started with
    # the customer's message.
    assert order.avg_agent_response_seconds is not None
    assert abs(order.avg_agent_response_seconds - order.first_response_seconds) <= 1
    assert order.agent == agent
    assert order.customer is not None and order.customer.external_id == "C1002"
