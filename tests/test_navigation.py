"""Each role sees its sections, and every link in the navigation opens."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

EXPECTED_NAV = {
    "admin": [
        "workbench",
        "service_orders",
        "tickets",
        "monitoring",
        "agents",
        "reports",
        "info_query",
        "settings",
    ],
    "supervisor": [
        "workbench",
        "service_orders",
        "tickets",
        "monitoring",
        "agents",
        "reports",
        "info_query",
    ],
    "agent": ["workbench", "service_orders", "tickets", "info_query"],
    "merchant_a": ["workbench", "service_orders", "tickets", "info_query"],
    "business": ["tickets", "info_query"],
}


@pytest.mark.parametrize("who", sorted(EXPECTED_NAV))
def test_navigation_matches_the_role_and_has_no_dead_links(client_for, who):
    client = client_for(who)
    page = client.get(reverse("home"), follow=True)
    assert page.status_code == 200
    keys = [s.key for s in page.context["nav_sections"]]
    assert keys == EXPECTED_NAV[who]
    match = re.search(r'<nav class="mainnav".*?</nav>', page.content.decode(), re.S)
    assert match is not None
    nav = match.group(0)
    links = re.findall(r'href="([^"]+)"', nav)
    assert len(links) == len(keys)
    for link in links:
        assert client.get(link).status_code == 200, link


def test_anonymous_is_sent_to_login(client_for):
    response = client_for("anonymous").get(reverse("workbench:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
