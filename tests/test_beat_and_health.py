"""The demo's in-process scheduler fires the same tasks Celery beat would."""

import logging
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.beat import InProcessBeat
from core.tasks import HEARTBEAT_CACHE_KEY


def test_beat_reads_the_celery_schedule(settings):
    beat = InProcessBeat()
    assert set(beat.entries) == set(settings.CELERY_BEAT_SCHEDULE)


def test_due_jobs_run_once_then_wait_for_their_interval(db):
    cache.delete(HEARTBEAT_CACHE_KEY)
    beat = InProcessBeat(
        {"pulse": {"task": "core.tasks.scheduler_heartbeat", "schedule": timedelta(seconds=30)}}
    )
    wait = beat.tick()
    first = cache.get(HEARTBEAT_CACHE_KEY)
    assert first is not None
    assert 25 <= wait <= 30
    cache.delete(HEARTBEAT_CACHE_KEY)
    beat.tick()  # not due again yet
    assert cache.get(HEARTBEAT_CACHE_KEY) is None
    last = beat.last_run["pulse"]
    assert last is not None
    beat.last_run["pulse"] = last - timedelta(seconds=31)
    beat.tick()
    assert cache.get(HEARTBEAT_CACHE_KEY) is not None


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_failing_job_does_not_stop_the_scheduler(db):
    beat = InProcessBeat(
        {
            "broken": {"task": "core.tasks.scheduler_heartbeat", "schedule": 5.0, "args": [1]},
            "pulse": {"task": "core.tasks.scheduler_heartbeat", "schedule": 5.0},
        }
    )
    cache.delete(HEARTBEAT_CACHE_KEY)
    collect = _Collect()
    logging.getLogger("core.beat").addHandler(collect)
    try:
        beat.tick()
    finally:
        logging.getLogger("core.beat").removeHandler(collect)
    assert cache.get(HEARTBEAT_CACHE_KEY) is not None
    assert collect.messages == ["periodic task core.tasks.scheduler_heartbeat failed"]


@pytest.mark.django_db
def test_healthz_reports_database_cache_and_last_beat(client):
    cache.set(HEARTBEAT_CACHE_KEY, "2026-01-01T00:00:00+00:00")
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "cache": "ok",
        "scheduler_last_beat": "2026-01-01T00:00:00+00:00",
        # No calendar follows China's holidays here, so no year is missing a list.
        "holidays": {"missing_years": []},
    }
