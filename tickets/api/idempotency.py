"""Idempotent create: (user, Idempotency-Key) -> the first request's fingerprint and answer.

The key's row is inserted in the same transaction as the ticket. A twin request racing
the first one blocks on the unique index until the first commits, then finds the row and
replays its answer; if the first rolls back, the twin's insert goes through and it creates
the ticket itself. Only successful creates are remembered: a refused request can be fixed
and retried under the same key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import User
from tickets.models import ApiIdempotencyKey

KEY_LIFETIME = timedelta(hours=24)
# Printable ASCII, like Stripe's keys: safe to store and to echo in an error.
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


class KeyReusedError(Exception):
    """The key was used before with a different request body."""


def fingerprint(data: Any) -> str:
    if hasattr(data, "lists"):  # a QueryDict (form-encoded body)
        data = dict(data.lists())
    raw = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def run_once(
    *, user: User, key: str, fingerprint: str, create: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run `create` once per (user, key); returns (status, body, replayed)."""
    now = timezone.now()
    with transaction.atomic():
        ApiIdempotencyKey.objects.filter(user=user, key=key, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                record = ApiIdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=fingerprint, expires_at=now + KEY_LIFETIME
                )
        except IntegrityError:
            earlier = ApiIdempotencyKey.objects.get(user=user, key=key)
            if earlier.fingerprint != fingerprint:
                raise KeyReusedError from None
            return earlier.status_code or 201, earlier.response, True
        status, body = create()
        record.status_code = status
        record.response = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        record.save(update_fields=["status_code", "response"])
    return status, body, False


def idempotency_keys_purge() -> int:
    """Delete expired keys (hourly beat job); a key is also replaced when reused expired."""
    deleted, _ = ApiIdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
