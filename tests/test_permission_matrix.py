"""Every page of the back office, for every role. 302 = to login, 403 = role may not."""

import pytest
from django.urls import reverse

from commerce.tests.factories import CustomerFactory, OrderFactory
from tests.permissions import assert_matrix

pytestmark = pytest.mark.django_db

ALL_IN = {"admin": 200, "supervisor": 200, "agent": 200, "merchant_a": 200, "merchant_b": 200}

PAGES = {
    "workbench:index": {"anonymous": 302, **ALL_IN, "business": 403},
    "service_orders:list": {"anonymous": 302, **ALL_IN, "business": 403},
    "tickets:list": {"anonymous": 302, **ALL_IN, "business": 200},
    "info_query:search": {"anonymous": 302, **ALL_IN, "business": 200},
    "agents:preferences": {"anonymous": 302, **ALL_IN, "business": 200},
    "password_change": {"anonymous": 302, **ALL_IN, "business": 200},
}
SUPERVISION = {
    "anonymous": 302,
    "admin": 200,
    "supervisor": 200,
    "agent": 403,
    "merchant_a": 403,
    "merchant_b": 403,
    "business": 403,
}
for name in ("monitoring:index", "monitoring:seat_board", "agents:list", "reports:index"):
    PAGES[name] = SUPERVISION
PAGES["settings_app:index"] = {**SUPERVISION, "supervisor": 403}


@pytest.mark.parametrize("url_name", sorted(PAGES))
def test_page_matrix(client_for, url_name):
    assert_matrix(client_for, reverse(url_name), PAGES[url_name])


def test_django_admin_only_for_admins(client_for):
    assert_matrix(
        client_for,
        reverse("admin:agents_skillgroup_changelist"),
        {
            "anonymous": 302,
            "admin": 200,
            "supervisor": 302,
            "agent": 302,
            "merchant_a": 302,
            "merchant_b": 302,
            "business": 302,
        },
    )


def test_customer_page_is_404_for_another_shop(client_for, shop_a, shop_b):
    customer = CustomerFactory.create()
    OrderFactory.create(shop=shop_a, customer=customer)
    assert_matrix(
        client_for,
        reverse("info_query:customer", args=[customer.pk]),
        {
            "anonymous": 302,
            "admin": 200,
            "supervisor": 200,
            "agent": 200,
            "merchant_a": 200,
            "merchant_b": 404,
            "business": 200,
        },
    )


def test_agent_detail_is_404_outside_scope(client_for, people):
    assert_matrix(
        client_for,
        reverse("agents:detail", args=[people["merchant_b"].pk]),
        {
            "anonymous": 302,
            "admin": 200,
            "supervisor": 200,
            "agent": 403,
            "merchant_a": 403,
            "merchant_b": 403,
            "business": 403,
        },
    )
    assert client_for("admin").get(reverse("agents:detail", args=[999999])).status_code == 404
