"""One answer to "which address is this client" (core/addresses.py), for the sign-in
lockout and the rate limits: X-Forwarded-For is believed only as far as trusted proxies
wrote it."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.addresses import client_address, pick_address, scope_address


@pytest.mark.parametrize(
    ("forwarded", "proxies", "expected"),
    [
        ("", 0, "10.0.0.2"),
        ("198.51.100.1", 0, "10.0.0.2"),  # no proxy trusted: the header is the client's
        ("198.51.100.1", 1, "198.51.100.1"),
        ("6.6.6.6, 198.51.100.1", 1, "198.51.100.1"),  # the left part is made up
        ("6.6.6.6, 198.51.100.1, 10.0.0.9", 2, "198.51.100.1"),
        ("198.51.100.1", 3, "198.51.100.1"),  # fewer hops than proxies: the leftmost
        ("198.51.100.1:4711", 1, "198.51.100.1"),
        ("[2001:db8::1]:443", 1, "2001:db8::1"),
        ("2001:db8::1", 1, "2001:db8::1"),
        ("not-an-address", 1, "10.0.0.2"),
    ],
)
def test_pick_address(forwarded, proxies, expected):
    assert pick_address("10.0.0.2", forwarded, proxies) == expected


def test_request_and_scope_agree(settings):
    settings.KEFU_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")
    scope = {"client": ("10.0.0.2", 5555), "headers": [(b"x-forwarded-for", b"1.2.3.4")]}
    assert client_address(request) == scope_address(scope) == "1.2.3.4"
    settings.KEFU_TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == scope_address(scope) == "10.0.0.2"
    assert scope_address({}) == ""
