"""Quick-send JSON endpoints: permission matrix, merchant isolation, usage counting."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from knowledge.models import CannedReply
from knowledge.tests.factories import CannedReplyFactory, KnowledgeQAFactory
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


# --- personal canned replies --------------------------------------------------------------


def test_create_personal_reply_matrix(client_for):
    url = reverse("quick_send:canned_create")
    data = {"title": "Sign-off", "text": "Thanks, bye!", "shortcut": "/bye"}
    assert_matrix(
        client_for,
        url,
        {**WORKBENCH, "admin": 201, "supervisor": 201, "agent": 201, "merchant_a": 201,
         "merchant_b": 201},
        method="post",
        data=data,
    )  # fmt: skip
    assert CannedReply.objects.filter(scope="personal", title="Sign-off").count() == 5


def test_personal_reply_is_only_its_owners(client_for, people):
    created = client_for("merchant_a").post(
        reverse("quick_send:canned_create"), {"title": "Mine", "text": "我的常用语"}
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    canned_url = reverse("quick_send:canned")
    assert [r["title"] for r in results(client_for("merchant_a").get(canned_url))] == ["Mine"]
    assert results(client_for("merchant_b").get(canned_url)) == []
    assert results(client_for("agent").get(canned_url)) == []
    for who in ("merchant_b", "agent", "admin"):
        edit = client_for(who).post(
            reverse("quick_send:canned_edit", args=[pk]), {"title": "x", "text": "x"}
        )
        delete = client_for(who).post(reverse("quick_send:canned_delete", args=[pk]))
        assert (edit.status_code, delete.status_code) == (404, 404), who
    edited = client_for("merchant_a").post(
        reverse("quick_send:canned_edit", args=[pk]),
        {"title": "Mine v2", "text": "新的内容", "shortcut": "/mine"},
    )
    assert edited.json()["shortcut"] == "/mine"
    assert client_for("merchant_a").post(reverse("quick_send:canned_delete", args=[pk])).json() == {
        "id": pk,
        "deleted": True,
    }
    assert not CannedReply.objects.filter(pk=pk).exists()


def test_team_replies_cannot_be_edited_through_the_personal_endpoints(client_for):
    shared = CannedReplyFactory.create(scope="shared", title="Greeting")
    response = client_for("agent").post(
        reverse("quick_send:canned_edit", args=[shared.pk]), {"title": "Hacked", "text": "x"}
    )
    assert response.status_code == 404
    shared.refresh_from_db()
    assert shared.title == "Greeting"


def test_bad_input_gets_field_errors_and_saves_nothing(client_for):
    response = client_for("agent").post(
        reverse("quick_send:canned_create"), {"title": "", "text": "x", "shortcut": "refund"}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title", "shortcut"}
    assert not CannedReply.objects.exists()


def test_merchant_agent_can_use_their_own_personal_reply(client_for, people):
    """The list shows a merchant agent's shop-less personal reply; using it must work too."""
    from knowledge.models import CannedReply

    reply = CannedReply.objects.create(
        title="Mine",
        text="My own words.",
        scope=CannedReply.Scope.PERSONAL,
        owner=people["merchant_a"],
    )
    client = client_for("merchant_a")
    listed = client.get(reverse("quick_send:canned")).json()["results"]
    assert reply.pk in [r["id"] for r in listed]
    response = client.post(reverse("quick_send:canned_use", args=[reply.pk]))
    assert response.status_code == 200 and response.json()["usage_count"] == 1
    assert (
        client_for("merchant_b").post(reverse("quick_send:canned_use", args=[reply.pk])).status_code
        == 404
    )
