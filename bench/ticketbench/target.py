"""The target interface of the ticket list benchmark: a system under test, the requests
(probes) to time, their results, and logging in through a Django login form."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import requests
from common import summary_ms

PER_PAGE = 25


@dataclass
class Probe:
    """One kind of request to time: a label, a path, and how to read the answer."""

    label: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expect_json: bool = False


@dataclass
class ProbeResult:
    label: str
    path: str
    timings_s: list[float]
    queries: list[int]
    statuses: list[int]
    note: str = ""

    def row(self) -> dict[str, Any]:
        s = summary_ms(self.timings_s)
        q = sorted(self.queries)
        return {
            "label": self.label,
            "path": self.path,
            **s,
            "queries": (q[len(q) // 2] if q else None),
            "queries_min": (q[0] if q else None),
            "queries_max": (q[-1] if q else None),
            "statuses": sorted(set(self.statuses)),
            "note": self.note,
        }


class Target(ABC):
    """A system under test. The runner calls, in order:

    prepare(n)      -> create the virtualenv/DB, migrate, seed to n tickets (idempotent)
    serve(port)     -> context manager: a running server process on 127.0.0.1:port
    login(session, base_url) -> a logged-in staff requests.Session
    probes(session, base_url, n) -> the list of Probe to time (first, deep, filtered, detail)
    """

    name: str = "?"
    server_desc: str = "?"

    @abstractmethod
    def prepare(self, n: int) -> None: ...

    @abstractmethod
    def serve(self, port: int) -> Any: ...

    @abstractmethod
    def login(self, session: requests.Session, base_url: str) -> None: ...

    @abstractmethod
    def probes(self, session: requests.Session, base_url: str, n: int) -> list[Probe]: ...

    def extra_probes(self) -> list[Probe]:
        """Probes timed `--dashboard` times without warm-up (0 skips them): slow pages."""
        return []


def django_form_login(
    session: requests.Session, login_url: str, username: str, password: str
) -> None:
    """Log in through a Django login form like a browser: GET for the CSRF cookie, POST."""
    r = session.get(login_url, timeout=60)
    r.raise_for_status()
    token = session.cookies.get("csrftoken")
    if not token:
        raise SystemExit(f"no csrftoken cookie from {login_url}")
    r = session.post(
        login_url,
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": login_url},
        allow_redirects=False,
        timeout=60,
    )
    if r.status_code != 302 or "sessionid" not in session.cookies:
        raise SystemExit(f"login at {login_url} failed: HTTP {r.status_code}")
