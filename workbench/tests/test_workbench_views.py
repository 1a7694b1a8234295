"""Workbench pages and JSON endpoints: who may see what, and merchants only their shop."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents.models import GroupMembership
from commerce.tests.factories import CustomerFactory, OrderFactory
from tests.permissions import assert_matrix
from workbench.services.conversations import conversation_accept, conversation_start
from workbench.services.messages import ALLOWED_ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES, message_send
from workbench.services.visitors import visitor_open
from workbench.tests.helpers import make_channel

pytestmark = pytest.mark.django_db

PLATFORM_ONLY = {
    "anonymous": 302,
    "admin": 200,
    "supervisor": 200,
    "agent": 200,
    "merchant_a": 404,
    "merchant_b": 404,
    "business": 403,
}
SHOP_A = {**PLATFORM_ONLY, "merchant_a": 200}


@pytest.fixture
def shop_conv(people, shop_a):
    channel = make_channel(shop=shop_a)
    GroupMembership.objects.create(group=channel.default_group, user=people["merchant_a"])
    customer = CustomerFactory.create(name="Liu Yang")
    OrderFactory.create(shop=shop_a, customer=customer, order_no="A-1")
    visitor = visitor_open(channel=channel).visitor
    visitor.customer = customer
    visitor.save()
    conversation = conversation_start(visitor=visitor)
    message_send(conversation_id=conversation.pk, sender="customer", client_id="1", text="hi")
    return conversation


@pytest.fixture
def platform_conv(people):
    conversation = conversation_start(visitor=visitor_open(channel=make_channel()).visitor)
    return conversation


def test_workbench_page_matrix(client_for):
    assert_matrix(
        client_for,
        reverse("workbench:index"),
        {**PLATFORM_ONLY, "merchant_a": 200, "merchant_b": 200},
    )


def test_lists_api_matrix_and_merchant_sees_only_own_shop(client_for, shop_conv, platform_conv):
    url = reverse("workbench:api_lists")
    assert_matrix(client_for, url, {**PLATFORM_ONLY, "merchant_a": 200, "merchant_b": 200})
    waiting_a = client_for("merchant_a").get(url).json()["waiting"]
    assert [c["id"] for c in waiting_a] == [shop_conv.pk]
    assert waiting_a[0]["last_text"] == "hi"  # the preview line, from the same query
    assert client_for("merchant_b").get(url).json()["waiting"] == []
    supervisor_ids = {c["id"] for c in client_for("supervisor").get(url).json()["waiting"]}
    assert supervisor_ids == {shop_conv.pk, platform_conv.pk}


def test_conversation_api_and_customer_panel_are_scoped(client_for, shop_conv, platform_conv):
    for name in ("workbench:api_conversation", "workbench:customer_panel"):
        assert_matrix(client_for, reverse(name, args=[shop_conv.pk]), SHOP_A)
        assert_matrix(client_for, reverse(name, args=[platform_conv.pk]), PLATFORM_ONLY)
    data = client_for("merchant_a").get(f"/workbench/api/conversations/{shop_conv.pk}/").json()
    assert [m["text"] for m in data["messages"]][-1] == "hi"
    panel = client_for("merchant_a").get(f"/workbench/conversations/{shop_conv.pk}/customer/")
    assert "Liu Yang" in panel.content.decode() and "A-1" in panel.content.decode()


def test_customer_panel_shows_only_own_shops_orders(client_for, shop_conv, shop_b):
    OrderFactory.create(shop=shop_b, customer=shop_conv.customer, order_no="B-SECRET")
    body = client_for("merchant_a").get(f"/workbench/conversations/{shop_conv.pk}/customer/")
    assert "B-SECRET" not in body.content.decode()
    assert (
        "B-SECRET"
        in client_for("agent")
        .get(f"/workbench/conversations/{shop_conv.pk}/customer/")
        .content.decode()
    )


def test_agent_upload_needs_to_hold_the_conversation(
    client_for, people, shop_conv, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    conversation_accept(conversation_id=shop_conv.pk, agent=people["merchant_a"])
    url = reverse("workbench:api_upload", args=[shop_conv.pk])

    def post(who):
        file = SimpleUploadedFile("note.txt", b"tracking SF123")
        return client_for(who).post(url, {"client_id": f"u-{who}", "file": file})

    assert post("merchant_a").status_code == 200
    assert post("merchant_b").status_code == 404
    assert post("agent").json()["error"] == "not_your_conversation"
    assert post("business").status_code == 403


def test_rules_and_metrics_come_from_the_server_not_from_js(client_for, people, shop_conv):
    """The pages get the upload rules from services (json_script), and the exchange count
    (customer turns answered) comes in the conversation payload."""
    client = client_for("merchant_a")
    url = reverse("workbench:api_conversation", args=[shop_conv.pk])
    assert client.get(url).json()["conversation"]["exchanges"] == 0
    agent = people["merchant_a"]
    conversation_accept(conversation_id=shop_conv.pk, agent=agent)
    send = {"conversation_id": shop_conv.pk}
    message_send(**send, sender="agent", agent=agent, client_id="a1", text="hello")
    message_send(**send, sender="customer", client_id="2", text="one")
    message_send(**send, sender="customer", client_id="3", text="two")  # the same turn
    message_send(**send, sender="agent", agent=agent, client_id="a2", text="answer")
    assert client.get(url).json()["conversation"]["exchanges"] == 2

    page = client.get(reverse("workbench:index"))
    rules = json.loads(
        page.content.decode()
        .split('id="wb-attachment-rules" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert rules["max_bytes"] == MAX_ATTACHMENT_BYTES
    assert rules["types"] == {t: list(s) for t, s in ALLOWED_ATTACHMENT_TYPES.items()}
    assert f'accept="{rules["accept"]}"' in page.content.decode()
    assert "image/png" in rules["accept"] and ".pdf" in rules["accept"]
    chat = client_for("anonymous").get(f"/chat/{shop_conv.channel.key}/")
    assert 'id="kchat-attachment-rules"' in chat.content.decode()
    assert f'accept="{rules["accept"]}"' in chat.content.decode()
