"""Writes for what admins configure: webhook deliveries and canned-reply usage."""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhook_events import TEST_EVENT, is_known_event
from integrations.webhook_http import (
    BlockedDestination,
    DeliveryError,
    Resolver,
    post_json,
    system_resolve,
)
from integrations.webhook_signing import sign

logger = logging.getLogger(__name__)

# How long one worker owns an attempt. Longer than the worst case of one attempt:
# (3 s connect + 10 s read) x (1 + 3 redirects), plus name resolution.
DELIVERY_LEASE = timedelta(seconds=120)
USER_AGENT = "Kefu-Webhooks/1"
_jitter = secrets.SystemRandom()

Status = WebhookDelivery.Status


# --- Emitting -----------------------------------------------------------------------------


def webhook_emit(
    *,
    event_type: str,
    payload: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    shop_id: int | None,
) -> list[WebhookDelivery]:
    """Record one delivery per subscribed endpoint; send them once the caller commits.

    Call it inside the transaction that makes the change: if that rolls back, no delivery
    exists and nothing is sent. Platform endpoints (no shop) get every event; a shop's
    endpoint only its own shop's events. `payload` may be a function: it is then called
    only when some active endpoint listens (most events have no listener, and a payload
    can cost several queries to build).
    """
    if not is_known_event(event_type):
        raise ValueError(f"unknown webhook event type {event_type!r} (see webhook_events.py)")
    endpoints = WebhookEndpoint.objects.filter(is_active=True)
    if shop_id is None:
        endpoints = endpoints.filter(shop__isnull=True)
    else:
        endpoints = endpoints.filter(Q(shop__isnull=True) | Q(shop_id=shop_id))
    # Subscriptions are a short JSON list; filtering here works on SQLite and Postgres alike.
    matching = [e for e in endpoints.order_by("pk") if e.subscribes_to(event_type)]
    if not matching:
        return []
    built = payload() if callable(payload) else payload
    # What is stored is exactly what will be sent: dates, decimals and UUIDs become strings.
    data = json.loads(json.dumps(dict(built), cls=DjangoJSONEncoder))
    event_id = uuid.uuid4()
    now = timezone.now()
    deliveries = [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_type=event_type,
            event_id=event_id,
            payload=data,
            event_shop_id=shop_id,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint in matching
    ]
    _enqueue_on_commit([d.pk for d in deliveries])
    return deliveries


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    from integrations.tasks import webhook_deliver

    for delivery_id in delivery_ids:
        transaction.on_commit(partial(webhook_deliver.delay, delivery_id))


