"""Writes of configuration: the official holiday list (国务院节假日安排), imported per year."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from settings_app.holiday_files import HolidayRow, parse_holiday_file
from settings_app.models import PublicHolidayDay, PublicHolidayYear

_ALREADY_IMPORTED = gettext_lazy(
    "%(year)s already has an imported list; choose “replace” to import it again."
)


def _problems(*, year: int, rows: Sequence[HolidayRow], replace: bool) -> list[str]:
    problems: list[str] = []
    if not 2000 <= year <= 2100:
        return [_("%(year)s is not a year between 2000 and 2100.") % {"year": year}]
    if not rows:
        problems.append(_("The list for %(year)s has no days.") % {"year": year})
    seen: dict[object, int] = {}
    for row in rows:
        if row.kind not in PublicHolidayDay.Kind.values:
            problems.append(
                _("Line %(line)s: unknown kind “%(kind)s” (use holiday or workday).")
                % {"line": row.line, "kind": row.kind}
            )
        if row.date.year != year:
            problems.append(
                _("Line %(line)s: %(date)s is not in %(year)s.")
                % {"line": row.line, "date": row.date.isoformat(), "year": year}
            )
        if row.date in seen:
            problems.append(
                _("Line %(line)s: %(date)s is already listed on line %(first)s.")
                % {"line": row.line, "date": row.date.isoformat(), "first": seen[row.date]}
            )
        else:
            seen[row.date] = row.line
    if not replace and PublicHolidayYear.objects.filter(year=year).exists():
        problems.append(_ALREADY_IMPORTED % {"year": year})
    return problems


def holidays_import(
    *, year: int, rows: Sequence[HolidayRow], replace: bool, source: str = ""
) -> PublicHolidayYear:
    """Store the official list of one year; with `replace`, instead of the one stored.

    All or nothing: any problem (a date outside the year, a duplicate, an unknown kind, a
    year already imported without `replace`) raises ValidationError naming the lines, and
    nothing is written.
    """
    problems = _problems(year=year, rows=rows, replace=replace)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        stored, created = PublicHolidayYear.objects.select_for_update().get_or_create(
            year=year, defaults={"source": source[:200]}
        )
        if not created and not replace:
            # Another import of this year committed since the check above.
            raise ValidationError(_ALREADY_IMPORTED % {"year": year})
        if not created:
            stored.days.all().delete()
            stored.source = source[:200]
            stored.imported_at = timezone.now()
            stored.save(update_fields=["source", "imported_at"])
        PublicHolidayDay.objects.bulk_create(
            PublicHolidayDay(year=stored, date=row.date, kind=row.kind, name=row.name)
            for row in rows
        )
    return stored


def holidays_import_file(
    *, text: str, year: int | None, replace: bool, source: str = ""
) -> list[PublicHolidayYear]:
    """Import a holiday file (settings_app.holiday_files): every year it holds, or with
    `year` the one year it declares. All or nothing across years; every problem found in
    the file is reported in one ValidationError."""
    rows, problems = parse_holiday_file(text)
    by_year: dict[int, list[HolidayRow]] = defaultdict(list)
    for row in rows:
        by_year[year if year is not None else row.date.year].append(row)
    if year is not None:
        by_year.setdefault(year, [])
    if not by_year and not problems:
        raise ValidationError(_("The file lists no days."))
    problems += [
        problem
        for each_year, each_rows in sorted(by_year.items())
        for problem in _problems(year=each_year, rows=each_rows, replace=replace)
    ]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        return [
            holidays_import(year=each_year, rows=each_rows, replace=replace, source=source)
            for each_year, each_rows in sorted(by_year.items())
        ]
