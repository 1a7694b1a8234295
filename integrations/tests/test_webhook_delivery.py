"""Delivering webhooks: signatures, retries with backoff, giving up, never sending twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from integrations import services
from integrations.models import WebhookDelivery
from integrations.services import (
    webhook_backoff_seconds,
    webhook_delivery_attempt,
    webhook_delivery_retry_now,
    webhook_emit,
)
from integrations.tasks import webhook_deliver, webhook_deliver_due, webhook_purge_log
from integrations.tests.factories import WebhookAllowedHostFactory, WebhookEndpointFactory
from integrations.tests.receiver import Received, receiver
from integrations.webhook_signing import SignatureError, sign, verify

Status = WebhookDelivery.Status


def reference_verify(secret: str, header: str, body: bytes, now: float, tolerance: int = 300):
    """What docs/webhooks.md tells integrators to do, written independently of our code."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    ts = int(parts["t"])
    if abs(now - ts) > tolerance:
        return False
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts["v1"])


def failing(status: int):
    def behaviour(_req: Received):
        return status, {}, b"receiver is down"

    return behaviour


@pytest.fixture
def loopback_allowed(db):
    return WebhookAllowedHostFactory.create(host="127.0.0.1")


def emit_one(endpoint, django_capture_on_commit_callbacks, *, execute=False):
    with django_capture_on_commit_callbacks(execute=execute):
        [delivery] = webhook_emit(
            event_type="ticket.created", payload={"ticket": 42, "subject": "破损"}, shop_id=None
        )
    return delivery


def make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


# --- signing ------------------------------------------------------------------------------


def test_signature_checks_out_with_a_reference_verifier():
    body = b'{"id":"1"}'
    header = sign(secret="s3cret", timestamp=1_700_000_000, body=body)
    assert reference_verify("s3cret", header, body, now=1_700_000_010)
    assert not reference_verify("other", header, body, now=1_700_000_010)
    assert not reference_verify("s3cret", header, body + b" ", now=1_700_000_010)


def test_verify_rejects_stale_tampered_and_malformed():
    body = b"{}"
    header = sign(secret="k", timestamp=1000, body=body)
    assert verify(secret="k", header=header, body=body, now=1100) == 1000
    with pytest.raises(SignatureError, match="tolerance"):
        verify(secret="k", header=header, body=body, now=1000 + 301)
    with pytest.raises(SignatureError, match="match"):
        verify(secret="k", header=header, body=b"[]", now=1000)
    with pytest.raises(SignatureError, match="malformed"):
        verify(secret="k", header="v1=abc", body=body, now=1000)


# --- a real receiver --------------------------------------------------------------------


@pytest.mark.django_db
def test_allow_listed_loopback_receiver_gets_a_signed_request(
    loopback_allowed, django_capture_on_commit_callbacks
):
    with receiver() as r:
        endpoint = WebhookEndpointFactory.create(url=r.url, secret="whsec_abc")
        delivery = emit_one(endpoint, django_capture_on_commit_callbacks, execute=True)
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED
    assert (delivery.attempts, delivery.last_response_code) == (1, 200)
    assert delivery.last_response_ms is not None and delivery.delivered_at is not None
    [got] = r.requests
    headers = got.headers
    assert headers["x-kefu-event"] == "ticket.created"
    assert headers["x-kefu-delivery"] == str(delivery.pk)
    assert headers["x-kefu-signature"].startswith(f"t={headers['x-kefu-timestamp']},v1=")
    assert reference_verify("whsec_abc", headers["x-kefu-signature"], got.body, now=time.time())
    envelope = json.loads(got.body)
    assert envelope["type"] == "ticket.created"
    assert envelope["id"] == str(delivery.event_id)
    assert envelope["data"] == {"ticket": 42, "subject": "破损"}