# --- Sending ------------------------------------------------------------------------------


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed: the same for every attempt of a delivery."""
    envelope = {
        "id": str(delivery.event_id),
        "type": delivery.event_type,
        "created_at": delivery.created_at.isoformat(),
        "shop_id": delivery.event_shop_id,
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def webhook_backoff_seconds(attempts: int, *, jitter: float | None = None) -> float:
    """Delay before the next try after `attempts` failed ones: doubling, capped, ±25 % jitter.

    With the defaults: ~30 s, 1 min, 2 min, 4 min, 8 min, 16 min, 32 min ... capped at 6 h.
    Jitter spreads the retries of many deliveries that failed together (a receiver outage).
    """
    base = settings.KEFU_WEBHOOK_BACKOFF_BASE_SECONDS
    cap = settings.KEFU_WEBHOOK_BACKOFF_CAP_SECONDS
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    fraction = _jitter.random() if jitter is None else jitter
    return delay * (0.75 + 0.5 * fraction)


def _claimable(now: datetime) -> Q:
    return (
        Q(status__in=[Status.PENDING, Status.FAILED])
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(locked_until__isnull=True) | Q(locked_until__lt=now))
    )


def webhook_delivery_attempt(
    *, delivery_id: int, resolver: Resolver = system_resolve
) -> WebhookDelivery | None:
    """Try one delivery once, if it is due and nobody else holds it. Safe to run twice.

    The claim is one conditional UPDATE (status still open, due, not leased): of two
    workers running this at once exactly one gets the row, and a delivery that already
    succeeded is never claimed again. The HTTP call happens outside any transaction.
    Returns the delivery after the attempt, or None when there was nothing to do.
    """
    now = timezone.now()
    lease_until = now + DELIVERY_LEASE
    if not WebhookEndpoint.objects.filter(deliveries__pk=delivery_id, is_active=True).exists():
        return None  # unknown delivery, or its endpoint was switched off: nothing to send
    # No join in this UPDATE on purpose: a join makes Django write `WHERE id IN (SELECT …)`,
    # and Postgres does not re-check a subquery after waiting for a concurrent writer's row
    # lock, so two workers could both claim the row. Plain column conditions are re-checked.
    claimed = WebhookDelivery.objects.filter(_claimable(now), pk=delivery_id).update(
        locked_until=lease_until, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = webhook_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Kefu-Event": delivery.event_type,
        "X-Kefu-Delivery": str(delivery.pk),
        "X-Kefu-Event-Id": str(delivery.event_id),
        "X-Kefu-Timestamp": str(timestamp),
        "X-Kefu-Signature": sign(
            secret=endpoint.secret,
            timestamp=timestamp,
            body=body,
            previous_secret=endpoint.previous_secret,
        ),
    }
    started = time.monotonic()
    code: int | None = None
    permanent = False
    try:
        result = post_json(endpoint.url, body=body, headers=headers, resolver=resolver)
        code = result.status_code
        error = "" if 200 <= code < 300 else f"HTTP {code}: {result.body_snippet[:500]}"
    except BlockedDestination as exc:
        error, permanent = f"blocked: {exc}", True
    except DeliveryError as exc:
        error = str(exc)
    except Exception as exc:
        # A bug or an odd answer must not leave the delivery leased with no trace: record
        # it and retry like any other failure.
        logger.exception("webhook delivery %s failed unexpectedly", delivery_id)
        error = f"unexpected error: {exc.__class__.__name__}: {exc}"
    elapsed_ms = int((time.monotonic() - started) * 1000)

    fields: dict[str, Any] = {
        "locked_until": None,
        "last_response_code": code,
        "last_error": error[:2000],
        "last_response_ms": elapsed_ms,
        "updated_at": timezone.now(),
    }
    if not error:
        fields.update(status=Status.SUCCEEDED, delivered_at=timezone.now(), next_attempt_at=None)
    elif permanent or delivery.attempts >= settings.KEFU_WEBHOOK_MAX_ATTEMPTS:
        fields.update(status=Status.GAVE_UP, next_attempt_at=None)
    else:
        delay = webhook_backoff_seconds(delivery.attempts)
        fields.update(
            status=Status.FAILED, next_attempt_at=timezone.now() + timedelta(seconds=delay)
        )
    # Only the holder of this lease records the outcome.
    WebhookDelivery.objects.filter(pk=delivery_id, locked_until=lease_until).update(**fields)
    delivery.refresh_from_db()
    return delivery


def webhook_deliveries_due(*, limit: int = 200) -> list[int]:
    """Ids of deliveries whose (re)try is due and that no worker holds."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(_claimable(now))
        .exclude(endpoint__is_active=False)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_delivery_retry_now(
    *, delivery: WebhookDelivery, resolver: Resolver = system_resolve
) -> WebhookDelivery | None:
    """Admin "retry now": make an open or given-up delivery due and try it at once.

    A delivery that succeeded is never sent again. Returns None when another worker is
    sending it right now.
    """
    if delivery.status == Status.SUCCEEDED:
        raise ValidationError(_("This delivery succeeded; it is never sent twice."))
    now = timezone.now()
    open_statuses = [Status.PENDING, Status.FAILED]
    # A given-up delivery re-opens as "failed": it has been tried before.
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.GAVE_UP).update(
        status=Status.FAILED, updated_at=now
    )
    WebhookDelivery.objects.filter(pk=delivery.pk, status__in=open_statuses).update(
        next_attempt_at=now, updated_at=now
    )
    return webhook_delivery_attempt(delivery_id=delivery.pk, resolver=resolver)


def webhook_deliveries_purge(*, older_than: timedelta | None = None) -> int:
    """Delete finished deliveries older than the retention period; open ones are kept."""
    keep = older_than or timedelta(days=settings.KEFU_WEBHOOK_LOG_RETENTION_DAYS)
    deleted, _by_model = WebhookDelivery.objects.filter(
        status__in=[Status.SUCCEEDED, Status.GAVE_UP], updated_at__lt=timezone.now() - keep
    ).delete()
    return deleted


@transaction.atomic
def webhook_test_delivery_create(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` event for one endpoint, whatever it subscribes to, sent on commit."""
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type=TEST_EVENT,
        payload={"message": "This is a test event from Kefu.", "endpoint": endpoint.name},
        event_shop_id=endpoint.shop_id,
        next_attempt_at=now,
        created_at=now,
    )
    _enqueue_on_commit([delivery.pk])
    return delivery
