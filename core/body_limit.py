"""Request bodies are capped before they are read (ASGI, in front of Django).

Django reads a whole body into a temporary file before any view or middleware runs, and its
DATA_UPLOAD_MAX_MEMORY_SIZE applies only to form fields, only after reading: a 200 MB body
to an anonymous endpoint was read in full before its 400, and a declared 1 GB one kept the
endpoint waiting for it. Here, around the Django application:

- a declared Content-Length over the cap is answered 413 at once, nothing read;
- a body without one (chunked) is passed on as it arrives and counted; once past the cap it
  is answered 413 and Django is told the client went away, so it stops reading.

Routes that take files (`upload_paths`, config/asgi.py) get KEFU_MAX_UPLOAD_BODY_BYTES,
every other request KEFU_MAX_BODY_BYTES. The 413 is JSON `{"error": "body_too_large", …}`
for API paths and JSON clients, plain text otherwise, in the client's language.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Django's ASGIHandler spells its types a little differently; any ASGI app will do.
ASGIApp = Callable[..., Awaitable[None]]

DISCONNECT: Message = {"type": "http.disconnect"}


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


def _wants_json(scope: Scope, request: ASGIRequest) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    content_type = request.content_type or ""
    return "/api/" in scope.get("path", "") or "json" in accept or "json" in content_type


def too_large_response(scope: Scope, cap: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of the 413, in the language the client asks for."""
    request = ASGIRequest(scope, io.BytesIO())
    language = translation.get_language_from_request(request)
    with translation.override(language):
        message = _("The request is too large: at most %(size)s may be sent here.") % {
            "size": filesizeformat(cap)
        }
    if _wants_json(scope, request):
        payload = {"error": "body_too_large", "message": message, "max_bytes": cap}
        body = json.dumps(payload, ensure_ascii=False).encode()
        content_type = b"application/json"
    else:
        body = message.encode()
        content_type = b"text/plain; charset=utf-8"
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"content-language", language.encode()),
        # The rest of the body is never read: the connection cannot carry another request.
        (b"connection", b"close"),
    ]
    return 413, headers, body


class BodySizeLimit:
    """ASGI middleware: HTTP request bodies over the cap are refused unread (413)."""

    def __init__(self, app: ASGIApp, *, upload_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.upload_paths = [re.compile(p) for p in upload_paths]

    def cap_for(self, scope: Scope) -> int:
        root = scope.get("root_path", "")
        path = str(scope.get("path", "")).removeprefix(root)
        if any(p.match(path) for p in self.upload_paths):
            return int(settings.KEFU_MAX_UPLOAD_BODY_BYTES)
        return int(settings.KEFU_MAX_BODY_BYTES)

    async def refuse(self, scope: Scope, send: Send, cap: int) -> None:
        status, headers, body = too_large_response(scope, cap)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > cap:
            await self.refuse(scope, send, cap)
            return

        seen = 0
        refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return DISCONNECT
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    refused = True
                    await self.refuse(scope, send, cap)
                    # Django stops reading and answers nothing (RequestAborted).
                    return DISCONNECT
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # after our 413 the application has nothing more to say
                await send(message)

        await self.app(scope, counted_receive, guarded_send)
