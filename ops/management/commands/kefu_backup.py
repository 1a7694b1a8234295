"""`manage.py kefu_backup OUT.tar.gz`: the database and every uploaded file in one archive."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from ops.services import BackupError, backup_create


class Command(BaseCommand):
    help = _(
        "Back up the PostgreSQL database and all uploaded files into one .tar.gz "
        "(- writes it to standard output)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help=_("the archive to write, or - for standard output"))

    def handle(self, *args: Any, out: str, **options: Any) -> None:
        try:
            if out == "-":
                manifest = backup_create(out=sys.stdout.buffer)
                return
            target = Path(out)
            # Written beside the target and renamed at the end: a failed run never leaves
            # a half archive under the name an operator would restore from.
            partial = target.with_name(f".{target.name}.partial")
            try:
                with partial.open("wb") as handle:
                    manifest = backup_create(out=handle)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _("Backed up %(tables)d tables (%(rows)d rows) and %(files)d files to %(out)s.")
            % {
                "tables": len(manifest.tables),
                "rows": sum(manifest.tables.values()),
                "files": manifest.files,
                "out": target,
            }
        )
