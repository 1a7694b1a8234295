"""kefu_backup and kefu_restore on a real PostgreSQL: seed rows and files, back up, restore
into a new database and an empty storage, and compare every table and every byte."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from ops.services import BackupError, backup_restore, connect, storage_files, table_counts
from workbench.services.visitors import visitor_open
from workbench.tests.helpers import make_channel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 300


@pytest.fixture
def new_database() -> Iterator[dict[str, Any]]:
    """A DATABASES entry for a new, empty database beside the test database."""
    source = connection.settings_dict
    target = {**source, "NAME": f"{source['NAME']}_restore"}
    admin = connect(source)
    drop = f'DROP DATABASE IF EXISTS "{target["NAME"]}" WITH (FORCE)'
    admin.execute(drop)
    admin.execute(f'CREATE DATABASE "{target["NAME"]}"')
    try:
        yield target
    finally:
        admin.execute(drop)
        admin.close()


def _seed(shop_a: Any) -> None:
    channel = make_channel(shop=shop_a, greeting="")
    token = visitor_open(channel=channel).token
    for n, name in enumerate(["a.png", "b.png", "a.png"]):
        response = Client().post(
            "/chat/api/attachments/",
            {"client_id": f"f{n}", "file": SimpleUploadedFile(name, PNG + bytes([n]))},
            headers={"X-Visitor-Token": token},
        )
        assert response.status_code == 200, response.content


def _files(storage: Any) -> dict[str, bytes]:
    return {name: storage.open(name).read() for name in storage_files(storage)}


def test_backup_then_restore_gives_back_every_row_and_file(
    settings, tmp_path: Path, shop_a, new_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    _seed(shop_a)
    rows_before = table_counts(connection.settings_dict)
    files_before = _files(default_storage)
    assert len(files_before) == 3 and rows_before["workbench_message"] == 3

    archive = tmp_path / "kefu.tar.gz"
    out = io.StringIO()
    call_command("kefu_backup", str(archive), stdout=out)
    assert "3 files" in out.getvalue()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[:2] == ["manifest.json", "database.dump"]
    assert manifest["tables"] == rows_before and manifest["files"] == 3
    assert (
        manifest["versions"]["postgresql_server"].split(".")[0]
        == (manifest["versions"]["pg_dump"].split(".")[0])
    )
    assert manifest["migrations"]["workbench"].startswith("00")

    # The installation is lost: a new, empty database and an empty file storage.
    restored_files = FileSystemStorage(location=tmp_path / "restored")
    backup_restore(archive=archive, database=new_database, storage=restored_files)
    assert table_counts(new_database) == rows_before
    assert _files(restored_files) == files_before
    with connect(new_database) as conn:
        stored = conn.execute("SELECT attachment FROM workbench_message ORDER BY id").fetchall()
    assert sorted(name for (name,) in stored) == sorted(files_before)

    # A second restore over it is refused, unless forced; forced, it is the archive again.
    with pytest.raises(BackupError, match="not empty"):
        backup_restore(archive=archive, database=new_database, storage=restored_files)
    restored_files.save("stray.txt", io.BytesIO(b"left over"))
    with connect(new_database) as conn:
        conn.execute("CREATE TABLE stray (id int)")
    backup_restore(archive=archive, database=new_database, storage=restored_files, force=True)
    assert table_counts(new_database) == rows_before
    assert _files(restored_files) == files_before


@pytest.mark.django_db  # the test database itself: migrated, so not empty
def test_restore_command_refuses_a_used_database_without_force(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    archive = tmp_path / "kefu.tar.gz"
    call_command("kefu_backup", str(archive), stdout=io.StringIO())
    with pytest.raises(CommandError, match="--force"):
        call_command("kefu_restore", str(archive), stdout=io.StringIO())


@pytest.mark.django_db
def test_restore_refuses_what_is_not_a_backup(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("hello.txt"), io.BytesIO(b""))
    with pytest.raises(CommandError, match="no manifest"):
        call_command("kefu_restore", str(bogus), stdout=io.StringIO())
