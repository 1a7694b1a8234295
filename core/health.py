"""Health checks that apps add to /healthz without core importing them.

A room above core registers a check in its AppConfig.ready (the way object rules reach
`agents.capabilities`): `health.register("holidays", holidays_health)`. /healthz adds each
check's answer under its name. These are warnings for operators and monitoring, never a
failure: /healthz keeps answering 200 (a load balancer must not take a healthy server out
of rotation because an admin has a chore to do). A check that raises is reported as
"unavailable" and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

HealthCheck = Callable[[], object]

_checks: dict[str, HealthCheck] = {}


def register(name: str, check: HealthCheck) -> None:
    """Add (or replace) the check reported under `name`; its answer must be JSON-able."""
    _checks[name] = check


def report() -> dict[str, object]:
    results: dict[str, object] = {}
    for name, check in sorted(_checks.items()):
        try:
            results[name] = check()
        except Exception:
            logger.exception("health check %s failed", name)
            results[name] = "unavailable"
    return results
