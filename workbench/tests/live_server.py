"""Run the real ASGI app in a uvicorn subprocess with production settings, on a free port."""

from __future__ import annotations

import os
import random
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port(lo: int = 8101, hi: int = 8199) -> int:
    # Random order: parallel test workers rarely try the same port at the same moment.
    ports = list(range(lo, hi + 1))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8101-8199")


def procfile_ws_flags() -> list[str]:
    """The websocket flags (--ws-max-size, --ws-ping-interval, …) the Procfile's web process
    runs with, so the tests meet the limits production has."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            words = shlex.split(line.partition(":")[2])
            return [
                word
                for i, word in enumerate(words)
                if word.startswith("--ws") or (i and words[i - 1].startswith("--ws"))
            ]
    return []


def database_url() -> str:
    """The database this test process uses (the test database), for the server."""
    d = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{d['PASSWORD']}" if d.get("PASSWORD") else ""
        return f"postgres://{d['USER']}{password}@{d['HOST']}:{d['PORT']}/{d['NAME']}"
    return f"sqlite:///{d['NAME']}"


class Server:
    def __init__(
        self,
        *,
        settings_module: str = "config.settings.production",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.prefix = f"srv{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "KEFU_CHANNEL_PREFIX": self.prefix,
            "KEFU_TASKS_EAGER": "true",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_SECURE_HSTS_SECONDS": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "KEFU_LOG_LEVEL": "WARNING",
            # Every client here is 127.0.0.1, opening sessions and sockets by the dozen; the
            # limits themselves are tested in-process (workbench/tests/test_rate_limits.py).
            "KEFU_RATE_LIMITS_ENABLED": "false",
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                *procfile_ws_flags(),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"server exited: {err[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not come up")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, whatever was in flight is cut off."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
