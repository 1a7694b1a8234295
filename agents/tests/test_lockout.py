"""The sign-in lockout counts three ways, each with its own limit (agents/lockout.py):
one username at one address, one username from any address, one address across usernames.
Before, only the first: the same user from a second address signed in freely, and one try
at each of many users locked nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

RIGHT = "pw-for-tests-1"


def _login(username: str, password: str, address: str, forwarded_for: str = ""):
    client = Client(REMOTE_ADDR=address)
    if forwarded_for:
        client.defaults["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.KEFU_LOGIN_FAILURE_LIMIT_PER_USER = 5
    settings.KEFU_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 8
    return settings


def test_one_user_tried_from_many_addresses_is_locked_everywhere(people, limits):
    for n in range(5):
        _login("agent_u", "wrong", f"198.51.100.{n}")
    response = _login("agent_u", RIGHT, "198.51.100.77")
    assert response.status_code == 429
    # Other users are not affected.
    assert _login("super_u", RIGHT, "198.51.100.77").status_code == 302


def test_the_per_user_limit_is_higher_than_the_per_address_pair(people, limits):
    # Four failures from four addresses: under the per-user limit (5), so the owner, who
    # never mistyped, still signs in.
    for n in range(4):
        _login("agent_u", "wrong", f"198.51.100.{n}")
    assert _login("agent_u", RIGHT, "203.0.113.5").status_code == 302


def test_one_address_trying_many_users_is_locked(people, limits):
    for n in range(8):
        _login(f"nobody{n}", "wrong", "192.0.2.9")
    # Any account from that address, even with the right password.
    assert _login("agent_u", RIGHT, "192.0.2.9").status_code == 429
    # The same account from elsewhere is fine.
    assert _login("agent_u", RIGHT, "192.0.2.10").status_code == 302


def test_signing_in_does_not_wash_the_address_count(people, limits):
    for n in range(7):
        _login(f"nobody{n}", "wrong", "192.0.2.9")
    # The sprayer owns one real account and signs in with it between tries.
    assert _login("biz_u", RIGHT, "192.0.2.9").status_code == 302
    _login("nobody8", "wrong", "192.0.2.9")
    assert _login("agent_u", RIGHT, "192.0.2.9").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_locked(people, limits):
    limits.KEFU_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for _ in range(3):
        _login("agent_u", "wrong", proxy, forwarded_for="198.51.100.1")
    assert _login("agent_u", RIGHT, proxy, forwarded_for="198.51.100.1").status_code == 429
    # Another customer of the same proxy is someone else.
    assert _login("agent_u", RIGHT, proxy, forwarded_for="198.51.100.2").status_code == 302
