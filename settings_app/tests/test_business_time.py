"""The SLA clock across nights, weekends, lunch breaks, Chinese holidays and 调休 days."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from settings_app import business_time as bt
from settings_app.business_time import (
    ALWAYS_OPEN,
    CalendarSpec,
    NoWorkingTimeError,
    add_business_seconds,
    business_seconds_between,
    is_open_at,
    next_opening,
)

SH = ZoneInfo("Asia/Shanghai")
H = 3600

# Mon-Fri 09:00-12:00 and 13:30-18:00 (7.5 h a day), Shanghai, following China's holidays.
LUNCH = ((time(9), time(12)), (time(13, 30), time(18)))
CHINA = CalendarSpec(
    time_zone="Asia/Shanghai",
    weekly=dict.fromkeys(range(5), LUNCH),
    follow_china_holidays=True,
)
PLAIN = CalendarSpec(time_zone="Asia/Shanghai", weekly=dict.fromkeys(range(5), LUNCH))


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def test_inside_one_interval():
    assert add_business_seconds(CHINA, sh(2025, 11, 3, 9, 30), 1 * H) == sh(2025, 11, 3, 10, 30)


def test_lunch_break_is_skipped():
    # Monday 11:00 + 2h: one hour before lunch, one after 13:30.
    assert add_business_seconds(CHINA, sh(2025, 11, 3, 11), 2 * H) == sh(2025, 11, 3, 14, 30)


def test_start_during_lunch_counts_from_1330():
    assert add_business_seconds(CHINA, sh(2025, 11, 3, 12, 15), 30 * 60) == sh(2025, 11, 3, 14)


def test_night_is_skipped():
    # Monday 17:00 + 2h: 1h today, 1h from Tuesday 09:00.
    assert add_business_seconds(CHINA, sh(2025, 11, 3, 17), 2 * H) == sh(2025, 11, 4, 10)


def test_start_at_night_begins_next_morning():
    assert add_business_seconds(CHINA, sh(2025, 11, 3, 23, 30), 1 * H) == sh(2025, 11, 4, 10)


def test_weekend_is_skipped():
    # Friday 2025-11-07 17:00 + 2h -> Monday 2025-11-10 10:00.
    assert add_business_seconds(CHINA, sh(2025, 11, 7, 17), 2 * H) == sh(2025, 11, 10, 10)


def test_deadline_across_several_days():
    # 16 business hours from Monday 09:00 = two full days (15h) + 1h on Wednesday.
    assert add_business_seconds(CHINA, sh(2025, 11, 3, 9), 16 * H) == sh(2025, 11, 5, 10)


def test_deadline_that_ends_exactly_at_close_stays_there():
    assert add_business_seconds(CHINA, sh(2025, 11, 3, 9), 7.5 * H) == sh(2025, 11, 3, 18)


def test_national_day_2025_is_closed_and_tiaoxiu_sunday_is_open():
    # Sunday 2025-09-28 is an adjusted working day (调休): open with Monday's hours.
    assert is_open_at(CHINA, sh(2025, 9, 28, 10))
    assert not is_open_at(PLAIN, sh(2025, 9, 28, 10))
    # Tuesday 2025-09-30 17:00 + 2h: National Day 10-01..10-08 is closed, so the second
    # hour lands on Thursday 2025-10-09.
    assert add_business_seconds(CHINA, sh(2025, 9, 30, 17), 2 * H) == sh(2025, 10, 9, 10)
    for day in range(1, 9):
        assert not is_open_at(CHINA, sh(2025, 10, day, 10)), day


def test_tiaoxiu_saturday_after_national_day_is_open():
    # Saturday 2025-10-11 is a working day; Friday 10-10 17:00 + 2h -> Saturday 10:00.
    assert is_open_at(CHINA, sh(2025, 10, 11, 9, 30))
    assert add_business_seconds(CHINA, sh(2025, 10, 10, 17), 2 * H) == sh(2025, 10, 11, 10)
    assert add_business_seconds(PLAIN, sh(2025, 10, 10, 17), 2 * H) == sh(2025, 10, 13, 10)


def test_spring_festival_2026():
    # Holidays 2026-02-15..02-23; Saturday 02-14 and 02-28 are adjusted working days.
    assert is_open_at(CHINA, sh(2026, 2, 14, 10))
    assert not is_open_at(CHINA, sh(2026, 2, 16, 10))
    assert add_business_seconds(CHINA, sh(2026, 2, 14, 17), 2 * H) == sh(2026, 2, 24, 10)


def test_business_seconds_between_skips_holidays():
    # From before National Day to after it: 2025-09-30 full day + 10-09 full day.
    assert business_seconds_between(CHINA, sh(2025, 9, 30, 0), sh(2025, 10, 10, 0)) == 15 * H


def test_business_seconds_between_is_inverse_of_add():
    start = sh(2025, 9, 26, 15, 17)
    for hours in (0.5, 3, 7.5, 11, 40, 100):
        end = add_business_seconds(CHINA, start, hours * H)
        assert business_seconds_between(CHINA, start, end) == pytest.approx(hours * H)
    assert business_seconds_between(CHINA, sh(2025, 11, 3, 18), sh(2025, 11, 3, 9)) == -7.5 * H


def test_is_open_inside_and_outside_hours():
    assert is_open_at(CHINA, sh(2025, 11, 3, 9))
    assert is_open_at(CHINA, sh(2025, 11, 3, 17, 59))
    assert not is_open_at(CHINA, sh(2025, 11, 3, 18))
    assert not is_open_at(CHINA, sh(2025, 11, 3, 12, 30))
    assert not is_open_at(CHINA, sh(2025, 11, 3, 8, 59))
    assert not is_open_at(CHINA, sh(2025, 11, 8, 10))  # Saturday


def test_next_opening():
    assert next_opening(CHINA, sh(2025, 11, 3, 10)) == sh(2025, 11, 3, 10)
    assert next_opening(CHINA, sh(2025, 11, 3, 12, 5)) == sh(2025, 11, 3, 13, 30)
    assert next_opening(CHINA, sh(2025, 11, 7, 19)) == sh(2025, 11, 10, 9)
    assert next_opening(CHINA, sh(2025, 9, 30, 19)) == sh(2025, 10, 9, 9)


def test_instants_in_utc_give_the_same_answer():
    start = sh(2025, 11, 3, 17).astimezone(UTC)
    result = add_business_seconds(CHINA, start, 2 * H)
    assert result == sh(2025, 11, 4, 10)
    assert result.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_seconds(CHINA, datetime(2025, 11, 3, 10), 60)


def test_non_shanghai_calendar_with_dst():
    berlin = CalendarSpec(
        time_zone="Europe/Berlin", weekly={d: ((time(9), time(17)),) for d in range(5)}
    )
    b = ZoneInfo("Europe/Berlin")
    # Friday 2025-10-24 16:00 CEST + 2h -> Monday 2025-10-27 10:00 CET (clocks went back).
    end = add_business_seconds(berlin, datetime(2025, 10, 24, 16, tzinfo=b), 2 * H)
    assert end == datetime(2025, 10, 27, 10, tzinfo=b)
    assert end.astimezone(UTC) == datetime(2025, 10, 27, 9, tzinfo=UTC)
    # Open at 09:30 Berlin = 08:30 UTC in winter; closed at 09:30 Shanghai time that day.
    assert is_open_at(berlin, datetime(2025, 11, 3, 8, 30, tzinfo=UTC))
    assert not is_open_at(berlin, datetime(2025, 11, 3, 1, 30, tzinfo=UTC))
    # Berlin does not follow China's holidays: 2025-10-01 is a normal Wednesday.
    assert is_open_at(berlin, datetime(2025, 10, 1, 10, tzinfo=b))


def test_around_the_clock_interval_ending_at_midnight():
    allday = CalendarSpec(
        time_zone="Asia/Shanghai", weekly={d: ((time(0), time(0)),) for d in range(7)}
    )
    assert add_business_seconds(allday, sh(2025, 11, 3, 23), 2 * H) == sh(2025, 11, 4, 1)
    assert business_seconds_between(allday, sh(2025, 11, 3), sh(2025, 11, 5)) == 48 * H


def test_admin_exceptions_override_everything():
    spec = CalendarSpec(
        time_zone="Asia/Shanghai",
        weekly=dict.fromkeys(range(5), LUNCH),
        follow_china_holidays=True,
        extra_holidays=frozenset({date(2025, 11, 4)}),  # company outing on a Tuesday
        extra_workdays=frozenset({date(2025, 11, 8)}),  # stock-take Saturday
    )
    assert not is_open_at(spec, sh(2025, 11, 4, 10))
    assert is_open_at(spec, sh(2025, 11, 8, 10))
    assert add_business_seconds(spec, sh(2025, 11, 3, 17), 2 * H) == sh(2025, 11, 5, 10)


def test_unknown_year_falls_back_to_weekly_hours_with_a_warning(caplog, monkeypatch):
    monkeypatch.setattr(bt, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="settings_app.business_time"):
        # 2030-10-01 is a Tuesday; the package does not know 2030, so it is a working day.
        assert is_open_at(CHINA, sh(2030, 10, 1, 10))
        assert is_open_at(CHINA, sh(2030, 10, 2, 10))
    warnings = [r for r in caplog.records if "2030" in r.getMessage()]
    assert len(warnings) == 1  # once per year, not once per call


def test_calendar_without_hours_raises_a_clear_error():
    with pytest.raises(NoWorkingTimeError):
        add_business_seconds(CalendarSpec(), sh(2025, 11, 3), 60)


def test_always_open():
    assert add_business_seconds(ALWAYS_OPEN, sh(2025, 10, 1, 23), 2 * H) == sh(2025, 10, 2, 1)
    assert is_open_at(ALWAYS_OPEN, sh(2025, 10, 1, 3))


def test_subtract_is_the_mirror_of_add():
    from settings_app.business_time import subtract_business_seconds

    # 30 business minutes before Thursday 2025-10-09 09:15 is Tuesday 2025-09-30 17:45.
    assert subtract_business_seconds(CHINA, sh(2025, 10, 9, 9, 15), 30 * 60) == sh(
        2025, 9, 30, 17, 45
    )
    start = sh(2025, 11, 3, 10, 10)
    for hours in (0.25, 2, 9, 31):
        assert (
            subtract_business_seconds(
                CHINA, add_business_seconds(CHINA, start, hours * H), hours * H
            )
            == start
        )


def test_a_year_of_business_minutes_is_reachable():
    # The largest SLA target the admin allows (525,600 business minutes) spans ~4.5 years of
    # 7.5-hour days; only a calendar with no working time at all is an error.
    end = add_business_seconds(PLAIN, sh(2025, 11, 3, 9), 525_600 * 60)
    assert end.year == 2030
    assert business_seconds_between(PLAIN, sh(2025, 11, 3, 9), end) == 525_600 * 60


def test_random_instants_and_durations_round_trip():
    """Seeded: 300 random starts in 2025-2026 (holidays, 调休, nights) and durations."""
    import random

    from settings_app.business_time import subtract_business_seconds

    rng = random.Random(20251001)
    base = sh(2025, 1, 1)
    for _ in range(300):
        start = base + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60 - 30 * 24 * 60))
        seconds = rng.choice([60, 1800, 3600 * 3, 3600 * 7.5, 3600 * 20, 3600 * 60])
        end = add_business_seconds(CHINA, start, seconds)
        assert end > start
        assert business_seconds_between(CHINA, start, end) == pytest.approx(seconds)
        assert is_open_at(CHINA, end - timedelta(seconds=1))
        assert subtract_business_seconds(CHINA, end, seconds) == next_opening(CHINA, start)


def test_imported_list_wins_over_the_package_for_its_year():
    # Pretend the package were wrong about 2025: the imported list is what counts then.
    spec = CalendarSpec(
        time_zone="Asia/Shanghai",
        weekly=dict.fromkeys(range(5), LUNCH),
        follow_china_holidays=True,
        official_years=frozenset({2025}),
        official_holidays=frozenset({date(2025, 11, 4)}),
        official_workdays=frozenset({date(2025, 11, 8)}),
    )
    assert not is_open_at(spec, sh(2025, 11, 4, 10))  # listed holiday
    assert is_open_at(spec, sh(2025, 11, 8, 10))  # listed 调休 Saturday, Monday's hours
    assert is_open_at(spec, sh(2025, 10, 1, 10))  # National Day is not in this list
    assert not is_open_at(spec, sh(2025, 11, 9, 10))  # an ordinary Sunday


def test_imported_year_needs_no_package_data(caplog, monkeypatch):
    monkeypatch.setattr(bt, "_warned_years", set())
    spec = CalendarSpec(
        time_zone="Asia/Shanghai",
        weekly=dict.fromkeys(range(5), LUNCH),
        follow_china_holidays=True,
        official_years=frozenset({2030}),
        official_holidays=frozenset({date(2030, 10, 1)}),
    )
    with caplog.at_level(logging.WARNING, logger="settings_app.business_time"):
        assert not is_open_at(spec, sh(2030, 10, 1, 10))
        assert is_open_at(spec, sh(2030, 10, 2, 10))
    assert not caplog.records  # the list is there: nothing to warn about


def test_ordinary_saturday_stays_open_for_a_six_day_calendar_following_china():
    six_days = CalendarSpec(
        time_zone="Asia/Shanghai",
        weekly=dict.fromkeys(range(6), LUNCH),
        follow_china_holidays=True,
    )
    assert is_open_at(six_days, sh(2025, 11, 8, 10))  # an ordinary Saturday
    assert not is_open_at(six_days, sh(2025, 10, 4, 10))  # Saturday in National Day
