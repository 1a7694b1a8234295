"""Which address a client is: one answer for the sign-in lockout and every rate limit.

Without trusted proxies (KEFU_TRUSTED_PROXY_COUNT=0, the default) it is the address of the
connection itself and X-Forwarded-For is ignored: any client can write that header. Behind
N reverse proxies that each append the address they saw, the client is the N-th address
from the right of "X-Forwarded-For, connection address": the one the outermost trusted
proxy saw. Anything left of it was written by the client and is not believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def _clean(value: str) -> str | None:
    """An address as a string, without a port; None when it is not an address."""
    value = value.strip()
    if value.startswith("["):  # [2001:db8::1]:443
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:  # 203.0.113.9:443
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def pick_address(connection: str, forwarded_for: str, trusted_proxies: int) -> str:
    """The client's address from the connection's and the X-Forwarded-For header."""
    if trusted_proxies <= 0 or not forwarded_for:
        return connection
    chain = [*forwarded_for.split(","), connection]
    # Fewer hops than trusted proxies: take the leftmost, the furthest any proxy saw.
    chosen = _clean(chain[max(0, len(chain) - 1 - trusted_proxies)])
    return chosen or connection


def client_address(request: HttpRequest) -> str:
    """The client of an HTTP request (also django-axes' AXES_CLIENT_IP_CALLABLE)."""
    return pick_address(
        request.META.get("REMOTE_ADDR") or "",
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        settings.KEFU_TRUSTED_PROXY_COUNT,
    )


def scope_address(scope: Mapping[str, Any]) -> str:
    """The client of a websocket (an ASGI scope: its `client` and its headers)."""
    client = scope.get("client")
    connection = str(client[0]) if client else ""
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers") or ()
    forwarded = b",".join(v for k, v in headers if k.lower() == b"x-forwarded-for")
    return pick_address(connection, forwarded.decode("latin-1"), settings.KEFU_TRUSTED_PROXY_COUNT)
