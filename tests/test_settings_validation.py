"""Bad environment values stop the process at start with a message naming the variable."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR


def _load(settings_module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KEFU_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    code = f"import importlib; importlib.import_module('{settings_module}')"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"KEFU_LOGIN_FAILURE_LIMIT": "0"}, "KEFU_LOGIN_FAILURE_LIMIT"),
        ({"KEFU_LOGIN_FAILURE_LIMIT": "five"}, "KEFU_LOGIN_FAILURE_LIMIT"),
        ({"KEFU_LOGIN_FAILURE_LIMIT_PER_ADDRESS": "0"}, "KEFU_LOGIN_FAILURE_LIMIT_PER_ADDRESS"),
        ({"KEFU_RATE_CHAT_SESSIONS": "lots"}, "KEFU_RATE_CHAT_SESSIONS"),
        ({"KEFU_RATE_UPLOAD_MB_PER_VISITOR": "100"}, "KEFU_RATE_UPLOAD_MB_PER_VISITOR"),
        ({"KEFU_MAX_BODY_BYTES": "100"}, "KEFU_MAX_BODY_BYTES"),
        ({"KEFU_RATE_LIMITS_ENABLED": "perhaps"}, "KEFU_RATE_LIMITS_ENABLED"),
        ({"KEFU_TIME_ZONE": "Mars/Olympus"}, "KEFU_TIME_ZONE"),
        ({"KEFU_LOG_LEVEL": "LOUD"}, "KEFU_LOG_LEVEL"),
        ({"KEFU_SITE_URL": "kefu.example.com"}, "KEFU_SITE_URL"),
        ({"KEFU_MEDIA_STORAGE": "ftp"}, "KEFU_MEDIA_STORAGE"),
        ({"KEFU_MEDIA_STORAGE": "s3"}, "KEFU_S3_BUCKET"),
        (
            {"KEFU_MEDIA_STORAGE": "s3", "KEFU_S3_BUCKET": "b", "KEFU_S3_ACCESS_KEY_ID": "k"},
            "KEFU_S3_SECRET_ACCESS_KEY",
        ),
        ({"KEFU_S3_ENDPOINT_URL": "minio:9000"}, "KEFU_S3_ENDPOINT_URL"),
        (
            {"KEFU_MEDIA_STORAGE": "s3", "KEFU_S3_BUCKET": "b", "KEFU_S3_ADDRESSING_STYLE": "x"},
            "KEFU_S3_ADDRESSING_STYLE",
        ),
    ],
)
def test_bad_value_is_rejected_with_its_name(env, named):
    result = _load("config.settings.local", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and named in result.stderr


def test_production_refuses_to_start_without_a_real_secret():
    result = _load("config.settings.production", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_production_reads_the_secret_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("k" * 64)
    code = (
        "import config.settings.production as s; "
        "assert s.SECRET_KEY == 'k' * 64; assert not s.DEBUG; print('ok')"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KEFU_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SECRET_KEY_FILE": str(secret),
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_production_needs_redis():
    result = _load("config.settings.production", DJANGO_SECRET_KEY="k" * 64)
    assert result.returncode != 0 and "REDIS_URL" in result.stderr
