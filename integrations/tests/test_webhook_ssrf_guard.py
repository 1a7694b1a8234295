"""The SSRF guard: every blocked address class, numeric host tricks, redirects, pinning."""

from __future__ import annotations

import time

import pytest

from integrations import webhook_http
from integrations.tests.factories import WebhookAllowedHostFactory
from integrations.tests.receiver import Received, receiver
from integrations.webhook_http import (
    BlockedDestination,
    DeliveryError,
    check_destination,
    post_json,
)

pytestmark = pytest.mark.django_db

BODY = b'{"hello":"world"}'
HEADERS = {"Content-Type": "application/json", "X-Kefu-Signature": "t=1,v1=00"}


def fake_dns(table: dict[str, list[str]], calls: list[str] | None = None):
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host in table:
            return table[host]
        raise OSError(f"no such host {host}")

    return resolve


# These go through the real system resolver: numeric forms are parsed, localhost comes
# from /etc/hosts, so no network is needed.
BLOCKED = {
    "http://127.0.0.1/": "loopback",
    "http://127.0.0.1:8080/x": "loopback",
    "http://2130706433/": "loopback",  # decimal 127.0.0.1
    "http://0x7f000001/": "loopback",  # hex
    "http://0177.0.0.1/": "loopback",  # octal
    "http://127.1/": "loopback",  # short form
    "http://localhost/": "loopback",
    "http://[::1]/": "loopback",
    "http://[::ffff:127.0.0.1]/": "loopback",  # IPv4-mapped IPv6
    "http://[2002:7f00:1::]/": "loopback",  # 6to4 wrapping 127.0.0.1
    "http://[64:ff9b::a01:203]/": "private",  # NAT64 of 10.1.2.3
    "http://10.1.2.3/": "private",
    "http://172.16.0.5/": "private",
    "http://172.31.255.254/": "private",
    "http://192.168.1.10/": "private",
    "http://[fc00::1]/": "private",
    "http://[fd12:3456::1]/": "private",
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[fe80::1]/": "link-local",
    "http://0.0.0.0/": "unspecified",
    "http://[::]/": "unspecified",
    "http://224.0.0.1/": "multicast",
    "http://[ff02::1]/": "multicast",
    "http://240.0.0.1/": "reserved",
    "http://100.64.0.1/": "not a public address",  # carrier-grade NAT
}


@pytest.mark.parametrize("url", sorted(BLOCKED))
def test_blocked_address_classes_are_refused(url):
    with pytest.raises(BlockedDestination) as excinfo:
        check_destination(url)
    assert BLOCKED[url] in str(excinfo.value)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "http://user:pw@example.com/"]
)
def test_other_schemes_and_credentials_are_refused(url):
    with pytest.raises(BlockedDestination):
        check_destination(url, resolver=fake_dns({"example.com": ["93.184.216.34"]}))


def test_a_name_resolving_to_a_private_address_is_refused():
    resolve = fake_dns({"crm.corp.example": ["10.20.30.40"]})
    with pytest.raises(BlockedDestination, match="private"):
        check_destination("https://crm.corp.example/hook", resolver=resolve)


