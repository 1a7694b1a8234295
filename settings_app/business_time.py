"""The business-time engine: the SLA clock.

Pure functions over a `CalendarSpec` (a frozen snapshot of a BusinessCalendar), so the
clock can be tested without a database and computed many times per request cheaply.

Instants are timezone-aware datetimes (stored in UTC); working hours are read in the
calendar's own time zone, day by day, and every interval is turned back into an aware
instant with zoneinfo, so a DST change (none in Asia/Shanghai, but Europe/Berlin has two)
shortens or lengthens that day's interval instead of breaking the arithmetic.

Which days are open, in order of precedence:
1. an admin's CalendarException for that date (holiday = closed, workday = open);
2. with `follow_china_holidays`, the official list: an official holiday is closed, an
   adjusted working day (调休, e.g. Sunday 2025-09-28) is open, and a weekend workday works
   the hours of `adjusted_weekday`. The list is the one imported for that year
   (PublicHolidayYear, `manage.py import_holidays`) when there is one, else the
   chinese-calendar package's;
3. the weekly hours (every other day, weekends included: a shop open on Saturdays stays
   open on ordinary Saturdays).
chinese-calendar only ships the years the State Council had published when it was
released. For a year with neither an imported list nor package data, the weekly hours
apply and a warning is logged once per year and process; the admin banner and /healthz
show the gap too (`settings_app.selectors.holiday_years_missing`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

logger = logging.getLogger(__name__)

# How many consecutive days without working time make the clock decide a calendar has none.
MAX_SEARCH_DAYS = 800

Interval = tuple[time, time]


class NoWorkingTimeError(ValueError):
    """The calendar has no working time within MAX_SEARCH_DAYS (misconfigured)."""


@dataclass(frozen=True)
class CalendarSpec:
    """Everything the clock needs to know about one calendar."""

    time_zone: str = "Asia/Shanghai"
    weekly: Mapping[int, tuple[Interval, ...]] = field(default_factory=dict)
    follow_china_holidays: bool = False
    adjusted_weekday: int = 0
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    always_open: bool = False
    # The imported official list: for a year in `official_years` it replaces
    # chinese-calendar; a date of such a year in neither set is an ordinary day.
    official_years: frozenset[int] = frozenset()
    official_holidays: frozenset[date] = frozenset()
    official_workdays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


ALWAYS_OPEN = CalendarSpec(time_zone="UTC", always_open=True)

_warned_years: set[int] = set()


def library_knows_year(year: int) -> bool:
    """Whether the installed chinese-calendar has the State Council's list for `year`."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _china_day(day: date) -> bool | None:
    """chinese-calendar's word: False an official day off, True an adjusted working day
    (调休), None an ordinary day or a year the package does not know."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "no public holiday list for %s (chinese-calendar has no data and none was "
                "imported): using weekly hours only for that year; import the State "
                "Council's list with `manage.py import_holidays` or in Django admin",
                day.year,
            )
        return None
    if name is None:
        # An ordinary weekday or weekend (the package calls every weekend a holiday):
        # the calendar's weekly hours decide, as they do for an imported year.
        return None
    return not is_holiday


def _official_day(spec: CalendarSpec, day: date) -> bool | None:
    """False an official day off, True an adjusted working day, None an ordinary day."""
    if day.year in spec.official_years:
        if day in spec.official_holidays:
            return False
        if day in spec.official_workdays:
            return True
        return None
    return _china_day(day)


def hours_on(spec: CalendarSpec, day: date) -> tuple[Interval, ...]:
    """The working intervals (local times) of one local date."""
    weekly = spec.weekly.get(day.weekday(), ())
    if day in spec.extra_holidays:
        return ()
    if day in spec.extra_workdays:
        return weekly or spec.weekly.get(spec.adjusted_weekday, ())
    if spec.follow_china_holidays:
        official = _official_day(spec, day)
        if official is False:
            return ()
        if official is True:
            return weekly or spec.weekly.get(spec.adjusted_weekday, ())
    return weekly


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A wall time that does not exist (spring forward) maps to the instant after the gap;
    # the round trip through UTC normalises it.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _day_intervals(spec: CalendarSpec, day: date) -> list[tuple[datetime, datetime]]:
    zone = spec.zone
    result = []
    for start, end in hours_on(spec, day):
        begin = _instant(day, start, zone)
        if end == time(0, 0):
            finish = _instant(day + timedelta(days=1), time(0, 0), zone)
        else:
            finish = _instant(day, end, zone)
        if finish > begin:
            result.append((begin, finish))
    return result


def _intervals_from(spec: CalendarSpec, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals that end after `moment`, in order, clipped to start at it."""
    day = moment.astimezone(spec.zone).date() - timedelta(days=1)
    idle = 0  # consecutive days without working time: a long deadline is fine, none is not
    while idle < MAX_SEARCH_DAYS:
        idle += 1
        for begin, finish in _day_intervals(spec, day):
            if finish > moment:
                idle = 0
                yield max(begin, moment), finish
        day += timedelta(days=1)
    raise NoWorkingTimeError(f"no working time within {MAX_SEARCH_DAYS} days after {day}")


