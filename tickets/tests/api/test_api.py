"""The tickets REST API: create, read, list with the page's filters, edit with version,
actions through the services, and error translation (400/403/409)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from commerce.tests.factories import CustomerFactory
from tickets.models import Ticket, TicketNode
from tickets.services.content import ticket_comment
from tickets.services.lifecycle import ticket_accept
from tickets.tests.api.support import API, GOOD, api_for
from tickets.tests.conftest import member

pytestmark = pytest.mark.django_db


def test_create_validates_the_types_fields_like_the_form(people, ticket_type, desk):
    client = api_for(people["agent"])
    response = client.post(
        API,
        {"ticket_type": ticket_type.pk, "title": "Lost", "answers": {"amount": "abc"}},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"order_no", "amount"}
    assert not Ticket.objects.exists()


def test_create_refuses_unknown_answer_keys(people, ticket_type, desk):
    response = api_for(people["agent"]).post(
        API,
        {"ticket_type": ticket_type.pk, "title": "Lost", "answers": {**GOOD, "colour": "red"}},
        format="json",
    )
    assert response.status_code == 400
    assert "colour" in response.json()["non_field_errors"][0]


def test_create_links_order_and_customer_within_scope(people, ticket_type, desk, shop_a, shop_b):
    from commerce.tests.factories import OrderFactory

    customer = CustomerFactory.create(external_id="C9001")
    OrderFactory.create(shop=shop_a, order_no="BT20261101001", customer=customer)
    OrderFactory.create(shop=shop_b, order_no="NW20261101001")
    merchant = api_for(people["merchant_a"])
    body = {
        "ticket_type": ticket_type.pk,
        "title": "Parcel lost",
        "priority": "high",
        "customer": "C9001",
        "answers": {"order_no": "BT20261101001", "amount": "12.5", "carrier": "YTO"},
    }
    response = merchant.post(API, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["order_no"] == "BT20261101001"
    assert data["shop"]["code"] == "shop-a"
    assert data["customer_id"] == customer.pk
    assert data["priority"] == "high"
    assert {a["key"]: a["value"] for a in data["answers"]}["amount"] == "12.50"
    assert [n["action"] for n in data["nodes"]] == ["create"]
    other = merchant.post(API, {**body, "order_no": "NW20261101001"}, format="json")
    assert other.status_code == 400
    assert "order_no" in other.json()


def test_other_shops_ticket_is_404(people, make_ticket):
    ticket = make_ticket()
    assert api_for(people["merchant_b"]).get(f"{API}{ticket.pk}/").status_code == 404
    assert api_for(people["merchant_a"]).get(f"{API}{ticket.pk}/").status_code == 200


def test_list_filters_like_the_page_and_pages_by_cursor(people, make_ticket):
    tickets = [make_ticket() for _ in range(5)]
    ticket_accept(ticket=tickets[0], actor=people["agent"])
    client = api_for(people["agent"])
    page = client.get(API, {"page_size": 2}).json()
    assert [t["id"] for t in page["results"]] == [tickets[4].pk, tickets[3].pk]
    second = client.get(page["next"]).json()
    assert [t["id"] for t in second["results"]] == [tickets[2].pk, tickets[1].pk]
    assert [t["id"] for t in client.get(API, {"status": "in_progress"}).json()["results"]] == [
        tickets[0].pk
    ]
    assert [t["id"] for t in client.get(API, {"tab": "mine"}).json()["results"]] == [tickets[0].pk]
    found = client.get(API, {"q": tickets[2].title}).json()["results"]
    assert [t["id"] for t in found] == [tickets[2].pk]
    bad = client.get(API, {"status": "nonsense"})
    assert bad.status_code == 400
    assert "status" in bad.json()


def test_list_hides_other_shops(people, make_ticket):
    make_ticket()
    assert api_for(people["merchant_b"]).get(API).json()["results"] == []
    assert len(api_for(people["merchant_a"]).get(API).json()["results"]) == 1


def test_patch_needs_the_current_version(people, make_ticket):
    ticket = make_ticket()
    client = api_for(people["agent"])
    ok = client.patch(
        f"{API}{ticket.pk}/", {"version": ticket.version, "title": "Renamed"}, format="json"
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["title"] == "Renamed"
    stale = client.patch(
        f"{API}{ticket.pk}/", {"version": ticket.version, "title": "Again"}, format="json"
    )
    assert stale.status_code == 409
    assert "Someone else changed this ticket" in stale.json()["detail"]
    ticket.refresh_from_db()
    assert ticket.title == "Renamed"
    missing = client.patch(f"{API}{ticket.pk}/", {"title": "No version"}, format="json")
    assert missing.status_code == 400
    assert "version" in missing.json()


def test_patch_validates_answers(people, make_ticket):
    ticket = make_ticket()
    response = api_for(people["agent"]).patch(
        f"{API}{ticket.pk}/",
        {"version": ticket.version, "answers": {"carrier": "Pigeon"}},
        format="json",
    )
    assert response.status_code == 400
    assert "carrier" in response.json()


def test_actions_walk_a_ticket_through_its_life(people, make_ticket, other_desk):
    agent = people["agent"]
    member(other_desk)
    ticket = make_ticket()
    client = api_for(agent)
    url = f"{API}{ticket.pk}/"

    def post(action: str, body: dict, expect: int = 200) -> dict:
        response = client.post(f"{url}{action}/", body, format="json")
        assert response.status_code == expect, (action, response.json())
        return response.json()

    data = post("accept", {})
    assert data["status"] == "in_progress"
    assert data["assignee"]["id"] == agent.pk
    post("comment", {"text": "Called the carrier."})
    post("reply", {"text": "We are on it.", "version": data["version"]})
    data = post("hold", {"reason": "third_party", "note": "Carrier checks"})
    assert data["status"] == "on_hold"
    data = post("resume", {})
    data = post("resolve", {"note": "Found it."})
    assert data["status"] == "resolved"
    data = post("close", {})
    assert data["status"] == "closed"
    data = post("reopen", {"note": "Customer says no."})
    assert data["status"] == "in_progress"
    data = post("forward", {"to_group": other_desk.pk, "note": "Refund it."})
    assert data["group"]["id"] == other_desk.pk
    actions = [n["action"] for n in data["nodes"]]
    assert actions[:1] == ["create"]
    assert "forward" in actions and "reopen" in actions and "comment" in actions


def test_action_errors_are_clear(people, make_ticket, other_desk):
    ticket = make_ticket()
    client = api_for(people["agent"])
    url = f"{API}{ticket.pk}/"
    wrong_state = client.post(f"{url}close/", {}, format="json")
    assert wrong_state.status_code == 409
    assert "cannot be closed" in wrong_state.json()["detail"]
    empty = client.post(f"{url}resolve/", {"note": "  "}, format="json")
    assert empty.status_code == 400
    assert "note" in empty.json()
    stale = client.post(f"{url}accept/", {"version": ticket.version + 5}, format="json")
    assert stale.status_code == 409
    no_group = client.post(f"{url}forward/", {"to_group": 999999, "note": "x"}, format="json")
    assert no_group.status_code == 400
    assert "to_group" in no_group.json()
    not_theirs = api_for(people["merchant_a"]).post(f"{url}accept/", {}, format="json")
    assert not_theirs.status_code == 403
    assert "members of the group" in not_theirs.json()["detail"]
    assign = client.post(f"{url}assign/", {"assignee": people["agent"].pk}, format="json")
    assert assign.status_code == 403  # a member, but neither lead nor supervisor
    assert TicketNode.objects.filter(ticket=ticket).count() == 1


def test_session_auth_works_for_the_browser(client_for, make_ticket):
    ticket = make_ticket()
    assert client_for("supervisor").get(f"{API}{ticket.pk}/").status_code == 200


def test_ticket_types_lists_fields(people, ticket_type):
    data = api_for(people["merchant_a"]).get("/api/v1/ticket-types/").json()
    assert data[0]["id"] == ticket_type.pk
    assert [f["key"] for f in data[0]["fields"]][:2] == ["order_no", "amount"]


# --- query counts ----------------------------------------------------------------------------


def _count(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(people, make_ticket):
    client = api_for(people["merchant_a"])
    for _ in range(3):
        make_ticket()
    few = _count(client, API)
    for _ in range(12):
        make_ticket()
    assert _count(client, API) == few
    assert _count(client, f"{API}?status=open&priority=normal") <= few + 1
    # A deeper page (cursor) costs what the first does.
    deeper = client.get(API, {"page_size": 5}).json()["next"]
    deeper = client.get(deeper).json()["next"]
    assert _count(client, deeper) == few


def test_detail_query_count_does_not_grow_with_nodes(people, make_ticket):
    ticket = make_ticket()
    client = api_for(people["agent"])
    ticket_comment(ticket=ticket, actor=people["agent"], text="one")
    few = _count(client, f"{API}{ticket.pk}/")
    for n in range(10):
        ticket_comment(ticket=ticket, actor=people["supervisor"], text=f"more {n}")
    assert _count(client, f"{API}{ticket.pk}/") == few


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x\x00y"},
        {"answers": {"order_no\x00": "BT20261101001"}},
        {"answers": {"order_no": "BT2026\x001101"}},
        # Lone surrogates (valid JSON escapes, but no text Postgres can store).
        {"title": "x\ud800y"},
        {"description": "x\udfff"},
        {"customer": "\ud800"},
        {"order_no": "BT\ud800"},
        {"answers": {"order_no\ud800": "BT20261101001"}},
        {"answers": {"order_no": "BT2026\ud8001101"}},
        {"answers": {"carrier": ["YTO"]}},
        {"answers": {"amount": {"value": 1}}},
        {"answers": {"boxes": "1e999999"}},
        {"answers": {"since": "2026-02-30"}},
        {"ticket_type": 2**63},
        {"group": 2**62},
        {"answers": "not a dict"},
    ],
)
def test_hostile_create_input_is_a_400_and_writes_nothing(people, ticket_type, desk, body):
    full = {"ticket_type": ticket_type.pk, "title": "Lost", "answers": GOOD, **body}
    # json.dumps escapes NUL and lone surrogates (\\u0000, \\ud800), as a client would.
    raw = json.dumps(full)
    response = api_for(people["agent"]).post(API, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        {"q": "a\x00b"},
        {"group": "99999999999999999999999"},
        {"created_after": "2026-13-01"},
        {"cursor": "garbage"},
        {"page_size": "100000"},
    ],
)
def test_hostile_list_queries_are_answered(people, make_ticket, query):
    make_ticket()
    response = api_for(people["agent"]).get(API, query)
    assert response.status_code < 500


@pytest.mark.parametrize("key", ["carrier\x00", "carrier\ud800"])
def test_patch_with_unstorable_text_in_answers_is_a_400(people, make_ticket, key):
    ticket = make_ticket()
    response = api_for(people["agent"]).patch(
        f"{API}{ticket.pk}/",
        json.dumps({"version": 1, "answers": {key: None}}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["answers"][0]


@pytest.mark.parametrize("action", ["comment", "reply"])
def test_a_lone_surrogate_in_a_text_action_is_a_400_and_writes_nothing(people, make_ticket, action):
    ticket = make_ticket()
    before = ticket.nodes.count()
    response = api_for(people["agent"]).post(
        f"{API}{ticket.pk}/{action}/",
        json.dumps({"text": "ok \ud800", "version": 1}),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert ticket.nodes.count() == before


def test_errors_speak_the_requested_language(people, make_ticket):
    ticket = make_ticket()
    response = api_for(people["agent"]).post(
        f"{API}{ticket.pk}/close/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 409
    assert "不能执行" in response.json()["detail"]


def test_demo_integration_token_reads_its_shops_tickets(people, make_ticket, shop_a):
    from demo.api_integration import DEMO_TOKEN, seed_api_integration

    seed_api_integration(shop=shop_a)
    seed_api_integration(shop=shop_a)  # idempotent
    ticket = make_ticket()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_TOKEN}")
    assert [t["id"] for t in client.get(API).json()["results"]] == [ticket.pk]