def test_one_private_answer_among_public_ones_is_enough_to_refuse():
    resolve = fake_dns({"mixed.example": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(BlockedDestination, match="loopback"):
        check_destination("https://mixed.example/", resolver=resolve)


def test_a_public_name_is_pinned_to_the_address_that_was_checked():
    resolve = fake_dns({"hooks.example.com": ["93.184.216.34"]})
    dest = check_destination("https://hooks.example.com:8443/in?x=1", resolver=resolve)
    assert dest.address == "93.184.216.34"
    assert dest.pinned_url == "https://93.184.216.34:8443/in?x=1"
    assert dest.host_header == "hooks.example.com:8443"


def test_an_allow_listed_host_may_be_private():
    WebhookAllowedHostFactory.create(host="crm.corp.example")
    resolve = fake_dns({"crm.corp.example": ["10.20.30.40"]})
    dest = check_destination("http://CRM.corp.example/hook", resolver=resolve)
    assert dest.address == "10.20.30.40"


def test_unresolvable_host_is_a_retryable_error_not_a_block():
    with pytest.raises(DeliveryError) as excinfo:
        check_destination("https://nowhere.invalid/", resolver=fake_dns({}))
    assert not isinstance(excinfo.value, BlockedDestination)


def test_connection_goes_to_the_checked_address_with_the_real_host_name():
    """DNS rebinding: one lookup per hop, and the socket connects to exactly that answer."""
    WebhookAllowedHostFactory.create(host="pinned.test")
    calls: list[str] = []
    with receiver() as r:
        # pinned.test does not exist in real DNS: the request can only arrive because the
        # connection used the address our resolver gave at check time.
        resolve = fake_dns({"pinned.test": ["127.0.0.1"]}, calls)
        url = f"http://pinned.test:{r.port}/hook"
        result = post_json(url, body=BODY, headers=HEADERS, resolver=resolve)
    assert result.status_code == 200
    assert calls == ["pinned.test"]
    assert r.requests[0].headers["host"] == f"pinned.test:{r.port}"
    assert r.requests[0].body == BODY


def test_redirect_from_an_allowed_host_to_a_private_one_is_refused():
    WebhookAllowedHostFactory.create(host="allowed.test")
    with receiver() as inside:
        target = f"http://private.test:{inside.port}/admin"

        def redirect(_req: Received):
            return 302, {"Location": target}, b""

        with receiver(redirect) as outside:
            resolve = fake_dns({"allowed.test": ["127.0.0.1"], "private.test": ["127.0.0.1"]})
            with pytest.raises(BlockedDestination, match=r"private\.test"):
                url = f"http://allowed.test:{outside.port}/hook"
                post_json(url, body=BODY, headers=HEADERS, resolver=resolve)
        assert len(outside.requests) == 1
        assert inside.requests == []


def test_redirect_to_metadata_address_literal_is_refused():
    WebhookAllowedHostFactory.create(host="127.0.0.1")

    def redirect(_req: Received):
        return 307, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""

    with receiver(redirect) as r, pytest.raises(BlockedDestination, match="link-local"):
        post_json(r.url, body=BODY, headers=HEADERS)


def test_an_allowed_redirect_is_followed_with_the_same_post():
    WebhookAllowedHostFactory.create(host="127.0.0.1")
    with receiver() as final:

        def redirect(_req: Received):
            return 308, {"Location": final.url + "?moved=1"}, b""

        with receiver(redirect) as first:
            result = post_json(first.url, body=BODY, headers=HEADERS)
    assert result.status_code == 200
    assert result.hops == 1
    assert final.requests[0].method == "POST"
    assert final.requests[0].body == BODY
    assert final.requests[0].path == "/hook?moved=1"


def test_more_than_three_redirects_fail():
    WebhookAllowedHostFactory.create(host="127.0.0.1")
    holder: dict[str, str] = {}

    def loop(_req: Received):
        return 302, {"Location": holder["url"]}, b""

    with receiver(loop) as r:
        holder["url"] = r.url
        with pytest.raises(DeliveryError, match="redirects"):
            post_json(r.url, body=BODY, headers=HEADERS)
    assert len(r.requests) == 4  # the first request and three followed redirects


def test_loopback_receiver_is_refused_without_the_allow_list():
    with receiver() as r, pytest.raises(BlockedDestination):
        post_json(r.url, body=BODY, headers=HEADERS)
    assert r.requests == []


def test_a_slow_receiver_times_out(monkeypatch):
    WebhookAllowedHostFactory.create(host="127.0.0.1")
    monkeypatch.setattr(webhook_http, "READ_TIMEOUT", 0.3)

    def slow(_req: Received):
        time.sleep(1.0)
        return 200, {}, b""

    with receiver(slow) as r, pytest.raises(DeliveryError, match="timed out"):
        post_json(r.url, body=BODY, headers=HEADERS)


def test_an_unparseable_redirect_location_is_refused():
    WebhookAllowedHostFactory.create(host="127.0.0.1")

    def broken(_req: Received):
        return 302, {"Location": "http://[::1/oops"}, b""

    with receiver(broken) as r, pytest.raises(DeliveryError, match="Invalid IPv6"):
        post_json(r.url, body=BODY, headers=HEADERS)
    assert len(r.requests) == 1
