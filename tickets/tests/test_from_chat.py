"""Tickets from a conversation: the link to the service order, the two-click create from the
workbench, and the customer hearing back in the chat (or by email) when it is resolved."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from commerce.tests.factories import OrderFactory
from service_orders.models import ServiceOrder
from tests.permissions import assert_matrix
from tickets.models import Ticket, TicketNode
from tickets.services.errors import TicketPermissionError
from tickets.services.lifecycle import ticket_accept, ticket_create, ticket_resolve
from tickets.services.notifications import ticket_notify_resolution
from tickets.tasks import notify_resolution
from tickets.tests.factories import TicketFieldFactory, TicketTypeFactory
from workbench.models import Conversation, Message
from workbench.services.conversations import (
    conversation_accept,
    conversation_close,
    conversation_start,
)
from workbench.services.messages import message_send
from workbench.services.visitors import identity_hash, visitor_open
from workbench.tests.helpers import make_channel, online_agent

pytestmark = pytest.mark.django_db


def chat(shop, *, customer_id: str = "C777", email: str = "", close: bool = False):
    channel = make_channel(shop=shop)
    session = visitor_open(
        channel=channel,
        customer_id=customer_id,
        customer_hash=identity_hash(channel.identity_secret, customer_id),
    )
    customer = session.visitor.customer
    assert customer is not None
    if email:
        customer.email = email
        customer.save(update_fields=["email"])
    conversation = conversation_start(visitor=session.visitor)
    for i, text in enumerate(["Hi", "My parcel never came", "Order BT1, sent a week ago"]):
        message_send(
            conversation_id=conversation.pk, sender="customer", client_id=f"c{i}", text=text
        )
    agent = online_agent(conversation.group)
    if conversation.status == Conversation.Status.QUEUED:
        conversation_accept(conversation_id=conversation.pk, agent=agent)
    if close:
        conversation_close(conversation_id=conversation.pk, actor=agent)
    return ServiceOrder.objects.select_related("customer").get(conversation=conversation)


# --- the link -----------------------------------------------------------------------------


def test_create_with_service_order_defaults_customer_and_shop_and_says_so(
    people, shop_a, chat_type
):
    so = chat(shop_a)
    ticket = ticket_create(
        ticket_type=chat_type, title="Parcel", submitter=people["merchant_a"], service_order=so
    )
    assert ticket.service_order_id == so.pk
    assert ticket.customer_id == so.customer_id
    assert ticket.shop_id == shop_a.pk
    node = ticket.nodes.get(action=TicketNode.Action.CREATE)
    assert so.number in node.comment


def test_another_shops_service_order_is_refused(people, shop_a, chat_type):
    so = chat(shop_a)
    with pytest.raises(TicketPermissionError):
        ticket_create(
            ticket_type=chat_type, title="x", submitter=people["merchant_b"], service_order=so
        )
    assert not Ticket.objects.exists()


def test_order_of_another_shop_than_the_chat_is_refused(people, shop_a, shop_b, chat_type):
    so = chat(shop_a)
    other = OrderFactory.create(shop=shop_b)
    with pytest.raises(ValidationError):
        ticket_create(
            ticket_type=chat_type,
            title="x",
            submitter=people["admin"],
            service_order=so,
            order=other,
        )


# --- the customer hears back ----------------------------------------------------------------


def _resolve(ticket, who, note="Refund sent, 3-5 days to arrive"):
    return ticket_resolve(ticket=ticket, actor=who, note=note)


def _linked(people, so, chat_type):
    ticket = ticket_create(
        ticket_type=chat_type, title="Parcel", submitter=people["admin"], service_order=so
    )
    return ticket_accept(ticket=ticket, actor=people["supervisor"])


def test_resolve_posts_the_note_into_the_open_conversation_once(
    people, shop_a, chat_type, django_capture_on_commit_callbacks
):
    so = chat(shop_a, email="c@example.com")
    ticket = _linked(people, so, chat_type)
    before = Conversation.objects.get(pk=so.conversation_id).last_seq
    with django_capture_on_commit_callbacks(execute=True):
        _resolve(ticket, people["supervisor"])
    notes = list(Message.objects.filter(conversation_id=so.conversation_id, sender="system"))
    notice = [m for m in notes if "Refund sent" in m.text]
    assert len(notice) == 1
    assert notice[0].text.startswith(f"Your request #{ticket.pk} has been resolved")
    # Through the chat path: the next seq, and the conversation's counter moved with it.
    assert notice[0].seq == before + 1
    assert Conversation.objects.get(pk=so.conversation_id).last_seq == before + 1
    # The customer is in the chat: no email on top.
    assert mail.outbox == []

    # A retried task (worker died after sending, broker redelivers) sends nothing again.
    node = ticket.nodes.get(action=TicketNode.Action.RESOLVE)
    assert ticket_notify_resolution(node_id=node.pk) is False
    notify_resolution.delay(node.pk)
    assert (
        Message.objects.filter(conversation_id=so.conversation_id, text=notice[0].text).count() == 1
    )


def test_closed_conversation_keeps_the_note_in_its_history_and_emails(
    people, shop_a, chat_type, django_capture_on_commit_callbacks
):
    so = chat(shop_a, email="c@example.com", close=True)
    ticket = _linked(people, so, chat_type)
    with django_capture_on_commit_callbacks(execute=True):
        _resolve(ticket, people["supervisor"])
    assert Message.objects.filter(
        conversation_id=so.conversation_id, sender="system", text__contains="Refund sent"
    ).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["c@example.com"]
    assert "Refund sent" in mail.outbox[0].body
    node = ticket.nodes.get(action=TicketNode.Action.RESOLVE)
    with django_capture_on_commit_callbacks(execute=True):
        notify_resolution.delay(node.pk)
    assert len(mail.outbox) == 1


def test_reopen_and_resolve_again_is_a_new_resolution_and_is_sent(
    people, shop_a, chat_type, django_capture_on_commit_callbacks
):
    from tickets.services.lifecycle import ticket_reopen

    so = chat(shop_a)
    ticket = _linked(people, so, chat_type)
    with django_capture_on_commit_callbacks(execute=True):
        _resolve(ticket, people["supervisor"], note="First fix")
        ticket.refresh_from_db()
        ticket_reopen(ticket=ticket, actor=people["supervisor"], note="Still broken")
        ticket.refresh_from_db()
        ticket = ticket_accept(ticket=ticket, actor=people["supervisor"])
        _resolve(ticket, people["supervisor"], note="Second fix")
    texts = list(
        Message.objects.filter(conversation_id=so.conversation_id, sender="system").values_list(
            "text", flat=True
        )
    )
    assert sum("First fix" in t for t in texts) == 1
    assert sum("Second fix" in t for t in texts) == 1


def test_rolled_back_resolve_sends_nothing(
    people, shop_a, chat_type, django_capture_on_commit_callbacks
):
    so = chat(shop_a, email="c@example.com", close=True)
    ticket = _linked(people, so, chat_type)
    count = Message.objects.filter(conversation_id=so.conversation_id).count()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _resolve(ticket, people["supervisor"])
        raise RuntimeError("something after the resolve failed")
    assert Message.objects.filter(conversation_id=so.conversation_id).count() == count
    assert mail.outbox == []
    assert Ticket.objects.get(pk=ticket.pk).status != Ticket.Status.RESOLVED


def test_ticket_without_a_conversation_keeps_emailing(
    people, chat_type, django_capture_on_commit_callbacks
):
    order = OrderFactory.create()
    order.customer.email = "plain@example.com"
    order.customer.save(update_fields=["email"])
    ticket = ticket_create(ticket_type=chat_type, title="x", submitter=people["admin"], order=order)
    ticket = ticket_accept(ticket=ticket, actor=people["supervisor"])
    with django_capture_on_commit_callbacks(execute=True):
        _resolve(ticket, people["supervisor"])
    assert [m.to for m in mail.outbox] == [["plain@example.com"]]
    assert not Message.objects.filter(sender="system", text__contains="Refund sent").exists()


# --- pages ---------------------------------------------------------------------------------

SO_SHOP_A = {
    "anonymous": 302,
    "admin": 302,
    "supervisor": 302,
    "agent": 302,
    "merchant_a": 302,
    "merchant_b": 404,
    # Business staff file tickets but do not read chats: the draft would quote one.
    "business": 403,
}


def test_from_chat_matrix_redirects_to_prefilled_create_page(client_for, shop_a, chat_type):
    so = chat(shop_a)
    url = reverse("tickets:from_chat", args=[so.pk])
    assert_matrix(client_for, url, SO_SHOP_A)
    response = client_for("merchant_a").get(url)
    assert response["Location"] == (
        reverse("tickets:create", args=[chat_type.pk]) + f"?service_order={so.pk}"
    )


def test_from_chat_prefers_the_type_that_asks_least(client_for, shop_a, chat_type):
    asking = TicketTypeFactory.create(name="A first by name")
    TicketFieldFactory.create(ticket_type=asking, required=True)
    so = chat(shop_a)
    response = client_for("agent").get(reverse("tickets:from_chat", args=[so.pk]))
    assert f"/new/{chat_type.pk}/" in response["Location"]


def test_create_page_is_prefilled_from_the_conversation(client_for, shop_a, chat_type):
    so = chat(shop_a)
    url = reverse("tickets:create", args=[chat_type.pk]) + f"?service_order={so.pk}"
    assert_matrix(
        client_for,
        url,
        # Those who may not see the chat get the form with an error (the next test).
        {"anonymous": 302, **{who: 200 for who in SO_SHOP_A if who != "anonymous"}},
    )
    page = client_for("merchant_a").get(url).content.decode()
    assert 'value="Order BT1, sent a week ago"' in page  # title: the last thing they said
    assert "My parcel never came" in page  # description: the last messages
    assert 'value="C777"' in page
    assert so.number in page


@pytest.mark.parametrize("who", ["merchant_b", "business"])
def test_create_page_with_a_chat_the_user_may_not_see_says_so_on_the_form(
    client_for, shop_a, chat_type, who
):
    # Another shop's chat, or any chat for someone who may not read chats: the same form
    # error as for a chat that does not exist, and nothing of the chat on the page.
    so = chat(shop_a)
    url = reverse("tickets:create", args=[chat_type.pk]) + f"?service_order={so.pk}"
    missing = reverse("tickets:create", args=[chat_type.pk]) + "?service_order=999999"
    page = client_for(who).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "No service order with this id that you may see." in text
    assert "My parcel never came" not in text and so.number not in text
    assert page.context["link_errors"] == client_for(who).get(missing).context["link_errors"]


def test_second_click_creates_the_linked_ticket(client_for, shop_a, chat_type):
    so = chat(shop_a)
    url = reverse("tickets:create", args=[chat_type.pk]) + f"?service_order={so.pk}"
    form = {
        "title": "Parcel never came",
        "priority": "normal",
        "group": chat_type.default_group_id,
        "customer": "C777",
        "description": "My parcel never came",
    }
    response = client_for("merchant_a").post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get()
    assert ticket.service_order_id == so.pk
    assert ticket.customer_id == so.customer_id
    assert ticket.shop_id == shop_a.pk
    # Another shop's agent cannot post a link to it either: a form error, no ticket.
    refused = client_for("merchant_b").post(url, form)
    assert refused.status_code == 200
    assert refused.context["form"].non_field_errors() == [
        "No service order with this id that you may see."
    ]
    assert Ticket.objects.count() == 1


def test_pages_show_the_link_both_ways_each_scoped(client_for, people, shop_a, chat_type):
    so = chat(shop_a)
    ticket = _linked(people, so, chat_type)
    ticket_page = client_for("merchant_a").get(reverse("tickets:detail", args=[ticket.pk]))
    assert reverse("service_orders:detail", args=[so.pk]) in ticket_page.content.decode()
    so_page = client_for("merchant_a").get(reverse("service_orders:detail", args=[so.pk]))
    assert reverse("tickets:detail", args=[ticket.pk]) in so_page.content.decode()
    assert (
        client_for("merchant_b").get(reverse("service_orders:detail", args=[so.pk])).status_code
        == 404
    )
    # A ticket the viewer may not see is not listed on a service order they may see.
    hidden = _linked(people, so, chat_type)
    Ticket.objects.filter(pk=hidden.pk).update(shop_id=None)
    so_page = client_for("merchant_a").get(reverse("service_orders:detail", args=[so.pk]))
    assert reverse("tickets:detail", args=[hidden.pk]) not in so_page.content.decode()


def test_workbench_shows_the_create_ticket_button_to_ticket_users(client_for):
    page = client_for("agent").get(reverse("workbench:index")).content.decode()
    assert "data-ticket-link" in page


def test_notice_speaks_the_sites_language_not_the_resolving_agents(
    people, shop_a, chat_type, settings, django_capture_on_commit_callbacks
):
    from django.utils import translation

    settings.LANGUAGE_CODE = "zh-hans"
    so = chat(shop_a)
    ticket = _linked(people, so, chat_type)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        _resolve(ticket, people["supervisor"], note="已退款")
    notice = Message.objects.get(conversation_id=so.conversation_id, text__contains="已退款")
    assert notice.text == f"您的问题 #{ticket.pk} 已处理完毕：已退款"


def test_service_order_page_queries_do_not_grow_with_its_tickets(
    client_for, people, shop_a, chat_type
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    so = chat(shop_a)
    _linked(people, so, chat_type)
    url = reverse("service_orders:detail", args=[so.pk])
    client = client_for("merchant_a")
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _i in range(4):
        _linked(people, so, chat_type)
    with CaptureQueriesContext(connection) as five:
        assert client.get(url).status_code == 200
    assert len(five) == len(one)


def test_the_open_widget_hears_the_notice_as_a_chat_message(
    people, shop_a, chat_type, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    so = chat(shop_a)
    ticket = _linked(people, so, chat_type)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"conv.{so.conversation_id}", channel)
    with django_capture_on_commit_callbacks(execute=True):
        _resolve(ticket, people["supervisor"])
    event = async_to_sync(layer.receive)(channel)
    assert event["type"] == "chat.message"
    assert event["message"]["sender"] == "system"
    assert "Refund sent" in event["message"]["text"]
