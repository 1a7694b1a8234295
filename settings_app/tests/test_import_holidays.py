"""`manage.py import_holidays`: the file format, validation naming the line, all or nothing."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from settings_app.models import PublicHolidayDay, PublicHolidayYear

pytestmark = pytest.mark.django_db

GOOD = """\
# A comment, then the optional header.
date,kind,name

2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-13,workday,春节
"""


def write(tmp_path: Path, text: str, name: str = "holidays.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, *args: str) -> None:
    call_command("import_holidays", str(path), *args, stdout=io.StringIO())


def test_imports_a_year_with_its_kinds_and_names(tmp_path):
    out = io.StringIO()
    call_command("import_holidays", str(write(tmp_path, GOOD)), "--year", "2027", stdout=out)
    assert "2027: 2 holidays and 1 adjusted working days imported" in out.getvalue()
    year = PublicHolidayYear.objects.get()
    assert (year.year, year.source) == (2027, "holidays.csv")
    assert list(year.days.values_list("date", "kind", "name")) == [
        (date(2027, 2, 5), "holiday", "春节"),
        (date(2027, 2, 6), "holiday", "春节"),
        (date(2027, 2, 13), "workday", "春节"),
    ]


def test_a_file_may_hold_several_years_when_no_year_is_declared(tmp_path):
    run(write(tmp_path, "2027-01-01,holiday,元旦\n2028-01-01,holiday,元旦\n"))
    assert list(PublicHolidayYear.objects.order_by("year").values_list("year", flat=True)) == [
        2027,
        2028,
    ]


def test_byte_order_mark_and_missing_name_are_accepted(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffdate,kind,name\n2027-01-01,holiday\n".encode())
    run(path)
    assert PublicHolidayDay.objects.get().name == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2027-02-30,holiday,春节", "Line 5: “2027-02-30” is not a date (use YYYY-MM-DD)."),
        ("20270207,holiday,春节", "Line 5: “20270207” is not a date (use YYYY-MM-DD)."),
        ("2026-12-31,holiday,元旦", "Line 5: 2026-12-31 is not in 2027."),
        ("2027-02-05,holiday,春节", "Line 5: 2027-02-05 is already listed on line 4."),
        ("2027-02-07,vacation,春节", "Line 5: unknown kind “vacation” (use holiday or workday)."),
        ("2027-02-07,holiday,春节,extra", "Line 5: expected date,kind,name (found 4 fields)."),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_written(tmp_path, line, message):
    text = GOOD.replace("2027-02-06,holiday,春节", line)
    with pytest.raises(CommandError) as error:
        run(write(tmp_path, text), "--year", "2027")
    assert message in str(error.value)
    assert "nothing imported" in str(error.value)
    assert not PublicHolidayYear.objects.exists()
    assert not PublicHolidayDay.objects.exists()


def test_every_bad_line_is_reported_at_once(tmp_path):
    text = "2027-13-01,holiday,x\n2027-01-01,holiday,x\n2027-01-01,nope,x\n"
    with pytest.raises(CommandError) as error:
        run(write(tmp_path, text), "--year", "2027")
    assert "Line 1:" in str(error.value) and "Line 3:" in str(error.value)


def test_an_error_in_one_year_writes_no_other_year(tmp_path):
    text = "2027-01-01,holiday,元旦\n2028-01-01,holiday,元旦\n2028-01-01,holiday,元旦\n"
    with pytest.raises(CommandError, match="Line 3: 2028-01-01 is already listed on line 2"):
        run(write(tmp_path, text))
    assert not PublicHolidayYear.objects.exists()


def test_an_imported_year_needs_replace_and_replace_swaps_the_list(tmp_path):
    run(write(tmp_path, GOOD), "--year", "2027")
    with pytest.raises(CommandError, match="2027 already has an imported list"):
        run(write(tmp_path, "2027-10-01,holiday,国庆节\n"), "--year", "2027")
    assert PublicHolidayDay.objects.count() == 3
    run(write(tmp_path, "2027-10-01,holiday,国庆节\n"), "--year", "2027", "--replace")
    assert list(PublicHolidayDay.objects.values_list("date", flat=True)) == [date(2027, 10, 1)]


def test_not_utf8_and_missing_file_are_clear_errors(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("2027-01-01,holiday,元旦\n".encode("gbk"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run(path)
    with pytest.raises(CommandError, match=r"nope\.csv"):
        run(tmp_path / "nope.csv")
    assert not PublicHolidayYear.objects.exists()


def test_an_empty_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no days"):
        run(write(tmp_path, "# nothing yet\ndate,kind,name\n"), "--year", "2027")


def test_the_shipped_2027_file_imports(tmp_path):
    run(Path(settings.BASE_DIR) / "settings_app" / "holidays" / "cn-2027.csv", "--year", "2027")
    days = PublicHolidayDay.objects.filter(year__year=2027)
    assert days.filter(date=date(2027, 2, 6), kind="holiday").exists()  # 春节, by the law
    assert days.count() >= 13  # at least the statutory days


def test_a_year_imported_meanwhile_is_not_overwritten_without_replace(tmp_path, monkeypatch):
    # Two uploads of one year at once: the second passes the check before the first
    # commits; inside the transaction it must still refuse rather than replace.
    from django.core.exceptions import ValidationError

    from settings_app import services
    from settings_app.holiday_files import HolidayRow

    run(write(tmp_path, GOOD), "--year", "2027")
    monkeypatch.setattr(services, "_problems", lambda **kwargs: [])
    row = HolidayRow(line=1, date=date(2027, 10, 1), kind="holiday")
    with pytest.raises(ValidationError, match="2027 already has an imported list"):
        services.holidays_import(year=2027, rows=[row], replace=False)
    assert PublicHolidayDay.objects.count() == 3
