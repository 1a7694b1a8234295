"""Service-order list (filters, keyset pages, query count) and detail replay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from service_orders.models import ServiceOrder
from tests.permissions import assert_matrix
from tests.query_counts import assert_query_count
from workbench.services.conversations import conversation_close, conversation_start
from workbench.services.messages import message_send
from workbench.services.visitors import visitor_open
from workbench.tests.factories import IssueTypeFactory
from workbench.tests.helpers import make_channel

pytestmark = pytest.mark.django_db


def _order(channel, text="hello"):
    conversation = conversation_start(visitor=visitor_open(channel=channel).visitor)
    message_send(conversation_id=conversation.pk, sender="customer", client_id="c", text=text)
    return ServiceOrder.objects.get(conversation=conversation)


def test_list_matrix_and_merchant_isolation(client_for, shop_a, shop_b):
    mine = _order(make_channel(shop=shop_a))
    theirs = _order(make_channel(shop=shop_b))
    url = reverse("service_orders:list")
    assert_matrix(
        client_for,
        url,
        {
            "anonymous": 302,
            "admin": 200,
            "supervisor": 200,
            "agent": 200,
            "merchant_a": 200,
            "merchant_b": 200,
            "business": 403,
        },
    )
    page = client_for("merchant_a").get(url).content.decode()
    assert mine.number in page and theirs.number not in page
    # The filter's choices leak no other shop either.
    assert "Shop B" not in page


def test_detail_matrix_and_replay(client_for, shop_a):
    order = _order(make_channel(shop=shop_a, greeting="Welcome"), text="where is it")
    issue = IssueTypeFactory.create(name="Delivery")
    conversation_close(
        conversation_id=order.conversation_id, actor=None, issue_type=issue, summary="told"
    )
    url = reverse("service_orders:detail", args=[order.pk])
    assert_matrix(
        client_for,
        url,
        {
            "anonymous": 302,
            "admin": 200,
            "supervisor": 200,
            "agent": 200,
            "merchant_a": 200,
            "merchant_b": 404,
            "business": 403,
        },
    )
    page = client_for("merchant_a").get(url).content.decode()
    assert "Welcome" in page and "where is it" in page and "Delivery" in page
    assert (
        client_for("admin").get(reverse("service_orders:detail", args=[999999])).status_code == 404
    )


def test_filters_narrow_the_list(client_for, shop_a, shop_b):
    a = _order(make_channel(shop=shop_a))
    b = _order(make_channel(shop=shop_b))
    b.rating = 2
    b.save()
    client = client_for("supervisor")
    page = client.get(reverse("service_orders:list"), {"rating": 2}).content.decode()
    assert b.number in page and a.number not in page
    page = client.get(reverse("service_orders:list"), {"shop": shop_a.pk}).content.decode()
    assert a.number in page and b.number not in page
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    page = client.get(reverse("service_orders:list"), {"created_from": tomorrow}).content.decode()
    assert a.number not in page


def test_keyset_pages_cover_every_row_once(client_for, monkeypatch):
    monkeypatch.setattr("service_orders.selectors.PAGE_SIZE", 3)
    monkeypatch.setattr("service_orders.selectors.keyset_page.__defaults__", (3,))
    channel = make_channel()
    numbers = {_order(channel).number for _ in range(7)}
    client = client_for("supervisor")
    seen, url = [], reverse("service_orders:list")
    params: dict[str, str] = {}
    for _ in range(5):
        response = client.get(url, params)
        rows = response.context["orders"]
        seen += [o.number for o in rows]
        if not response.context["next_cursor"]:
            break
        params = {"after": response.context["next_cursor"]}
    assert sorted(seen) == sorted(numbers) and len(seen) == 7


def test_list_query_count_does_not_grow(client_for):
    channel = make_channel()
    client = client_for("supervisor")
    url = reverse("service_orders:list")
    _order(channel)
    client.get(url)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(6):
        _order(channel)
    assert count() == few


def test_detail_does_not_mix_chat_messages_into_the_flash_messages(client_for, shop_a):
    order = _order(make_channel(shop=shop_a, greeting=""), text="flash?")
    page = client_for("merchant_a").get(reverse("service_orders:detail", args=[order.pk]))
    assert '<ul class="messages">' not in page.content.decode()


def test_list_and_detail_cost_their_pinned_number_of_queries(client_for):
    channel = make_channel()
    client = client_for("supervisor")
    orders = [_order(channel) for _ in range(3)]
    list_url = reverse("service_orders:list")
    detail_url = reverse("service_orders:detail", args=[orders[0].pk])
    client.get(list_url), client.get(detail_url)  # warm caches
    with assert_query_count("service_orders.list"):
        assert client.get(list_url).status_code == 200
    with assert_query_count("service_orders.detail"):
        assert client.get(detail_url).status_code == 200
