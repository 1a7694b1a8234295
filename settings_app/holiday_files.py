"""The holiday file: the State Council's arrangement as plain CSV, read the same way by
`manage.py import_holidays` and the admin upload.

The format (UTF-8, a byte-order mark is accepted; one year per file or several):

    # Lines starting with # are comments; blank lines are skipped.
    date,kind,name
    2027-01-01,holiday,元旦
    2027-02-20,workday,春节

- `date`: YYYY-MM-DD. Each date at most once.
- `kind`: `holiday` (放假: closed) or `workday` (调休上班: a weekend day worked).
- `name`: optional, the festival (春节, 国庆节…), at most 40 characters.
- The header line `date,kind,name` is optional.
A year that is imported is complete: a date of that year not listed is an ordinary day.

This module only reads the text; what the rows mean (the year, duplicates, kinds) is
checked by `settings_app.services.holidays_import`, the one path that writes them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

HEADER = ["date", "kind", "name"]
NAME_MAX_LENGTH = 40
# An official list is a few dozen lines; anything far bigger is the wrong file.
MAX_FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class HolidayRow:
    """One line of a holiday file; `line` is its number, for error messages."""

    line: int
    date: date
    kind: str
    name: str = ""


def decode_holiday_file(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(
            _("The file is too large for a holiday list (at most %(size)s KB).")
            % {"size": MAX_FILE_BYTES // 1024}
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("The file is not UTF-8 text.")) from None


def parse_holiday_file(text: str) -> tuple[list[HolidayRow], list[str]]:
    """The rows of a holiday file that can be read, and a message for each line that
    cannot (so that every problem of a file is reported at once)."""
    rows: list[HolidayRow] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [field.strip() for field in next(csv.reader([line]))]
        if [field.lower() for field in fields] == HEADER:
            continue
        if len(fields) == 2:
            fields.append("")
        if len(fields) != 3:
            errors.append(
                _("Line %(line)s: expected date,kind,name (found %(count)s fields).")
                % {"line": number, "count": len(fields)}
            )
            continue
        raw_date, kind, name = fields
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            errors.append(
                _("Line %(line)s: “%(value)s” is not a date (use YYYY-MM-DD).")
                % {"line": number, "value": raw_date}
            )
            continue
        if len(raw_date) != 10:
            # fromisoformat also takes 20270101; the format says YYYY-MM-DD.
            errors.append(
                _("Line %(line)s: “%(value)s” is not a date (use YYYY-MM-DD).")
                % {"line": number, "value": raw_date}
            )
            continue
        if len(name) > NAME_MAX_LENGTH:
            errors.append(
                _("Line %(line)s: the name is longer than %(max)s characters.")
                % {"line": number, "max": NAME_MAX_LENGTH}
            )
            continue
        rows.append(HolidayRow(line=number, date=day, kind=kind.lower(), name=name))
    return rows, errors
