"""A merchant agent never sees another shop's data, through any page."""

import pytest
from django.urls import reverse

from commerce.tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_shops_data(shop_a, shop_b):
    both = CustomerFactory.create(name="Both Shops Buyer", phone="13900000001")
    only_b = CustomerFactory.create(name="Only B Buyer", phone="13900000002")
    return {
        "order_a": OrderFactory.create(shop=shop_a, customer=both, order_no="A-0001"),
        "order_b": OrderFactory.create(shop=shop_b, customer=both, order_no="B-0001"),
        "order_b_only": OrderFactory.create(shop=shop_b, customer=only_b, order_no="B-0002"),
        "both": both,
        "only_b": only_b,
    }


def test_search_never_returns_another_shops_orders_or_customers(client_for, two_shops_data):
    client = client_for("merchant_a")
    page = client.get(reverse("info_query:search"), {"q": "B-0001"})
    assert page.context["orders"] == []
    page = client.get(reverse("info_query:search"), {"q": "13900000002"})
    assert page.context["customers"] == []
    page = client.get(reverse("info_query:search"), {"q": "A-0001"})
    assert [o.order_no for o in page.context["orders"]] == ["A-0001"]


def test_shared_customer_shows_only_own_shops_orders(client_for, two_shops_data):
    client = client_for("merchant_a")
    page = client.get(reverse("info_query:customer", args=[two_shops_data["both"].pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "A-0001" in body and "B-0001" not in body
    platform = client_for("agent").get(
        reverse("info_query:customer", args=[two_shops_data["both"].pk])
    )
    assert "B-0001" in platform.content.decode()


def test_other_shops_customer_is_404(client_for, two_shops_data):
    response = client_for("merchant_a").get(
        reverse("info_query:customer", args=[two_shops_data["only_b"].pk])
    )
    assert response.status_code == 404
    assert "Only B Buyer" not in response.content.decode()


def test_reports_would_never_mix_shops(people, shop_a, shop_b, two_shops_data):
    from reports.selectors import order_total_for, shop_summary_for

    assert order_total_for(user=people["merchant_a"]) == 1
    assert [s.code for s in shop_summary_for(user=people["merchant_a"])] == ["shop-a"]
    assert order_total_for(user=people["supervisor"]) == 3