@pytest.mark.django_db
def test_failure_schedules_a_retry_with_backoff(
    loopback_allowed, django_capture_on_commit_callbacks
):
    with receiver(failing(503)) as r:
        endpoint = WebhookEndpointFactory.create(url=r.url)
        delivery = emit_one(endpoint, django_capture_on_commit_callbacks, execute=True)
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.attempts == 1
    assert delivery.last_response_code == 503
    assert "HTTP 503" in delivery.last_error and "receiver is down" in delivery.last_error
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 30 * 0.75 - 2 <= wait <= 30 * 1.25  # first retry ~30 s, jittered
    assert len(r.requests) == 1


@pytest.mark.django_db
@override_settings(KEFU_WEBHOOK_MAX_ATTEMPTS=3)
def test_gives_up_after_the_last_attempt(loopback_allowed, django_capture_on_commit_callbacks):
    with receiver(failing(500)) as r:
        endpoint = WebhookEndpointFactory.create(url=r.url)
        delivery = emit_one(endpoint, django_capture_on_commit_callbacks, execute=True)
        for _ in range(2):
            make_due(delivery)
            webhook_deliver.delay(delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Status.GAVE_UP, 3)
        assert delivery.next_attempt_at is None
        # Even when made due by hand, a given-up delivery is not picked up again.
        make_due(delivery)
        webhook_deliver.delay(delivery.pk)
        assert webhook_deliver_due() == 0
    assert len(r.requests) == 3


@pytest.mark.django_db
def test_a_retry_that_is_not_due_yet_is_not_sent(
    loopback_allowed, django_capture_on_commit_callbacks
):
    with receiver(failing(500)) as r:
        endpoint = WebhookEndpointFactory.create(url=r.url)
        delivery = emit_one(endpoint, django_capture_on_commit_callbacks, execute=True)
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
        assert webhook_deliver_due() == 0
    assert len(r.requests) == 1


@pytest.mark.django_db
def test_blocked_destination_gives_up_at_once(django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory.create(url="http://169.254.169.254/latest/meta-data/")
    delivery = emit_one(endpoint, django_capture_on_commit_callbacks, execute=True)
    delivery.refresh_from_db()
    assert delivery.status == Status.GAVE_UP
    assert delivery.last_error.startswith("blocked:")
    assert delivery.last_response_code is None


@pytest.mark.django_db
def test_a_succeeded_delivery_is_never_sent_again(
    loopback_allowed, django_capture_on_commit_callbacks
):
    with receiver() as r:
        endpoint = WebhookEndpointFactory.create(url=r.url)
        delivery = emit_one(endpoint, django_capture_on_commit_callbacks, execute=True)
        # The task runs again (broker redelivery), the sweep runs, someone clicks retry.
        webhook_deliver.delay(delivery.pk)
        make_due(delivery)
        webhook_deliver.delay(delivery.pk)
        assert webhook_deliver_due() == 0
        delivery.refresh_from_db()
        with pytest.raises(ValidationError):
            webhook_delivery_retry_now(delivery=delivery)
    assert len(r.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 1)


@pytest.mark.django_db
def test_a_delivery_held_by_another_worker_is_left_alone(
    loopback_allowed, django_capture_on_commit_callbacks
):
    with receiver() as r:
        endpoint = WebhookEndpointFactory.create(url=r.url)
        delivery = emit_one(endpoint, django_capture_on_commit_callbacks, execute=False)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            locked_until=timezone.now() + timedelta(seconds=60)
        )
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
        # A worker that died leaves its lease behind; once it expires the sweep resends.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            locked_until=timezone.now() - timedelta(seconds=1)
        )
        assert webhook_deliver_due() == 1
    assert len(r.requests) == 1


