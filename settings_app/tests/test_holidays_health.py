"""/healthz reports years without a holiday list, as a warning: the status stays 200."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core import health
from settings_app import selectors
from settings_app.models import BusinessCalendar, PublicHolidayYear

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def december_2026(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 1, 4, tzinfo=UTC))
    monkeypatch.setattr(selectors, "library_knows_year", lambda year: year <= 2026)


def test_healthz_names_the_missing_year_and_stays_200(client):
    BusinessCalendar.objects.create(name="CN office", follow_china_holidays=True)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["holidays"] == {"missing_years": [2027]}
    PublicHolidayYear.objects.create(year=2027)
    assert client.get(reverse("healthz")).json()["holidays"] == {"missing_years": []}


def test_a_failing_check_is_reported_not_fatal(client, monkeypatch):
    def broken() -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(health, "_checks", {**health._checks, "broken": broken})
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["broken"] == "unavailable"