def _check_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("business time needs timezone-aware datetimes")


def is_open_at(spec: CalendarSpec, moment: datetime) -> bool:
    _check_aware(moment)
    if spec.always_open:
        return True
    local_day = moment.astimezone(spec.zone).date()
    for day in (local_day - timedelta(days=1), local_day):
        for begin, finish in _day_intervals(spec, day):
            if begin <= moment < finish:
                return True
    return False


def next_opening(spec: CalendarSpec, moment: datetime) -> datetime:
    """`moment` itself when open, else the start of the next working interval."""
    _check_aware(moment)
    if spec.always_open:
        return moment
    begin, _finish = next(_intervals_from(spec, moment))
    return begin


def add_business_seconds(spec: CalendarSpec, start: datetime, seconds: float) -> datetime:
    """The instant at which `seconds` of working time have passed after `start`."""
    _check_aware(start)
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    if spec.always_open:
        return start + timedelta(seconds=seconds)
    remaining = timedelta(seconds=seconds)
    if not remaining:
        return start
    for begin, finish in _intervals_from(spec, start):
        available = finish - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable: _intervals_from raises when it runs out")


def business_seconds_between(spec: CalendarSpec, start: datetime, end: datetime) -> float:
    """Working seconds in [start, end); negative when end is before start."""
    _check_aware(start, end)
    if end < start:
        return -business_seconds_between(spec, end, start)
    if spec.always_open:
        return (end - start).total_seconds()
    total = timedelta()
    zone = spec.zone
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        for begin, finish in _day_intervals(spec, day):
            lo, hi = max(begin, start), min(finish, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds()


def _intervals_before(spec: CalendarSpec, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals that start before `moment`, latest first, clipped to end at it."""
    day = moment.astimezone(spec.zone).date() + timedelta(days=1)
    idle = 0
    while idle < MAX_SEARCH_DAYS:
        idle += 1
        for begin, finish in reversed(_day_intervals(spec, day)):
            if begin < moment:
                idle = 0
                yield begin, min(finish, moment)
        day -= timedelta(days=1)
    raise NoWorkingTimeError(f"no working time within {MAX_SEARCH_DAYS} days before {day}")


def subtract_business_seconds(spec: CalendarSpec, end: datetime, seconds: float) -> datetime:
    """The instant `seconds` of working time before `end` (e.g. when to remind)."""
    _check_aware(end)
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    if spec.always_open:
        return end - timedelta(seconds=seconds)
    remaining = timedelta(seconds=seconds)
    if not remaining:
        return end
    for begin, finish in _intervals_before(spec, end):
        available = finish - begin
        if remaining <= available:
            return finish - remaining
        remaining -= available
    raise AssertionError("unreachable: _intervals_before raises when it runs out")
