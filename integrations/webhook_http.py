"""POST to a URL an outsider chose without letting it reach into our own network (SSRF).

Each hop of a request goes through the same three steps:

1. resolve the host once and refuse it when ANY address is loopback, link-local, private,
   unspecified, multicast, reserved or otherwise not public (IPv4 and IPv6, including IPv4
   embedded in IPv6), unless an admin put the host on the allow-list;
2. connect to exactly the address that was checked (the URL is rewritten to the IP; the
   Host header and, for https, SNI and certificate checks keep the real name), so a DNS
   answer that changes between check and connect (DNS rebinding) cannot redirect us;
3. never follow redirects automatically: a 3xx is followed by hand, at most
   `MAX_REDIRECTS` times, and every new location goes through steps 1-2 again.

Numeric host forms such as ``2130706433``, ``0x7f000001`` or ``127.1`` are resolved by the
system resolver to the address they denote, so they are checked like any other answer.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from integrations.models import WebhookAllowedHost, normalise_host

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
MAX_REDIRECTS = 3
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
RESPONSE_SNIPPET_BYTES = 1024
# Certificate verification: the system/certifi bundle. Tests point it at their own CA file.
VERIFY_TLS: bool | str = True

NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DeliveryError(Exception):
    """The request could not be made or completed; worth retrying later."""


class BlockedDestination(DeliveryError):
    """The destination is not allowed; retrying will not help until an admin acts."""


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        if address not in seen:
            seen.append(address)
    return seen


def block_reason(address: IPAddress) -> str | None:
    """Why this address may not be called, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        # IPv4 smuggled inside IPv6 (::ffff:127.0.0.1, 6to4, Teredo) is judged as IPv4.
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is None and address in NAT64_PREFIX:
            # NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = block_reason(embedded)
            if inner:
                return inner
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "not a public address"),
    )
    for failed, reason in checks:
        if failed:
            return reason
    return None


def host_is_allowed(host: str) -> bool:
    return WebhookAllowedHost.objects.filter(host=normalise_host(host)).exists()


@dataclass(frozen=True)
class Destination:
    """One checked hop: where the URL points and the address we will connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str
    path: str

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"

    @property
    def pinned_url(self) -> str:
        ip = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{ip}:{self.port}{self.path}"


def check_destination(url: str, *, resolver: Resolver = system_resolve) -> Destination:
    """Resolve and vet one URL; raise BlockedDestination or DeliveryError."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise BlockedDestination("the URL cannot be parsed") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise BlockedDestination(f"scheme {scheme or '(none)'!r} is not allowed")
    if parts.username or parts.password:
        raise BlockedDestination("credentials in the URL are not supported")
    host = parts.hostname
    if not host:
        raise BlockedDestination("the URL has no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise BlockedDestination("the URL has an invalid port") from None
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise DeliveryError(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise DeliveryError(f"{host} has no address")
    if not host_is_allowed(host):
        for raw in addresses:
            try:
                address = ipaddress.ip_address(raw)
            except ValueError:
                raise BlockedDestination(f"{host} resolved to an invalid address") from None
            reason = block_reason(address)
            if reason:
                raise BlockedDestination(f"{host} resolves to {raw} ({reason}); refused")
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return Destination(
        url=url, scheme=scheme, host=host, port=port, address=addresses[0], path=path
    )


def _root_cause(exc: BaseException) -> str:
    """The innermost reason ("[Errno 111] Connection refused"), not urllib3's long wrapper."""
    seen: set[int] = set()
    current: BaseException = exc
    while id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "reason", None) or current.__cause__ or current.__context__
        if not isinstance(inner, BaseException):
            if current.args and isinstance(current.args[0], BaseException):
                inner = current.args[0]
            else:
                break
        current = inner
    text = str(current)
    # urllib3 prefixes "<connection object>: " to the OS error; keep the part that matters.
    return text.split(": ", 1)[1] if text.startswith("HTTP") and ": " in text else text


class PinnedHostAdapter(HTTPAdapter):
    """Connects to the IP in the URL but speaks TLS (SNI, certificate) for the real name."""

    def __init__(self, *, server_hostname: str) -> None:
        self._server_hostname = server_hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        # urllib3 drops these for plain http pools, and uses them for https ones.
        kwargs["server_hostname"] = self._server_hostname
        kwargs["assert_hostname"] = self._server_hostname
        super().init_poolmanager(*args, **kwargs)


@dataclass(frozen=True)
class PostResult:
    status_code: int
    body_snippet: str
    final_url: str
    hops: int


def _post_once(dest: Destination, body: bytes, headers: Mapping[str, str]) -> requests.Response:
    session = requests.Session()
    # No proxies or .netrc from the environment: a proxy would undo the address pinning.
    session.trust_env = False
    session.mount(f"{dest.scheme}://", PinnedHostAdapter(server_hostname=dest.host))
    try:
        return session.post(
            dest.pinned_url,
            data=body,
            headers={**headers, "Host": dest.host_header},
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
            verify=VERIFY_TLS,
        )
    except requests.Timeout:
        raise DeliveryError(f"timed out calling {dest.host_header}") from None
    except requests.ConnectionError as exc:
        raise DeliveryError(f"cannot connect to {dest.host_header}: {_root_cause(exc)}") from None
    except requests.RequestException as exc:
        raise DeliveryError(f"request to {dest.host_header} failed: {_root_cause(exc)}") from None
    except ValueError as exc:
        # requests parses a redirect's Location even with allow_redirects=False (to prepare
        # response.next); a malformed one surfaces here. Nothing is followed.
        raise DeliveryError(f"unusable answer from {dest.host_header}: {exc}") from None
    finally:
        session.close()


def post_json(
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    resolver: Resolver = system_resolve,
) -> PostResult:
    """POST `body` to `url`, following up to MAX_REDIRECTS redirects by hand, each re-checked.

    Every hop gets the same body and headers (307/308 semantics): a webhook is never
    turned into a GET.
    """
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        dest = check_destination(current, resolver=resolver)
        response = _post_once(dest, body, headers)
        try:
            location = response.headers.get("Location")
            if response.status_code in REDIRECT_CODES and location:
                if hop == MAX_REDIRECTS:
                    raise DeliveryError(f"more than {MAX_REDIRECTS} redirects")
                try:
                    current = urljoin(current, location)
                except ValueError:
                    raise BlockedDestination("the redirect location cannot be parsed") from None
                continue
            try:
                raw = response.raw.read(RESPONSE_SNIPPET_BYTES, decode_content=True) or b""
            except (urllib3.exceptions.HTTPError, OSError):
                raw = b""  # the status code is what counts; the body is only for the log
            return PostResult(
                status_code=response.status_code,
                body_snippet=raw.decode("utf-8", "replace"),
                final_url=current,
                hops=hop,
            )
        finally:
            response.close()
    raise DeliveryError("redirect loop")  # pragma: no cover - the loop returns or raises
