"""Refusals at the door: input that no layer below can store (400), and the answer to a
rate limit a service hit (429)."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from core.ratelimits import RateLimited
from core.text import find_unstorable, is_unstorable


def _query_or_form_unstorable(request: HttpRequest) -> bool:
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            if is_unstorable(key) or any(is_unstorable(v) for v in values):
                return True
    return any(is_unstorable(f.name or "") for _key, files in request.FILES.lists() for f in files)


def _json_unstorable(request: HttpRequest) -> bool:
    if not (request.content_type or "").endswith("json") or not request.body:
        return False
    try:
        return find_unstorable(json.loads(request.body))
    except (ValueError, UnicodeDecodeError):
        return False  # the view answers bad JSON itself


API_PREFIX = "/api/"


class RefuseUnstorableTextMiddleware:
    """NUL characters and lone surrogates in a query, a form, a file name or a JSON body
    would end as a database error (500), and an upload carrying them left its file on disk
    with no row. Refuse them before any view runs; nothing is written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            # The REST API answers field by field (DRF refuses NUL in every CharField).
            return self.get_response(request)
        try:
            refused = _query_or_form_unstorable(request) or _json_unstorable(request)
        except MultiPartParserError:
            refused = False  # the view's own parsing answers a broken upload
        if refused:
            return JsonResponse(
                {
                    "error": "invalid_text",
                    "message": _("Text may not contain NUL characters or broken Unicode."),
                },
                status=400,
            )
        return self.get_response(request)


def rate_limited_response(error: RateLimited) -> JsonResponse:
    response = JsonResponse(
        {"error": error.code, "message": error.message, "retry_after": error.retry_after},
        status=429,
    )
    response["Retry-After"] = str(error.retry_after)
    return response


class RateLimitedMiddleware:
    """A service refused over a rate (core.ratelimits): 429 with Retry-After and JSON, for
    every view alike, so views need no handler of their own. (A page that would rather
    show the message itself, like the ticket page, catches RateLimited first.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            return rate_limited_response(exception)
        return None
