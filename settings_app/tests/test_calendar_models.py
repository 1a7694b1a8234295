from datetime import time

import pytest
from django.core.exceptions import ValidationError

from agents.tests.factories import SkillGroupFactory
from settings_app.business_time import ALWAYS_OPEN
from settings_app.models import (
    BusinessCalendar,
    CalendarException,
    GroupSettings,
    PublicHolidayDay,
    PublicHolidayYear,
    WorkingInterval,
)
from settings_app.selectors import calendar_spec, group_calendar_spec

pytestmark = pytest.mark.django_db


def test_group_calendar_spec_reads_hours_and_exceptions():
    cal = BusinessCalendar.objects.create(name="CN office")
    WorkingInterval.objects.create(calendar=cal, weekday=0, start=time(13, 30), end=time(18))
    WorkingInterval.objects.create(calendar=cal, weekday=0, start=time(9), end=time(12))
    CalendarException.objects.create(calendar=cal, date="2025-11-04", kind="holiday")
    group = SkillGroupFactory.create()
    GroupSettings.objects.create(group=group, calendar=cal)
    spec = group_calendar_spec(group.pk)
    assert spec.weekly[0] == ((time(9), time(12)), (time(13, 30), time(18)))
    assert spec.follow_china_holidays
    assert len(spec.extra_holidays) == 1


def test_group_without_settings_works_around_the_clock():
    assert group_calendar_spec(SkillGroupFactory.create().pk) == ALWAYS_OPEN


def test_interval_end_must_follow_start_except_midnight():
    cal = BusinessCalendar.objects.create(name="x")
    with pytest.raises(ValidationError):
        WorkingInterval(calendar=cal, weekday=0, start=time(12), end=time(9)).full_clean()
    WorkingInterval(calendar=cal, weekday=0, start=time(12), end=time(0)).full_clean()


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValidationError):
        BusinessCalendar(name="x", time_zone="Mars/Olympus").full_clean()


def test_calendar_without_hours_is_treated_as_always_open_with_a_warning(caplog):
    group = SkillGroupFactory.create()
    GroupSettings.objects.create(
        group=group, calendar=BusinessCalendar.objects.create(name="empty")
    )
    assert group_calendar_spec(group.pk) == ALWAYS_OPEN
    assert "no working hours" in caplog.text


def test_calendar_spec_carries_the_imported_list_only_when_following_china():
    year = PublicHolidayYear.objects.create(year=2027)
    PublicHolidayDay.objects.create(year=year, date="2027-02-06", kind="holiday", name="春节")
    PublicHolidayDay.objects.create(year=year, date="2027-02-20", kind="workday", name="春节")
    PublicHolidayYear.objects.create(year=2028)  # imported without a day: still imported
    cal = BusinessCalendar.objects.create(name="CN office")
    WorkingInterval.objects.create(calendar=cal, weekday=0, start=time(9), end=time(18))
    spec = calendar_spec(cal)
    assert spec.official_years == {2027, 2028}
    assert [d.isoformat() for d in spec.official_holidays] == ["2027-02-06"]
    assert [d.isoformat() for d in spec.official_workdays] == ["2027-02-20"]
    cal.follow_china_holidays = False
    cal.save()
    assert calendar_spec(cal).official_years == frozenset()


def test_public_holiday_day_must_be_in_its_year():
    year = PublicHolidayYear.objects.create(year=2027)
    with pytest.raises(ValidationError):
        PublicHolidayDay(year=year, date="2028-01-01", kind="holiday").full_clean()
