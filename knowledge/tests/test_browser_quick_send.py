"""Quick send in real Chromium: the knowledge base suggests an answer for the customer's
last message, a "/" shortcut in the reply box finds a canned reply, and the picked text is
editable in the composer before it is sent."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from agents.models import AgentProfile, GroupMembership
from agents.tests.factories import SkillGroupFactory
from knowledge.models import CannedReply, KnowledgeQA
from tests.live_server import CHROMIUM, CHROMIUM_ARGS
from workbench.models import Conversation, Message
from workbench.services.conversations import conversation_start
from workbench.services.messages import message_send
from workbench.services.visitors import visitor_open
from workbench.tests.factories import ChannelFactory
from workbench.tests.live_server import Server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


def test_suggestion_and_shortcut_fill_the_composer(people, shop_a):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20000)
    agent = people["merchant_a"]
    group = SkillGroupFactory.create(shop=shop_a, name="A service")
    GroupMembership.objects.create(group=group, user=agent)
    AgentProfile.objects.filter(user=agent).update(state="online")
    channel = ChannelFactory.create(shop=shop_a, default_group=group)
    canned = CannedReply.objects.create(
        title="Shipping times",
        text="Orders ship within 24 hours.",
        shortcut="/ship",
        scope=CannedReply.Scope.PERSONAL,
        owner=agent,
    )
    KnowledgeQA.objects.create(
        question="退货政策是什么？",
        answer="签收后 7 天内可无理由退货。",
        keywords="退货 退款",
        shop=shop_a,
    )
    visitor = visitor_open(channel=channel).visitor
    conversation = conversation_start(visitor=visitor)
    message_send(
        conversation_id=conversation.pk, sender="customer", client_id="c-1", text="我想退货怎么办"
    )
    # Routing (eager here) gave it to the only online member.
    assert Conversation.objects.get(pk=conversation.pk).agent == agent

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
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})
            ctx.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": server.base}]
            )
            desk = ctx.new_page()
            desk.on("pageerror", lambda e: errors.append(str(e)))
            desk.goto(f"{server.base}/workbench/")
            # The canned list loads at once; the agent's own reply is in it.
            expect(desk.locator("[data-quick-canned]")).to_contain_text("Shipping times")

            desk.locator('[data-list="active"] .wb-item').first.click()
            expect(desk.locator("[data-log]")).to_contain_text("我想退货怎么办")
            # The knowledge base answers the customer's last message.
            suggestion = desk.locator("[data-quick-kb] .wb-quick-item")
            expect(suggestion.first).to_contain_text("退货政策")
            suggestion.first.click()
            expect(desk.locator("[data-input]")).to_have_value("签收后 7 天内可无理由退货。")

            # "/" shortcut: typing it replaces the box's text with the canned reply.
            desk.locator("[data-input]").fill("")
            desk.locator("[data-input]").type("/sh")
            pick = desk.locator("[data-quick-canned] .wb-quick-item", has_text="/ship")
            expect(pick).to_have_count(1)
            with desk.expect_response(lambda r: r.url.endswith(f"/{canned.pk}/use/")) as used:
                pick.click()
            assert used.value.status == 200  # counted, so the list orders by use
            box = desk.locator("[data-input]")
            expect(box).to_have_value("Orders ship within 24 hours.")
            box.press("End")
            box.type(" Thank you!")  # editable before sending
            box.press("Enter")
            expect(desk.locator(".wb-msg.from-agent:not(.is-pending)")).to_have_count(1)
            browser.close()
            assert errors == []
    finally:
        server.stop()

    sent = Message.objects.get(conversation=conversation, sender="agent")
    assert sent.text == "Orders ship within 24 hours. Thank you!"
    canned.refresh_from_db()
    assert canned.usage_count == 1
