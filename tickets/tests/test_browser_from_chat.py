"""Two clicks in real Chromium: from a closed-today conversation in the workbench to a
ticket linked to its service order; then resolving it puts the note into that chat."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.test import Client

from service_orders.models import ServiceOrder
from tickets.models import Ticket
from tickets.services.lifecycle import ticket_accept, ticket_resolve
from tickets.services.notifications import ticket_notify_resolution
from tickets.tests.factories import TicketTypeFactory
from workbench.models import Message
from workbench.services.conversations import (
    conversation_accept,
    conversation_close,
    conversation_start,
)
from workbench.services.messages import message_send
from workbench.services.visitors import visitor_open
from workbench.tests.helpers import make_channel

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Chromium at {CHROMIUM}"),
]


def test_two_clicks_from_a_closed_conversation_to_a_linked_ticket(people, shop_a):
    from playwright.sync_api import expect, sync_playwright

    from workbench.tests.live_server import Server

    expect.set_options(timeout=20000)
    agent = people["merchant_a"]
    kind = TicketTypeFactory.create(name="Chat follow-up")
    conversation = conversation_start(
        visitor=visitor_open(channel=make_channel(shop=shop_a)).visitor
    )
    message_send(
        conversation_id=conversation.pk,
        sender="customer",
        client_id="c1",
        text="The lid of my teapot arrived cracked",
    )
    conversation_accept(conversation_id=conversation.pk, agent=agent)
    conversation_close(conversation_id=conversation.pk, actor=agent)
    so = ServiceOrder.objects.get(conversation=conversation)
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
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            errors: list[str] = []
            ctx = browser.new_context(viewport={"width": 1400, "height": 850})
            ctx.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": server.base}]
            )
            desk = ctx.new_page()
            desk.on("pageerror", lambda e: errors.append(str(e)))
            desk.goto(f"{server.base}/workbench/")
            desk.locator('[data-list="closed"] .wb-item').first.click()
            button = desk.locator("[data-ticket-link]")
            expect(button).to_be_visible()
            with ctx.expect_page() as opened:
                button.click()  # click one
            form = opened.value
            form.on("pageerror", lambda e: errors.append(str(e)))
            expect(form.locator('input[name="title"]')).to_have_value(
                "The lid of my teapot arrived cracked"
            )
            form.locator('button[type="submit"].primary').click()  # click two
            expect(form.locator("[data-service-order]")).to_have_text(so.number)
            browser.close()
            assert errors == []
    finally:
        server.stop()

    ticket = Ticket.objects.get()
    assert (ticket.service_order_id, ticket.ticket_type_id, ticket.shop_id) == (
        so.pk,
        kind.pk,
        shop_a.pk,
    )
    ticket = ticket_accept(ticket=ticket, actor=people["admin"])
    ticket_resolve(ticket=ticket, actor=people["admin"], note="A new lid is on its way")
    # transaction=True: on_commit ran the (eager) task already; running it again is a retry.
    ticket_notify_resolution(node_id=ticket.nodes.get(action="resolve").pk)
    assert (
        Message.objects.filter(
            conversation=conversation, sender="system", text__contains="A new lid"
        ).count()
        == 1
    )
