"""`manage.py kefu_restore IN.tar.gz [--force]`: a kefu_backup archive back in place."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from ops.services import BackupError, backup_restore


class Command(BaseCommand):
    help = _(
        "Restore the database and the uploaded files from a kefu_backup archive "
        "(- reads it from standard input). Stop the web and worker processes first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help=_("the archive to read, or - for standard input"))
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("replace a database and a file storage that are not empty"),
        )

    def handle(self, *args: Any, archive: str, force: bool, **options: Any) -> None:
        try:
            with tempfile.TemporaryDirectory(prefix="kefu-restore-") as tmp:
                path = Path(archive)
                if archive == "-":
                    # A restore reads the archive twice (check, then restore): spool a pipe.
                    path = Path(tmp) / "in.tar.gz"
                    with path.open("wb") as spool:
                        shutil.copyfileobj(sys.stdin.buffer, spool)
                manifest = backup_restore(archive=path, force=force)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _(
                "Restored %(tables)d tables (%(rows)d rows) and %(files)d files from a backup "
                "of %(created)s. Run manage.py migrate if this version of Kefu is newer."
            )
            % {
                "tables": len(manifest.tables),
                "rows": sum(manifest.tables.values()),
                "files": manifest.files,
                "created": manifest.created_at,
            }
        )
