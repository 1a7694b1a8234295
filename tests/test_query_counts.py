"""List pages cost a fixed number of queries, whatever the number of rows (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.roles import Role
from agents.tests.factories import GroupMembershipFactory, UserFactory
from tests.query_counts import assert_query_count

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url_name", ["agents:list", "monitoring:index", "reports:index"])
def test_list_pages_do_not_grow_with_rows(client_for, shop_a, url_name):
    client = client_for("supervisor")
    url = reverse(url_name)
    _queries(client, url)  # warm caches (content types, permissions)
    few = _queries(client, url)
    for _ in range(8):
        user = UserFactory.create(role=Role.MERCHANT_AGENT, shops=[shop_a])
        GroupMembershipFactory.create(user=user)
    many = _queries(client, url)
    assert many == few, f"{url}: {few} queries with few rows, {many} with more"


@pytest.mark.parametrize(
    ("name", "url_name"),
    [
        ("agents.list", "agents:list"),
        ("monitoring.index", "monitoring:index"),
        ("monitoring.seat_board", "monitoring:seat_board"),
        ("reports.index", "reports:index"),
    ],
)
def test_list_pages_cost_their_pinned_number_of_queries(client_for, shop_a, name, url_name):
    for _ in range(3):
        user = UserFactory.create(role=Role.MERCHANT_AGENT, shops=[shop_a])
        GroupMembershipFactory.create(user=user)
    client = client_for("supervisor")
    url = reverse(url_name)
    client.get(url)  # warm caches (content types, permissions)
    with assert_query_count(name):
        assert client.get(url).status_code == 200
