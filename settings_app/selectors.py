"""Reads of configuration: the calendar snapshot a group's clock runs on, and which years
lack an official holiday list."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date

from django.utils import timezone

from settings_app.business_time import ALWAYS_OPEN, CalendarSpec, Interval, library_knows_year
from settings_app.models import (
    BusinessCalendar,
    CalendarException,
    GroupSettings,
    PublicHolidayDay,
    PublicHolidayYear,
)

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
    official_years: set[int] = set()
    official_holidays: set[date] = set()
    official_workdays: set[date] = set()
    if calendar.follow_china_holidays:
        # One more query, and only for calendars that use the list. A left join, so a
        # year imported without any day still counts as imported.
        for year, day, kind in PublicHolidayYear.objects.values_list(
            "year", "days__date", "days__kind"
        ):
            official_years.add(year)
            if day is not None:
                holiday = kind == PublicHolidayDay.Kind.HOLIDAY
                (official_holidays if holiday else official_workdays).add(day)
    return CalendarSpec(
        time_zone=calendar.time_zone,
        weekly={k: tuple(v) for k, v in weekly.items()},
        follow_china_holidays=calendar.follow_china_holidays,
        adjusted_weekday=calendar.adjusted_day_hours_from,
        extra_holidays=frozenset(holidays),
        extra_workdays=frozenset(workdays),
        official_years=frozenset(official_years),
        official_holidays=frozenset(official_holidays),
        official_workdays=frozenset(official_workdays),
    )


def group_settings(group_id: int) -> GroupSettings | None:
    return GroupSettings.objects.select_related("calendar").filter(group_id=group_id).first()


def group_calendar_spec(group_id: int) -> CalendarSpec:
    """The clock of a skill group; a group without a calendar works around the clock."""
    settings = group_settings(group_id)
    if settings is None or settings.calendar is None:
        return ALWAYS_OPEN
    return calendar_spec(settings.calendar)


# How long before 1 January the next year's missing list starts to be shown. The State
# Council usually publishes in November; two months leave time to import it.
HOLIDAY_LOOKAHEAD_DAYS = 60


def holiday_years_missing(*, today: date | None = None) -> list[int]:
    """Years near `today` whose public holidays the SLA clock cannot know: the current year,
    and the next one from HOLIDAY_LOOKAHEAD_DAYS before it starts, when neither an imported
    list nor chinese-calendar has it. Empty when no calendar follows China's holidays."""
    today = today or timezone.localdate()
    years = [today.year]
    if (date(today.year + 1, 1, 1) - today).days <= HOLIDAY_LOOKAHEAD_DAYS:
        years.append(today.year + 1)
    years = [year for year in years if not library_knows_year(year)]
    if not years or not BusinessCalendar.objects.filter(follow_china_holidays=True).exists():
        return []
    imported = set(PublicHolidayYear.objects.filter(year__in=years).values_list("year", flat=True))
    return [year for year in years if year not in imported]


def holidays_health() -> dict[str, list[int]]:
    """The holidays part of /healthz (registered in SettingsAppConfig.ready)."""
    return {"missing_years": holiday_years_missing()}
