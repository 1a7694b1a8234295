"""Dates at the edge of the calendar get a clear answer, not a 500 (issue 11, item 1):
9999-12-31 plus a day, or 0001-01-01 at +08:00 in UTC, cannot be an instant."""

from __future__ import annotations

import pytest

from tickets.tests.api.support import api_for

pytestmark = pytest.mark.django_db

EDGES = ["9999-12-31", "0001-01-01"]
EXPLAINED = "Enter a date between 1900-01-01 and 9000-12-31."


@pytest.mark.parametrize("day", EDGES)
@pytest.mark.parametrize("field", ["created_after", "created_before"])
def test_the_ticket_list_explains_a_date_out_of_range(client_for, field, day):
    response = client_for("admin").get("/tickets/", {field: day})
    assert response.status_code == 200
    assert EXPLAINED in response.content.decode()


@pytest.mark.parametrize("day", EDGES)
@pytest.mark.parametrize("field", ["created_after", "created_before"])
def test_the_ticket_api_answers_400_for_a_date_out_of_range(people, field, day):
    response = api_for(people["admin"]).get("/api/v1/tickets/", {field: day})
    assert response.status_code == 400
    assert response.json()[field] == [EXPLAINED]


def test_a_date_in_range_still_filters(people):
    response = api_for(people["admin"]).get("/api/v1/tickets/", {"created_after": "2026-01-01"})
    assert response.status_code == 200


@pytest.mark.parametrize("day", EDGES)
@pytest.mark.parametrize("field", ["created_from", "created_to"])
def test_the_service_order_list_explains_a_date_out_of_range(client_for, field, day):
    response = client_for("admin").get("/service-orders/", {field: day})
    assert response.status_code == 200
    assert EXPLAINED in response.content.decode()


@pytest.mark.parametrize(
    "cursor", ["9999-12-31T23:59:59_5", "0001-01-01T00:00:00+08:00_5", "0001-01-01_1"]
)
def test_a_service_order_cursor_at_the_edge_shows_the_first_page(client_for, cursor):
    response = client_for("admin").get("/service-orders/", {"after": cursor})
    assert response.status_code == 200
