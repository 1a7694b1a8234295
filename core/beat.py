"""An in-process stand-in for Celery beat, for the embedded demo.

It reads the same CELERY_BEAT_SCHEDULE that `celery beat` reads in the full stack and
fires the same tasks through ``apply_async`` (eager in the demo, so they run right here),
so periodic jobs behave the same with or without Redis and a worker.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, cast

from celery import current_app as celery_app
from celery.schedules import BaseSchedule, maybe_schedule
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


class InProcessBeat(threading.Thread):
    def __init__(self, schedule: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__(name="kefu-inprocess-beat", daemon=True)
        celery_app.loader.import_default_modules()
        source = schedule if schedule is not None else celery_app.conf.beat_schedule
        self.entries: dict[str, tuple[str, BaseSchedule, tuple, dict]] = {}
        for name, entry in source.items():
            sched = cast(BaseSchedule, maybe_schedule(entry["schedule"], app=celery_app))
            self.entries[name] = (
                entry["task"],
                sched,
                tuple(entry.get("args", ())),
                dict(entry.get("kwargs", {})),
            )
        now = timezone.now()
        # Like beat's first start: every job is due once right away, then on its schedule.
        self.last_run: dict[str, datetime | None] = dict.fromkeys(self.entries, None)
        self.started_at = now
        self._halt = threading.Event()

    def tick(self) -> float:
        """Run what is due; return seconds until the next check."""
        next_check = 60.0
        for name, (task_name, sched, args, kwargs) in self.entries.items():
            last = self.last_run[name]
            due, wait = (True, 0.0) if last is None else sched.is_due(last)
            if due:
                ran_at = self.last_run[name] = timezone.now()
                try:
                    celery_app.tasks[task_name].apply_async(args=args, kwargs=kwargs)
                except Exception:
                    logger.exception("periodic task %s failed", task_name)
                finally:
                    close_old_connections()
                due, wait = sched.is_due(ran_at)  # when the next check is due
            next_check = min(next_check, max(float(wait), 0.5))
        return next_check

    def run(self) -> None:
        logger.info("in-process scheduler started with %d job(s)", len(self.entries))
        while not self._halt.is_set():
            self._halt.wait(self.tick())

    def stop(self) -> None:
        self._halt.set()
