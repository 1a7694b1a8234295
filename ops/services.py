"""Backing up and restoring an installation: the PostgreSQL database and the uploaded files
together, in one .tar.gz.

The archive holds, in this order:

- `manifest.json`: format, versions (Kefu, Django, PostgreSQL server, pg_dump), the latest
  migration of each app, the row count of every table, the number and size of the files;
- `database.dump`: `pg_dump --format=custom` of the database;
- `files/<name>`: every file of the media storage, whatever the backend (a directory or an
  S3 bucket), under its storage name.

The database is dumped first and the files copied after, so every file a row names is in
the archive (an upload that lands in between is an unreferenced extra, never a gap).

All database work goes through libpq (pg_dump, pg_restore, psycopg) with the connection
settings of a Django `DATABASES` entry, not through Django's connection: a restore can
target another database than the one the process is configured for (the tests do).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import django
import psycopg
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql
from psycopg.conninfo import make_conninfo

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
FILES = "files/"

# Django settings (DATABASES[...]["OPTIONS"]) that libpq also understands, and the
# environment variable each one becomes for pg_dump and pg_restore.
_LIBPQ_ENV = {
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",  # in the environment, never on a command line (ps shows it)
    "host": "PGHOST",
    "port": "PGPORT",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Manifest:
    """What an archive holds; written first into it and read first out of it."""

    created_at: str
    versions: dict[str, str]
    migrations: dict[str, str]
    tables: dict[str, int]
    files: int
    file_bytes: int
    format: int = FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError(_("This is not a Kefu backup of a format this version reads."))
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


# --- PostgreSQL through libpq ------------------------------------------------------------


def _libpq_params(database: Mapping[str, Any]) -> dict[str, str]:
    if "postgresql" not in database.get("ENGINE", ""):
        raise BackupError(
            _("Backups need PostgreSQL; this database is %(engine)s.")
            % {"engine": database.get("ENGINE", "?")}
        )
    params = {
        "dbname": database.get("NAME"),
        "user": database.get("USER"),
        "password": database.get("PASSWORD"),
        "host": database.get("HOST"),
        "port": database.get("PORT"),
    }
    for key, value in (database.get("OPTIONS") or {}).items():
        if key in _LIBPQ_ENV:
            params[key] = value
    return {k: str(v) for k, v in params.items() if v not in (None, "")}


def _pg_env(params: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({_LIBPQ_ENV[k]: v for k, v in params.items()})
    return env


def _connect(params: Mapping[str, str], *, autocommit: bool = True) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(make_conninfo(**params), autocommit=autocommit)
    except psycopg.Error as error:
        message = _("Cannot connect to the database: %(error)s") % {"error": error}
        raise BackupError(message) from error


def connect(database: Mapping[str, Any]) -> psycopg.Connection[Any]:
    """An autocommit libpq connection to a Django DATABASES entry (no pool, no Django)."""
    return _connect(_libpq_params(database))


def _major(version: str) -> int:
    return int(version.split(".")[0])


def _tool(name: str) -> tuple[str, str]:
    """The path and version of pg_dump or pg_restore (Debian's postgresql-client)."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _("%(tool)s was not found: install PostgreSQL's client tools (postgresql-client).")
            % {"tool": name}
        )
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)  # noqa: S603
    out = version.stdout
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if match is None:  # pragma: no cover - every pg_dump prints its version
        raise BackupError(f"{name} --version: {out!r}")
    return path, match.group(0)


def _check_versions(tool: str, tool_version: str, server_version: str) -> None:
    # pg_dump refuses a newer server, and an older server may not read a newer pg_dump's
    # output: one major version on both sides is the combination PostgreSQL supports.
    if _major(tool_version) != _major(server_version):
        raise BackupError(
            _(
                "%(tool)s %(tool_version)s does not match the PostgreSQL server "
                "%(server_version)s: install the client tools of the server's major version."
            )
            % {"tool": tool, "tool_version": tool_version, "server_version": server_version}
        )


def _server_version(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SHOW server_version").fetchone()
    assert row is not None
    return str(row[0]).split()[0]


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    ).fetchall()
    return [row[0] for row in rows]


