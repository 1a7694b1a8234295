"""Permission matrix of every tickets API endpoint: anonymous 401, a user without a
tickets role 403, someone who may see but not act 403, another shop 404, permitted 2xx."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agents.models import User
from tests.permissions import assert_api_matrix
from tickets.models import Ticket
from tickets.services import lifecycle
from tickets.tests.api.support import API, GOOD

pytestmark = pytest.mark.django_db


@pytest.fixture
def everyone(people):
    """people plus `norole`: signed in, but without any role (no tickets permission)."""
    people["norole"] = User.objects.create_user(username="norole", password="pw-for-tests-1")
    return people


def matrix(**rows: int) -> dict[str, int]:
    """Who may see a shop-A ticket in the agent's platform group, and what they get."""
    base = {
        "anonymous": 401,
        "norole": 403,
        "merchant_b": 404,  # another shop: the ticket does not exist for them
        "business": 404,  # not a member of the ticket's group
    }
    return {**base, **rows}


@pytest.fixture
def ticket_in(make_ticket, everyone) -> Callable[[str], Callable[[], str]]:
    """ticket_in("resolved")() -> the URL of a fresh shop-A ticket in that state."""
    agent = everyone["agent"]

    def url_for(state: str, suffix: str = "") -> Callable[[], str]:
        def make() -> str:
            ticket = make_ticket()
            if state != "new":
                lifecycle.ticket_accept(ticket=ticket, actor=agent)
            if state == "on_hold":
                lifecycle.ticket_hold(ticket=ticket, actor=agent, reason="third_party")
            if state in ("resolved", "closed"):
                lifecycle.ticket_resolve(ticket=ticket, actor=agent, note="Done")
            if state == "closed":
                lifecycle.ticket_close(ticket=ticket, actor=agent)
            return f"{API}{ticket.pk}/{suffix}"

        return make

    return url_for


def test_list_matrix(client_for, everyone):
    assert_api_matrix(
        client_for, API, {**dict.fromkeys(everyone, 200), "anonymous": 401, "norole": 403}
    )


def test_ticket_types_matrix(client_for, everyone, ticket_type):
    ok = {**dict.fromkeys(everyone, 200), "anonymous": 401, "norole": 403}
    assert_api_matrix(client_for, "/api/v1/ticket-types/", ok)
    assert_api_matrix(client_for, f"/api/v1/ticket-types/{ticket_type.pk}/", ok)


def test_create_matrix(client_for, everyone, ticket_type, desk):
    body = {"ticket_type": ticket_type.pk, "title": "Lost", "answers": GOOD}
    assert_api_matrix(
        client_for,
        API,
        {**dict.fromkeys(everyone, 201), "anonymous": 401, "norole": 403},
        method="post",
        data=body,
    )
    # Each merchant's ticket belongs to their own shop.
    shops = dict(
        Ticket.objects.filter(submitter__username__startswith="merch").values_list(
            "submitter__username", "shop__code"
        )
    )
    assert shops == {"merch_a": "shop-a", "merch_b": "shop-b"}


def test_retrieve_matrix(client_for, ticket_in):
    ok = matrix(admin=200, supervisor=200, agent=200, merchant_a=200)
    assert_api_matrix(client_for, ticket_in("new")(), ok)


def test_patch_matrix(client_for, ticket_in):
    assert_api_matrix(
        client_for,
        ticket_in("new"),
        matrix(admin=200, supervisor=200, agent=200, merchant_a=403),
        method="patch",
        data={"version": 1, "title": "Renamed"},
    )


ACTIONS = [
    # (action, state the ticket must be in, body, who may: merchant_a's answer)
    ("comment", "new", {"text": "A note"}, 200),  # seeing a ticket is enough to comment
    ("reply", "in_progress", {"text": "Hello"}, 403),
    ("accept", "new", {}, 403),
    ("hold", "in_progress", {"reason": "customer"}, 403),
    ("resume", "on_hold", {}, 403),
    ("resolve", "in_progress", {"note": "Done"}, 403),
    ("close", "resolved", {}, 403),
    ("reopen", "closed", {"note": "Again"}, 403),
]


@pytest.mark.parametrize(("action", "state", "body", "merchant"), ACTIONS)
def test_action_matrix(client_for, ticket_in, action, state, body, merchant):
    assert_api_matrix(
        client_for,
        ticket_in(state, f"{action}/"),
        matrix(admin=200, supervisor=200, agent=200, merchant_a=merchant),
        method="post",
        data=body,
    )


def test_forward_matrix(client_for, ticket_in, other_desk):
    assert_api_matrix(
        client_for,
        ticket_in("in_progress", "forward/"),
        matrix(admin=200, supervisor=200, agent=200, merchant_a=403),
        method="post",
        data={"to_group": other_desk.pk, "note": "Please refund"},
    )


def test_assign_matrix(client_for, ticket_in, everyone):
    # Reassigning is for supervisors and group leads: a plain member gets 403.
    assert_api_matrix(
        client_for,
        ticket_in("new", "assign/"),
        matrix(admin=200, supervisor=200, agent=403, merchant_a=403),
        method="post",
        data={"assignee": everyone["agent"].pk},
    )
