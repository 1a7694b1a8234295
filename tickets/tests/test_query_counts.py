"""Exact query counts of the hot ticket views, pinned in tickets/tests/query_counts.json.

A change in either direction fails: an N+1 shows up, and a saved query is recorded on
purpose (KEFU_UPDATE_QUERY_COUNTS=1, see tests/query_counts.py). The "many == few" tests
beside the views (test_views, api/test_api*) say the counts do not grow with the data;
these say what the counts are. Each page is read once to warm per-process caches, then
read cold for the shared group counts (the worst case a request pays).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from agents.models import GroupMembership
from commerce.tests.factories import OrderFactory
from tests.query_counts import assert_query_count
from tickets.services.content import ticket_comment, ticket_watch
from tickets.services.lifecycle import ticket_accept, ticket_create
from tickets.tests.api.support import API, api_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(people, ticket_type, group, shop_a) -> list[Any]:
    """Six tickets of the supervisor's group: half of them held by the supervisor, each
    with a comment, a watcher and a linked order (what list and detail rows show)."""
    supervisor = people["supervisor"]
    GroupMembership.objects.create(group=group, user=supervisor)
    made = []
    for n in range(6):
        order = OrderFactory.create(shop=shop_a, order_no=f"BT2026110100{n}")
        ticket = ticket_create(
            ticket_type=ticket_type,
            title=f"Parcel {n}",
            submitter=None,
            answers={"order_no": order.order_no},
            order=order,
        )
        if n % 2:
            ticket_accept(ticket=ticket, actor=supervisor)
        ticket_comment(ticket=ticket, actor=supervisor, text=f"Note {n}")
        ticket_watch(ticket=ticket, user=people["agent"], watch=True)
        made.append(ticket)
    return made


def _cold(get: Any, url: str, name: str) -> None:
    assert get(url).status_code == 200  # warm: sessions, content types, translations
    cache.clear()  # the per-group counts are computed again, as every 30 seconds
    with assert_query_count(name):
        assert get(url).status_code == 200


@pytest.mark.parametrize("tab", ["mine", "groups", "all"])
def test_list_page_queries(client_for, tickets, tab):
    client = client_for("supervisor")
    _cold(client.get, f"{reverse('tickets:list')}?tab={tab}", f"tickets.list_{tab}")


def test_detail_page_queries(client_for, tickets):
    client = client_for("supervisor")
    _cold(client.get, reverse("tickets:detail", args=[tickets[1].pk]), "tickets.detail")


def test_api_list_queries(people, tickets):
    client = api_for(people["supervisor"])
    _cold(client.get, API, "tickets.api_list")


def test_api_detail_queries(people, tickets):
    client = api_for(people["supervisor"])
    _cold(client.get, f"{API}{tickets[1].pk}/", "tickets.api_detail")
