"""Fixtures shared by every app's tests: shops, one user per role, signed-in clients."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from agents.models import Shop, User
from agents.roles import Role
from agents.tests.factories import ShopFactory, UserFactory

# s3_endpoint, s3_storage, s3_client: a local S3 server (moto) for the storage tests.
pytest_plugins = ["tests.s3"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… (.ci/run sets it)")
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://… (.ci/run sets it)")


@pytest.fixture
def shop_a(db) -> Shop:
    return ShopFactory.create(name="Shop A", code="shop-a")


@pytest.fixture
def shop_b(db) -> Shop:
    return ShopFactory.create(name="Shop B", code="shop-b")


@pytest.fixture
def people(db, shop_a: Shop, shop_b: Shop) -> dict[str, User]:
    """One user per role, plus merchant agents of two different shops."""
    return {
        "admin": UserFactory.create(username="admin_u", role=Role.ADMIN),
        "supervisor": UserFactory.create(username="super_u", role=Role.SUPERVISOR),
        "agent": UserFactory.create(username="agent_u", role=Role.AGENT),
        "merchant_a": UserFactory.create(
            username="merch_a", role=Role.MERCHANT_AGENT, shops=[shop_a]
        ),
        "merchant_b": UserFactory.create(
            username="merch_b", role=Role.MERCHANT_AGENT, shops=[shop_b]
        ),
        "business": UserFactory.create(username="biz_u", role=Role.BUSINESS_STAFF),
    }


@pytest.fixture
def client_for(people: dict[str, User]):
    """client_for("merchant_a") -> a Client signed in as that person."""

    def make(who: str) -> Client:
        client = Client()
        if who != "anonymous":
            client.force_login(people[who])
        return client

    return make


@pytest.fixture
def rate_limits(settings):
    """Counters of this test's own (a fresh key prefix), so counts of other tests in this
    process, or of other workers in Redis, do not leak in; set the rates to test on the
    returned settings."""
    settings.KEFU_RATE_KEY_PREFIX = f"test-{uuid.uuid4().hex[:12]}"
    return settings


@pytest.fixture
def redis_rate_limits(rate_limits):
    """The same, counted in the real Redis (REDIS_URL) as in production."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://…")
    rate_limits.KEFU_RATE_STORAGE_URL = settings.REDIS_URL
    return rate_limits
