"""Idempotent create: a retried POST with the same Idempotency-Key returns the first
answer and creates nothing; a different body under the same key is refused (422)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tickets.models import ApiIdempotencyKey, Ticket
from tickets.tests.api.support import API, GOOD, api_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def body(ticket_type, desk):
    return {"ticket_type": ticket_type.pk, "title": "Parcel lost", "answers": GOOD}


def test_same_key_same_body_replays_the_first_answer(people, body):
    client = api_for(people["agent"])
    first = client.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="order-42-lost")
    again = client.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="order-42-lost")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1


def test_same_key_other_body_is_422(people, body):
    client = api_for(people["agent"])
    client.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    other = client.post(API, {**body, "title": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 422
    assert "different request body" in other.json()["detail"]
    assert Ticket.objects.count() == 1


def test_keys_are_per_user(people, body):
    api_for(people["agent"]).post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    api_for(people["supervisor"]).post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert Ticket.objects.count() == 2


def test_a_refused_create_does_not_burn_the_key(people, body):
    client = api_for(people["agent"])
    bad = client.post(API, {**body, "answers": {}}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert bad.status_code == 400
    assert not ApiIdempotencyKey.objects.exists()
    fixed = client.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert fixed.status_code == 201


def test_an_expired_key_creates_again(people, body):
    client = api_for(people["agent"])
    client.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    ApiIdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    assert Ticket.objects.count() == 2


def test_a_malformed_key_is_400(people, body):
    response = api_for(people["agent"]).post(
        API, body, format="json", HTTP_IDEMPOTENCY_KEY="has spaces"
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert not Ticket.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_twins_create_one_ticket(people, body):
    """Two identical requests at the same moment: one ticket, both get its answer."""
    results: list[tuple[int, dict]] = []
    barrier = threading.Barrier(4)
    api_for(people["agent"])  # the token exists before the threads read it

    def send() -> None:
        try:
            client = api_for(people["agent"])
            barrier.wait()
            response = client.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert Ticket.objects.count() == 1
    assert [code for code, _ in results] == [201] * 4
    assert len({data["id"] for _, data in results}) == 1


def test_purge_deletes_only_expired_keys(people, body):
    from tickets.tasks import purge_idempotency_keys

    client = api_for(people["agent"])
    client.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    client.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="new")
    ApiIdempotencyKey.objects.filter(key="old").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert purge_idempotency_keys() == 1
    assert list(ApiIdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_admin_lists_keys_read_only(people, body, client_for):
    api_for(people["agent"]).post(API, body, format="json", HTTP_IDEMPOTENCY_KEY="k-admin")
    response = client_for("admin").get("/admin/tickets/apiidempotencykey/")
    assert response.status_code == 200
    assert b"k-admin" in response.content
