"""`manage.py import_holidays FILE [--year Y] [--replace]`: store the State Council's
holiday list from a file (format: settings_app/holiday_files.py, docs/tickets.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from settings_app.holiday_files import decode_holiday_file
from settings_app.models import PublicHolidayDay
from settings_app.services import holidays_import_file


class Command(BaseCommand):
    help = (
        "Import the official public holidays and adjusted working days (调休) from a "
        "date,kind,name CSV file. All or nothing: on any error nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="UTF-8 CSV: date,kind,name lines.")
        parser.add_argument(
            "--year",
            type=int,
            help="The year the file declares: every date must be in it. Without it, each "
            "date is filed under its own year (a file may hold several).",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace a year that was imported before (without it, such a year is an error).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
        try:
            years = holidays_import_file(
                text=decode_holiday_file(data),
                year=options["year"],
                replace=options["replace"],
                source=path.name,
            )
        except ValidationError as error:
            raise CommandError("\n".join([f"{path}: nothing imported.", *error.messages])) from None
        for stored in years:
            kinds = list(stored.days.values_list("kind", flat=True))
            holidays = kinds.count(PublicHolidayDay.Kind.HOLIDAY)
            self.stdout.write(
                self.style.SUCCESS(
                    f"{stored.year}: {holidays} holidays and {len(kinds) - holidays} "
                    f"adjusted working days imported from {path.name}."
                )
            )
