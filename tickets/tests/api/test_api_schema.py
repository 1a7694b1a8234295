"""The OpenAPI schema validates without warnings, and schemathesis, driving the API from
that schema, finds no server error (5xx) on any ticket endpoint."""

from __future__ import annotations

import time

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.django_db

# Bounded for `make test`: a few examples per operation and a wall-clock cap for the lot.
# The cap is a guard against a runaway, not a speed test: about 15 s on a quiet 2-core
# machine, and 40 s ran out under a load average of 9 (other suites and benchmarks).
EXAMPLES_PER_OPERATION = 10
TIME_BUDGET_SECONDS = 150


def test_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    text = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/tickets/", "/api/v1/tickets/{id}/forward/", "Idempotency-Key"):
        assert path in text


def test_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/tickets/{id}/close/" in response.content


@pytest.fixture
def wsgi_app():
    """Django's WSGI app on the test's database connection: like django.test.Client, keep
    the request signals from closing the connection (and its test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_schemathesis_finds_no_server_error(people, make_ticket, other_desk, wsgi_app):
    """Every ticket operation, fed generated valid and invalid input as an admin and as a
    merchant, some of it aimed at real tickets: no 5xx."""
    tokens = [Token.objects.create(user=people[who]).key for who in ("admin", "merchant_a")]
    real_ids = [make_ticket().pk for _ in range(3)]
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())  # type: ignore[union-attr]
        if operation.path.startswith("/api/v1/")
    ]
    assert len(operations) >= 15
    auth = st.sampled_from([{"Authorization": f"Token {key}"} for key in tokens])
    started = time.monotonic()
    tried: list[str] = []
    for operation in operations:
        if time.monotonic() - started > TIME_BUDGET_SECONDS:
            break

        @given(
            case=st.one_of(
                operation.as_strategy(GenerationMode.POSITIVE),
                operation.as_strategy(GenerationMode.NEGATIVE),
            ),
            real=st.sampled_from([None, *real_ids]),
            headers=auth,
        )
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case, real, headers):
            if real is not None and "id" in (case.path_parameters or {}):
                case.path_parameters["id"] = real
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        run()
        tried.append(operation.label)
    assert len(tried) == len(operations), f"time budget ran out after {tried}"
