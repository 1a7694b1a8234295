"""SLA deadlines in a year chinese-calendar does not know, from an imported holiday list.

The 2027 arrangement here is illustrative (a 7-day Spring Festival break with two 调休
working days); the tests hold for whatever list is imported.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from settings_app.business_time import library_knows_year
from settings_app.services import holidays_import_file
from tickets.services.lifecycle import ticket_create
from tickets.tests.conftest import office_calendar
from tickets.tests.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
GOOD = {"order_no": "BT20270101001"}

SPRING_FESTIVAL_2027 = """\
date,kind,name
2027-01-31,workday,春节
2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-13,workday,春节
"""


def sh(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SH)


@pytest.fixture
def policy(ticket_type):
    # 2 business hours to first response, 16 to resolution, remind 30 minutes before.
    return SlaPolicyFactory.create(
        ticket_type=ticket_type, priority="high", first_response_minutes=120, resolution_minutes=960
    )


def make(ticket_type):
    return ticket_create(
        ticket_type=ticket_type, title="x", submitter=None, answers=GOOD, priority="high"
    )


def test_spring_festival_2027_is_skipped_and_tiaoxiu_saturday_counts(
    ticket_type, group, policy, clock
):
    holidays_import_file(text=SPRING_FESTIVAL_2027, year=2027, replace=False)
    office_calendar(group)  # Mon-Fri 09:00-12:00, 13:30-18:00, following China's holidays
    clock.set(2027, 2, 4, 17, 0)  # Thursday, the evening before the break
    t = make(ticket_type)
    # 1h on Thursday, then the break 02-05..02-11 is closed: the second hour is Friday 02-12.
    assert t.first_response_due == sh(2027, 2, 12, 10)
    # 16h = 1h Thursday + 7.5h Friday 02-12 + 7.5h on Saturday 02-13, a 调休 working day
    # (with Monday's hours).
    assert t.resolution_due == sh(2027, 2, 13, 18)


def test_tiaoxiu_sunday_before_the_break_opens_the_clock(ticket_type, group, policy, clock):
    holidays_import_file(text=SPRING_FESTIVAL_2027, year=2027, replace=False)
    office_calendar(group)
    clock.set(2027, 1, 30, 10, 0)  # Saturday: closed; Sunday 01-31 is a working day
    t = make(ticket_type)
    assert t.first_response_due == sh(2027, 1, 31, 11)


@pytest.mark.skipif(library_knows_year(2027), reason="this chinese-calendar knows 2027")
def test_without_a_list_2027_runs_on_weekly_hours(ticket_type, group, policy, clock):
    # The gap this list closes: chinese-calendar has no 2027, so the break is worked.
    office_calendar(group)
    clock.set(2027, 2, 4, 17, 0)
    assert make(ticket_type).first_response_due == sh(2027, 2, 5, 10)
