"""The sign-in lockout: django-axes' database handler, with a limit for each way of counting.

Axes counts failed sign-ins in three groups (AXES_LOCKOUT_PARAMETERS): the username at
one address, the username from anywhere, and the address across usernames, but compares
them all with one limit. Here each group has its own (docs/security.md):

- username + address: KEFU_LOGIN_FAILURE_LIMIT (5), someone mistyping their password;
- username: KEFU_LOGIN_FAILURE_LIMIT_PER_USER (20), one account tried from many
  addresses. Higher, because anyone who knows a username can spend it: a low count would
  let anyone lock a colleague out;
- address: KEFU_LOGIN_FAILURE_LIMIT_PER_ADDRESS (50), one address trying many accounts
  (password spraying). Highest, because a whole office may sign in from one address.

A successful sign-in clears only its own username + address pair, as before: an attacker
who owns one account cannot wash the address's count (or a victim's) by signing in.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def _group_limit(parameters: str | list[str], pair_limit: int) -> int:
    names = frozenset([parameters] if isinstance(parameters, str) else parameters)
    if names == {"username"}:
        return int(settings.KEFU_LOGIN_FAILURE_LIMIT_PER_USER)
    if names == {"ip_address"}:
        return int(settings.KEFU_LOGIN_FAILURE_LIMIT_PER_ADDRESS)
    return pair_limit


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """The failures on axes' scale: every group's count is scaled to AXES_FAILURE_LIMIT
        (count x limit // its own limit), so axes' one comparison, failures >= limit, says
        "some group reached its own limit", both when it locks after a failure and when it
        checks before a sign-in."""
        pair_limit = get_failure_limit(request, credentials)
        groups = get_lockout_parameters(request, credentials)
        worst = 0
        for parameters, attempts in zip(
            groups, self.get_user_attempts(request, credentials), strict=True
        ):
            failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            worst = max(worst, failures * pair_limit // _group_limit(parameters, pair_limit))
        return worst

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """After a successful sign-in: clear this username at this address, nothing else."""
        count, _deleted = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=getattr(request, "axes_ip_address", None),
        ).delete()
        return count
