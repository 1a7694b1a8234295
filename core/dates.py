"""The range of calendar dates Kefu accepts from users.

Python's dates run from year 1 to 9999, but a date at either end cannot be turned into an
instant in every time zone (9999-12-31 plus a day, or 0001-01-01 at +08:00 in UTC, is out of
range), so a filter on such a date ended in a 500. Every date a user types is checked
against this range first, with a clear error; no real ticket or order is dated outside it.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(9000, 12, 31)


def validate_date_in_range(value: date | datetime) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(
            _("Enter a date between %(min)s and %(max)s."),
            code="date_out_of_range",
            params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
        )
