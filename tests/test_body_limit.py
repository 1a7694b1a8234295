"""Request bodies are capped before they are read (core/body_limit.py, issue 11 item 5).

A 200 MB body to an anonymous endpoint used to be read in full before its 400, and a
declared 1 GB body kept the endpoint waiting for it. Now a declared length over the cap is
answered 413 at once, and an undeclared (chunked) body stops being read once past the cap.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import socket
import subprocess
import sys
import time

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.urls import reverse

from config.asgi import UPLOAD_PATHS, application
from tests.live_server import free_port

GIB = 1024**3
CHUNK = 64 * 1024


def _scope(path, headers=()):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


class Sent:
    """What the application sent back."""

    def __init__(self):
        self.messages = []

    async def __call__(self, message):
        self.messages.append(message)

    @property
    def status(self):
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")

    @property
    def headers(self):
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        return dict(start["headers"])

    @property
    def body(self):
        return b"".join(m.get("body", b"") for m in self.messages if m["type"].endswith("body"))


def _call(scope, receive, timeout=10.0):
    sent = Sent()

    async def go():
        await asyncio.wait_for(application(scope, receive, sent), timeout)

    async_to_sync(go)()
    return sent


def test_a_declared_gigabyte_is_refused_at_once_without_reading():
    reads = 0

    async def receive():
        nonlocal reads
        reads += 1
        await asyncio.Event().wait()  # a client that never sends its gigabyte

    scope = _scope(
        "/chat/api/session/",
        [(b"content-type", b"application/json"), (b"content-length", str(GIB).encode())],
    )
    started = time.monotonic()
    sent = _call(scope, receive)
    assert time.monotonic() - started < 5
    assert reads == 0
    assert sent.status == 413
    body = json.loads(sent.body)
    assert body["error"] == "body_too_large"
    assert body["max_bytes"] == settings.KEFU_MAX_BODY_BYTES
    assert body["message"]
    assert sent.headers[b"connection"] == b"close"


def test_a_streamed_body_stops_being_read_past_the_cap():
    reads = 0

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}  # endless

    scope = _scope("/chat/api/session/", [(b"content-type", b"application/json")])
    sent = _call(scope, receive)
    assert sent.status == 413
    # Read up to just past the cap, then no more.
    assert reads == settings.KEFU_MAX_BODY_BYTES // CHUNK + 1
    assert [m["type"] for m in sent.messages] == ["http.response.start", "http.response.body"]


def test_upload_routes_have_the_higher_cap():
    three_mb = str(3 * 1024 * 1024).encode()

    def status(path):
        body = [b"-" * (3 * 1024 * 1024)]

        async def receive():
            if not body:
                await asyncio.Event().wait()  # the client waits for its answer
            return {"type": "http.request", "body": body.pop(), "more_body": False}

        headers = [(b"content-type", b"multipart/form-data; boundary=x")]
        return _call(_scope(path, [*headers, (b"content-length", three_mb)]), receive).status

    assert status("/chat/api/session/") == 413
    # Past the cap into the view, which refuses the missing visitor token itself.
    assert status("/chat/api/attachments/") == 401


def test_over_the_upload_cap_an_upload_is_refused_too():
    length = str(settings.KEFU_MAX_UPLOAD_BODY_BYTES + 1).encode()

    async def receive():
        await asyncio.Event().wait()

    scope = _scope("/chat/api/attachments/", [(b"content-length", length)])
    sent = _call(scope, receive)
    assert sent.status == 413
    assert json.loads(sent.body)["max_bytes"] == settings.KEFU_MAX_UPLOAD_BODY_BYTES


def test_a_form_page_gets_plain_text_in_the_clients_language():
    async def receive():
        await asyncio.Event().wait()

    scope = _scope(
        "/tickets/new/1/",
        [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(GIB).encode()),
            (b"accept", b"text/html"),
            (b"accept-language", b"zh-CN,zh;q=0.9"),
        ],
    )
    sent = _call(scope, receive)
    assert sent.status == 413
    assert sent.headers[b"content-type"].startswith(b"text/plain")
    assert sent.headers[b"content-language"] == b"zh-hans"
    assert "请求过大" in sent.body.decode()


def test_the_upload_patterns_match_the_upload_urls():
    urls = [
        reverse("chat:upload"),
        reverse("workbench:api_upload", args=[12]),
        reverse("tickets:act", args=[34, "attach"]),
    ]
    for url in urls:
        assert any(re.match(p, url) for p in UPLOAD_PATHS), url
    for url in [reverse("chat:session"), reverse("tickets:act", args=[34, "reply"])]:
        assert not any(re.match(p, url) for p in UPLOAD_PATHS), url


# --- A real uvicorn: the 413 reaches the client while it is still sending ----------------


@pytest.fixture(scope="module")
def server():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KEFU_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    # The refusals never reach Django, so no database is needed.
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off", "--log-level", "warning"],
        cwd=settings.BASE_DIR,
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _head(port, headers):
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    lines = ["POST /chat/api/session/ HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    conn.sendall("\r\n".join(lines).encode())
    return conn


def _response(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_real_server_answers_a_declared_gigabyte_at_once(server):
    conn = _head(server, ["Content-Type: application/json", f"Content-Length: {GIB}"])
    started = time.monotonic()
    head = _response(conn)
    conn.close()
    assert head.startswith(b"HTTP/1.1 413")
    assert time.monotonic() - started < 5


def test_real_server_stops_a_chunked_body_past_the_cap(server):
    conn = _head(server, ["Content-Type: application/json", "Transfer-Encoding: chunked"])
    conn.setblocking(False)
    chunk = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
    pending = chunk
    sent = 0
    answer = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sent < 200 * 1024 * 1024:
        readable, writable, _ = select.select([conn], [conn], [], 1)
        if readable:
            conn.setblocking(True)
            answer = _response(conn)
            break
        if writable:
            try:
                n = conn.send(pending)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                continue
            sent += n
            pending = pending[n:] or chunk
    conn.close()
    assert answer.startswith(b"HTTP/1.1 413")
    # The server stopped at the cap; what more went out sat in the sockets' buffers.
    assert sent < settings.KEFU_MAX_BODY_BYTES + 16 * 1024 * 1024