def _table_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts = {}
    for table in _tables(conn):
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        row = conn.execute(query).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def table_counts(database: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Rows in every table of the database's public schema."""
    return table_counts_params(_libpq_params(database or settings.DATABASES["default"]))


def table_counts_params(params: Mapping[str, str]) -> dict[str, int]:
    with _connect(params) as conn:
        return _table_counts(conn)


def _migrations(conn: psycopg.Connection[Any]) -> dict[str, str]:
    if "django_migrations" not in _tables(conn):
        return {}
    rows = conn.execute("SELECT app, max(name) FROM django_migrations GROUP BY app").fetchall()
    return dict(rows)


# --- Files of a storage, whatever the backend --------------------------------------------


def storage_files(storage: Storage, path: str = "") -> Iterator[str]:
    """Every file name in the storage, depth first (listdir works on disk and on S3)."""
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:  # a directory storage nothing was ever saved to
        return
    for name in sorted(files):
        yield f"{path}/{name}" if path else name
    for directory in sorted(directories):
        yield from storage_files(storage, f"{path}/{directory}" if path else directory)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


# --- Backup ------------------------------------------------------------------------------


def backup_create(
    *,
    out: IO[bytes],
    database: Mapping[str, Any] | None = None,
    storage: Storage | None = None,
) -> Manifest:
    """Write one archive of the database and the media storage to `out` (a stream)."""
    params = _libpq_params(database or settings.DATABASES["default"])
    storage = storage or default_storage
    pg_dump, pg_dump_version = _tool("pg_dump")
    with tempfile.TemporaryDirectory(prefix="kefu-backup-") as tmp:
        dump = Path(tmp) / DUMP
        # One snapshot for the dump and the counts: pg_dump reads the snapshot this
        # transaction exports, so the manifest counts exactly the rows the dump holds.
        with _connect(params, autocommit=False) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            server_version = _server_version(conn)
            _check_versions("pg_dump", pg_dump_version, server_version)
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={row[0]}",
                    "--file",
                    str(dump),
                ],
                params,
            )
            tables = _table_counts(conn)
            migrations = _migrations(conn)
            conn.rollback()
        names = list(storage_files(storage))
        sizes = {name: storage.size(name) for name in names}
        manifest = Manifest(
            created_at=timezone.now().isoformat(),
            versions={
                "kefu": _kefu_version(),
                "django": django.get_version(),
                "postgresql_server": server_version,
                "pg_dump": pg_dump_version,
            },
            migrations=migrations,
            tables=tables,
            files=len(names),
            file_bytes=sum(sizes.values()),
            extra={"storage": f"{type(storage).__module__}.{type(storage).__qualname__}"},
        )
        # Streamed ("w|gz"): `out` may be a pipe (`kefu_backup - > backup.tar.gz`).
        with tarfile.open(fileobj=out, mode="w|gz") as tar:
            _add_bytes(tar, MANIFEST, manifest.to_json())
            tar.add(dump, arcname=DUMP)
            for name in names:
                info = tarfile.TarInfo(FILES + name)
                info.size = sizes[name]
                info.mtime = int(timezone.now().timestamp())
                with storage.open(name, "rb") as handle:
                    tar.addfile(info, handle)
    return manifest


def _kefu_version() -> str:
    try:
        return metadata.version("kefu")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown"


def _run(command: list[str], params: Mapping[str, str]) -> None:
    result = subprocess.run(command, env=_pg_env(params), capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(
            _("%(tool)s failed: %(error)s")
            % {"tool": Path(command[0]).name, "error": result.stderr.strip()[-2000:]}
        )


# --- Restore -----------------------------------------------------------------------------


def backup_read_manifest(archive: Path) -> Manifest:
    with tarfile.open(archive, mode="r:gz") as tar:
        return _manifest(tar)


def _manifest(tar: tarfile.TarFile) -> Manifest:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError(_("This is not a Kefu backup: it has no manifest.")) from None
    handle = tar.extractfile(member)
    assert handle is not None
    return Manifest.from_json(handle.read())


def backup_restore(
    *,
    archive: Path,
    force: bool = False,
    database: Mapping[str, Any] | None = None,
    storage: Storage | None = None,
) -> Manifest:
    """Put an archive's database and files back. Stop the web and worker processes first.

    Refuses a database that has any table (a migrated or used installation) and a storage
    that has any file, unless `force`: then the database's public schema is dropped and
    created anew and the storage's files are deleted, so the result is the archive exactly.
    """
    params = _libpq_params(database or settings.DATABASES["default"])
    storage = storage or default_storage
    pg_restore, pg_restore_version = _tool("pg_restore")
    with tarfile.open(archive, mode="r:gz") as tar:
        manifest = _manifest(tar)
        members = {m.name: m for m in tar.getmembers()}
        files = [m for name, m in members.items() if name.startswith(FILES)]
        if DUMP not in members or len(files) != manifest.files:
            raise BackupError(
                _("The backup is incomplete: it does not hold what its manifest lists.")
            )
        for member in files:
            if not member.isfile():
                raise BackupError(
                    _("The backup holds an entry that is not a file: %(name)s")
                    % {"name": member.name}
                )
        with _connect(params) as conn:
            _check_versions("pg_restore", pg_restore_version, _server_version(conn))
            existing_tables = _tables(conn)
            existing_files = next(storage_files(storage), None)
            if (existing_tables or existing_files) and not force:
                raise BackupError(
                    _(
                        "The database or the file storage is not empty (%(tables)d tables, "
                        "files: %(files)s). Restore into a new, empty database, or pass --force "
                        "to replace everything in them."
                    )
                    % {
                        "tables": len(existing_tables),
                        "files": _("yes") if existing_files else _("no"),
                    }
                )
            if existing_tables:
                # Everything of Kefu lives in the public schema; a new one leaves nothing
                # behind that the archive does not hold (tables of later migrations).
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
        for name in list(storage_files(storage)):
            storage.delete(name)
        with tempfile.TemporaryDirectory(prefix="kefu-restore-") as tmp:
            dump = Path(tmp) / DUMP
            source = tar.extractfile(members[DUMP])
            assert source is not None
            with dump.open("wb") as target:
                shutil.copyfileobj(source, target)
            _run(
                [
                    pg_restore,
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    "--dbname",
                    params.get("dbname", ""),
                    str(dump),
                ],
                params,
            )
        restored = table_counts_params(params)
        if restored != manifest.tables:
            raise BackupError(_("The restored tables do not hold the rows the manifest counts."))
        for member in files:
            name = member.name[len(FILES) :]
            source = tar.extractfile(member)
            assert source is not None
            # Storage.save checks the name (no "..", no absolute path) and must keep it:
            # the rows name their files.
            saved = storage.save(name, File(source, name=name))
            if saved != name:
                raise BackupError(
                    _("The storage stored %(name)s as %(saved)s.") % {"name": name, "saved": saved}
                )
    return manifest
