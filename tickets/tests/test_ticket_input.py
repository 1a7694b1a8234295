"""The create page and the API resolve a ticket's references with one service
(tickets.services.input) and agree: what the user may not see is a field error worded as
if it did not exist (400 in the API, a form error on the page), and the customer of the
linked chat is accepted in both."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agents.models import User
from agents.tests.factories import SkillGroupFactory
from commerce.tests.factories import CustomerFactory, OrderFactory
from tickets.models import Ticket, TicketType
from tickets.services.input import ticket_input_resolve
from tickets.tests.api.support import API, api_for
from tickets.tests.test_from_chat import chat

pytestmark = pytest.mark.django_db

NO_CHAT = "No service order with this id that you may see."
NO_CUSTOMER = "No customer with this id or phone that you may see."
NO_ORDER = "No order with this number that you may see."


def _api(user: User, ticket_type: TicketType, **extra: Any) -> tuple[int, dict[str, Any]]:
    body = {"ticket_type": ticket_type.pk, "title": "Parcel", **extra}
    response = api_for(user).post(API, body, format="json")
    return response.status_code, response.json()


def _page(client: Any, ticket_type: TicketType, **extra: Any) -> Any:
    service_order = extra.pop("service_order", None)
    url = reverse("tickets:create", args=[ticket_type.pk])
    if service_order:
        url += f"?service_order={service_order}"
    form = {
        "title": "Parcel",
        "priority": "normal",
        "group": ticket_type.default_group_id,
        **extra,
    }
    return client.post(url, form)


def _page_errors(response: Any) -> dict[str, list[str]]:
    """The form's errors keyed as the API keys them (non-field errors by their message)."""
    assert response.status_code == 200, response.status_code
    form = response.context["form"]
    return {key: list(messages) for key, messages in form.errors.items()}


@pytest.mark.parametrize("who", ["merchant_b", "business"])
def test_an_unseeable_chat_is_the_same_field_error_as_a_missing_one(
    people, client_for, shop_a, chat_type, who
):
    so = chat(shop_a)
    for pk in (so.pk, 999_999):
        code, body = _api(people[who], chat_type, service_order=pk)
        assert (code, body) == (400, {"service_order": [NO_CHAT]})
        page = _page(client_for(who), chat_type, service_order=pk)
        # The page has no service-order field: the error stands above the form.
        assert _page_errors(page) == {"__all__": [NO_CHAT]}
    assert not Ticket.objects.exists()


def test_an_unseeable_customer_is_a_field_error_in_both(people, client_for, shop_a, shop_b):
    kind = TicketType.objects.create(name="Plain", default_group=_platform_group())
    theirs = CustomerFactory.create(external_id="B-ONLY")
    OrderFactory.create(shop=shop_b, customer=theirs)
    for query in ("B-ONLY", "NOBODY"):
        code, body = _api(people["merchant_a"], kind, customer=query)
        assert (code, body) == (400, {"customer": [NO_CUSTOMER]})
        page = _page(client_for("merchant_a"), kind, customer=query)
        assert _page_errors(page) == {"customer": [NO_CUSTOMER]}


def test_an_unseeable_order_number_is_a_field_error_in_both(people, client_for, shop_b):
    kind = TicketType.objects.create(name="Plain", default_group=_platform_group())
    OrderFactory.create(shop=shop_b, order_no="BT-SHOP-B-1")
    for number in ("BT-SHOP-B-1", "BT-NONE-1"):
        code, body = _api(people["merchant_a"], kind, order_no=number)
        assert (code, body) == (400, {"order_no": [NO_ORDER]})
        page = _page(client_for("merchant_a"), kind, order_no=number)
        assert _page_errors(page) == {"order_no": [NO_ORDER]}


def test_the_chats_customer_is_accepted_in_both(people, client_for, shop_a, chat_type):
    # C777 wrote in shop A's chat but never ordered there: the merchant cannot look them
    # up, yet the chat vouches for them as that ticket's customer.
    so = chat(shop_a)
    assert so.customer is not None and so.customer.external_id == "C777"
    code, body = _api(people["merchant_a"], chat_type, service_order=so.pk, customer="C777")
    assert code == 201, body
    response = _page(client_for("merchant_a"), chat_type, service_order=so.pk, customer="C777")
    assert response.status_code == 302
    assert list(Ticket.objects.values_list("customer_id", flat=True)) == [so.customer_id] * 2


def test_an_answered_order_number_links_a_visible_order_and_is_kept_otherwise(
    people, ticket_type, shop_a, shop_b
):
    # The type's order-number field is data of its own: it links the order the user may
    # see, and otherwise stays just the answer (no error, nothing revealed).
    mine = OrderFactory.create(shop=shop_a, order_no="BT-A-0001")
    OrderFactory.create(shop=shop_b, order_no="BT-B-0001")
    user = people["merchant_a"]
    linked = ticket_input_resolve(
        user=user, ticket_type=ticket_type, data={"answers": {"order_no": "bt-a-0001"}}
    )
    assert linked.order == mine
    kept = ticket_input_resolve(
        user=user, ticket_type=ticket_type, data={"answers": {"order_no": "BT-B-0001"}}
    )
    assert kept.order is None and kept.answers == {"order_no": "BT-B-0001"}


def test_the_resolver_reports_every_problem_at_once(people, ticket_type):
    with pytest.raises(ValidationError) as caught:
        ticket_input_resolve(
            user=people["merchant_a"],
            ticket_type=ticket_type,
            data={
                "group": 999_999,
                "category": 999_999,
                "customer": "NOBODY",
                "service_order": 999_999,
                "answers": {"carrier": "Pigeon"},
            },
        )
    assert set(caught.value.error_dict) == {
        "group",
        "category",
        "customer",
        "service_order",
        "order_no",  # the type's required order-number answer is missing
        "carrier",
    }


def _platform_group() -> Any:
    return SkillGroupFactory.create(name="Plain desk")