@pytest.mark.django_db
def test_retry_now_revives_a_given_up_delivery(loopback_allowed):
    state = {"code": 500}

    def flaky(_req: Received):
        return state["code"], {}, b""

    with receiver(flaky) as r:
        endpoint = WebhookEndpointFactory.create(url=r.url)
        [delivery] = webhook_emit(event_type="ticket.created", payload={}, shop_id=None)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.GAVE_UP, attempts=8)
        delivery.refresh_from_db()
        state["code"] = 204
        result = webhook_delivery_retry_now(delivery=delivery)
    assert result is not None and result.status == Status.SUCCEEDED
    assert result.attempts == 9
    assert len(r.requests) == 1
    assert endpoint.pk == result.endpoint_id


@pytest.mark.django_db
def test_inactive_endpoint_is_not_called(loopback_allowed, django_capture_on_commit_callbacks):
    with receiver() as r:
        endpoint = WebhookEndpointFactory.create(url=r.url)
        delivery = emit_one(endpoint, django_capture_on_commit_callbacks, execute=False)
        endpoint.is_active = False
        endpoint.save(update_fields=["is_active"])
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert r.requests == []


# --- backoff ------------------------------------------------------------------------------


def test_backoff_doubles_and_is_capped():
    schedule = [webhook_backoff_seconds(n, jitter=0.5) for n in range(1, 12)]
    assert schedule[:7] == [30, 60, 120, 240, 480, 960, 1920]
    assert max(schedule) == 6 * 3600


def test_backoff_jitter_stays_within_a_quarter():
    for attempts in range(1, 8):
        nominal = 30 * 2 ** (attempts - 1)
        values = {webhook_backoff_seconds(attempts) for _ in range(50)}
        assert all(0.75 * nominal <= v <= 1.25 * nominal for v in values)
        assert len(values) > 1  # really jittered


# --- concurrency on Postgres ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_a_delivery_once():
    WebhookAllowedHostFactory.create(host="127.0.0.1")

    def slow(_req: Received):
        time.sleep(0.3)  # keep the first sender busy while the others try
        return 200, {}, b""

    with receiver(slow) as r:
        endpoint = WebhookEndpointFactory.create(url=r.url)
        # Created directly: outside a transaction, webhook_emit's on_commit would send it now.
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="ticket.created", next_attempt_at=timezone.now()
        )
        start = threading.Barrier(6)
        outcomes: list[object] = []

        def worker():
            start.wait()
            try:
                outcomes.append(webhook_delivery_attempt(delivery_id=delivery.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(r.requests) == 1
    assert sum(1 for o in outcomes if o is not None) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 1)


@pytest.mark.django_db
def test_purge_deletes_only_old_finished_deliveries():
    endpoint = WebhookEndpointFactory.create()
    old = timezone.now() - timedelta(days=31)
    rows = {
        status: WebhookDelivery.objects.create(endpoint=endpoint, event_type="ticket.created",
                                               status=status)
        for status in (Status.SUCCEEDED, Status.GAVE_UP, Status.FAILED, Status.PENDING)
    }  # fmt: skip
    WebhookDelivery.objects.update(updated_at=old)
    recent = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="ticket.created", status=Status.SUCCEEDED
    )
    assert webhook_purge_log() == 2
    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert left == {rows[Status.FAILED].pk, rows[Status.PENDING].pk, recent.pk}


def test_during_rotation_both_secrets_verify():
    body = b'{"id":"1"}'
    header = sign(secret="new", timestamp=1000, body=body, previous_secret="old")
    assert verify(secret="new", header=header, body=body, now=1000) == 1000
    assert verify(secret="old", header=header, body=body, now=1000) == 1000
    with pytest.raises(SignatureError):
        verify(secret="other", header=header, body=body, now=1000)


@pytest.mark.django_db
def test_an_unexpected_error_is_recorded_and_retried(monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "post_json", explode)
    WebhookEndpointFactory.create()
    [delivery] = webhook_emit(event_type="ticket.created", payload={}, shop_id=None)
    result = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert result is not None
    assert result.status == Status.FAILED
    assert result.locked_until is None
    assert "RuntimeError: boom" in result.last_error
