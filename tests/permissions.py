"""The permission-matrix helper every view and API test reuses.

    assert_matrix(client_for, "/tickets/42/", {
        "anonymous": 302, "merchant_b": 404, "merchant_a": 200, "business": 403, ...
    })

Each key is a person from the `people` fixture (or "anonymous"); each value the status
code that person must get. Outside a user's shops the answer is 404, never 403, so an
object's existence does not leak. Every row is checked and all mismatches are reported
together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.test import Client

ROLES = ("anonymous", "admin", "supervisor", "agent", "merchant_a", "merchant_b", "business")


def assert_matrix(
    client_for: Callable[[str], Client],
    url: str,
    expected: Mapping[str, int],
    *,
    method: str = "get",
    data: Any = None,
    require_all_roles: bool = True,
) -> None:
    if require_all_roles:
        missing = set(ROLES) - set(expected)
        assert not missing, f"matrix for {url} leaves out {sorted(missing)}"
    wrong = []
    for who, status in expected.items():
        response = getattr(client_for(who), method)(url, data=data)
        if response.status_code != status:
            wrong.append(f"{who}: expected {status}, got {response.status_code}")
    assert not wrong, f"{method.upper()} {url}\n  " + "\n  ".join(wrong)


def assert_api_matrix(
    client_for: Callable[[str], Client],
    url: str | Callable[[], str],
    expected: Mapping[str, int],
    *,
    method: str = "get",
    data: Any = None,
    require_all_roles: bool = True,
) -> None:
    """assert_matrix for the JSON API: bodies are sent as JSON, anonymous gets 401.

    `url` may be a callable returning a fresh URL per row, for actions that change the
    object (an accept succeeds once): each person then acts on their own copy."""
    if require_all_roles:
        missing = set(ROLES) - set(expected)
        assert not missing, f"matrix for {url} leaves out {sorted(missing)}"
    wrong = []
    for who, status in expected.items():
        target = url() if callable(url) else url
        client = client_for(who)
        if method == "get":
            response = client.get(target, data=data)
        else:
            response = getattr(client, method)(
                target, data=data if data is not None else {}, content_type="application/json"
            )
        if response.status_code != status:
            wrong.append(f"{who}: expected {status}, got {response.status_code}")
    assert not wrong, f"{method.upper()} {url}\n  " + "\n  ".join(wrong)
