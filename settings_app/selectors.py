"""Reads of configuration: the calendar snapshot a group's clock runs on."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date

from settings_app.business_time import ALWAYS_OPEN, CalendarSpec, Interval
from settings_app.models import BusinessCalendar, CalendarException, GroupSettings

logger = logging.getLogger(__name__)


def calendar_spec(calendar: BusinessCalendar) -> CalendarSpec:
    """A frozen snapshot of a calendar (two queries)."""
    weekly: dict[int, list[Interval]] = defaultdict(list)
    for weekday, start, end in calendar.intervals.order_by("start").values_list(
        "weekday", "start", "end"
    ):
        weekly[weekday].append((start, end))
    if not weekly:
        # A calendar saved before its hours were entered must not stop tickets being filed.
        logger.warning(
            "business calendar %r has no working hours: treated as always open", calendar.name
        )
        return ALWAYS_OPEN
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in calendar.exceptions.values_list("date", "kind"):
        (holidays if kind == CalendarException.Kind.HOLIDAY else workdays).add(day)
    return CalendarSpec(
        time_zone=calendar.time_zone,
        weekly={k: tuple(v) for k, v in weekly.items()},
        follow_china_holidays=calendar.follow_china_holidays,
        adjusted_weekday=calendar.adjusted_day_hours_from,
        extra_holidays=frozenset(holidays),
        extra_workdays=frozenset(workdays),
    )


def group_settings(group_id: int) -> GroupSettings | None:
    return GroupSettings.objects.select_related("calendar").filter(group_id=group_id).first()


def group_calendar_spec(group_id: int) -> CalendarSpec:
    """The clock of a skill group; a group without a calendar works around the clock."""
    settings = group_settings(group_id)
    if settings is None or settings.calendar is None:
        return ALWAYS_OPEN
    return calendar_spec(settings.calendar)
