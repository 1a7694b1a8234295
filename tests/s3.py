"""A real S3 server for the storage tests, offline: moto's, on a free 127.0.0.1 port.

`s3_storage` switches the media storage to a fresh bucket on it, configured exactly as
`KEFU_MEDIA_STORAGE=s3` and the `KEFU_S3_*` variables configure it: the options come from
loading the settings in a subprocess with those variables set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

ACCESS_KEY = "kefu-test-access"
SECRET_KEY = "kefu-test-secret"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_settings(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """STORAGES["default"] and the CSP img-src that the environment below produces."""
    key_file = tmp_path_factory.mktemp("s3") / "access_key"
    key_file.write_text(ACCESS_KEY)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KEFU_"))}
    env.update(
        KEFU_MEDIA_STORAGE="s3",
        KEFU_S3_BUCKET="placeholder",
        KEFU_S3_ENDPOINT_URL=s3_endpoint,
        KEFU_S3_REGION="us-east-1",
        KEFU_S3_ACCESS_KEY_ID_FILE=str(key_file),  # secrets may come from files
        KEFU_S3_SECRET_ACCESS_KEY=SECRET_KEY,
        KEFU_S3_ADDRESSING_STYLE="path",
    )
    code = (
        "import json, config.settings.test as s; print(json.dumps({'storage': "
        "s.STORAGES['default'], 'img_src': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )


@pytest.fixture
def s3_storage(settings: Any, s3_settings: dict[str, Any], s3_client: Any, tmp_path: Path) -> Any:
    """The default storage on a new, empty bucket; MEDIA_ROOT points at an empty directory
    so a test can show that nothing landed on disk."""
    from django.core.files.storage import default_storage

    bucket = f"kefu-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=bucket)
    storage = json.loads(json.dumps(s3_settings["storage"]))
    storage["OPTIONS"]["bucket_name"] = bucket
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    settings.MEDIA_ROOT = tmp_path / "media"
    assert default_storage.bucket_name == bucket  # type: ignore[attr-defined]
    return default_storage
