"""Quick-send JSON endpoints: permission matrix, merchant isolation, usage counting."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from settings_app.models import CannedReply
from settings_app.tests.factories import CannedReplyFactory, KnowledgeQAFactory
from tests.permissions import assert_matrix

pytestmark = pytest.mark.django_db

WORKBENCH = {
    "anonymous": 302,
    "admin": 200,
    "supervisor": 200,
    "agent": 200,
    "merchant_a": 200,
    "merchant_b": 200,
    "business": 403,
}


def results(response) -> list[dict]:
    assert response.status_code == 200, response.status_code
    return response.json()["results"]


@pytest.mark.parametrize("name", ["quick_send:canned", "quick_send:knowledge"])
def test_get_endpoints_matrix(client_for, name):
    assert_matrix(client_for, reverse(name), WORKBENCH)


def test_use_endpoint_matrix_other_shop_is_404(client_for, shop_a):
    reply = CannedReplyFactory.create(scope=CannedReply.Scope.SHARED, shop=shop_a)
    url = reverse("quick_send:canned_use", args=[reply.pk])
    assert_matrix(
        client_for,
        url,
        {
            "anonymous": 302,
            # Platform staff are not members of shop A: its shop-wide replies are not theirs.
            "admin": 404,
            "supervisor": 404,
            "agent": 404,
            "merchant_a": 200,
            "merchant_b": 404,
            "business": 403,
        },
        method="post",
    )
    reply.refresh_from_db()
    assert reply.usage_count == 1


def test_use_needs_post_and_csrf(people, shop_a):
    reply = CannedReplyFactory.create(scope=CannedReply.Scope.SHARED)
    url = reverse("quick_send:canned_use", args=[reply.pk])
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["agent"])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token
    reply.refresh_from_db()
    assert reply.usage_count == 0


def test_canned_search_returns_only_the_merchants_own(client_for, shop_a, shop_b):
    CannedReplyFactory.create(title="A refund", shortcut="/refund", scope="shared", shop=shop_a)
    CannedReplyFactory.create(title="B refund", shortcut="/refund", scope="shared", shop=shop_b)
    CannedReplyFactory.create(title="Platform refund", shortcut="/refund", scope="shared")
    url = reverse("quick_send:canned")
    assert [r["title"] for r in results(client_for("merchant_a").get(url, {"q": "/ref"}))] == [
        "A refund"
    ]
    assert [r["title"] for r in results(client_for("agent").get(url, {"q": "/ref"}))] == [
        "Platform refund"
    ]
    first = results(client_for("merchant_a").get(url, {"q": "refund"}))[0]
    assert set(first) == {"id", "title", "text", "shortcut", "scope", "group", "usage_count"}


def test_knowledge_endpoint_suggests_and_isolates(client_for, shop_a, shop_b):
    KnowledgeQAFactory.create(
        question="退货政策是什么？", answer="7天无理由退货。", keywords="退货"
    )
    KnowledgeQAFactory.create(question="B店退货", answer="B地址", keywords="退货", shop=shop_b)
    url = reverse("quick_send:knowledge")
    agent = results(client_for("agent").get(url, {"text": "我想退货怎么办"}))
    assert agent[0]["title"] == "退货政策是什么？"
    assert agent[0]["kind"] == "qa" and agent[0]["text"] == "7天无理由退货。"
    assert results(client_for("merchant_a").get(url, {"text": "我想退货怎么办"})) == []
    assert client_for("merchant_a").get(url, {"text": "退货", "shop": shop_b.pk}).status_code == 404
    assert client_for("agent").get(url, {"text": "退货", "shop": "x"}).status_code == 404
    mine = results(client_for("merchant_b").get(url, {"text": "退货", "shop": shop_b.pk}))
    assert [r["title"] for r in mine] == ["B店退货"]


def test_canned_list_query_count_does_not_grow(client_for, django_assert_max_num_queries):
    for n in range(30):
        CannedReplyFactory.create(title=f"R{n}", scope="shared")
    client = client_for("agent")
    client.get(reverse("quick_send:canned"))  # warm the session/user caches
    with django_assert_max_num_queries(8):
        assert len(results(client.get(reverse("quick_send:canned")))) == 30
