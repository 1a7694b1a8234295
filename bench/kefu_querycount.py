"""X-Bench-Queries for Kefu: every SQL statement of a request, counted with Django's
connection.execute_wrapper (works with DEBUG = False), the same as the generated helpdesk
project's middleware. Bench-only (bench/kefu_bench_settings.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse


class QueryCountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = [0]

        def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            count[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connections["default"].execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(count[0])
        response["X-Bench-Server-Ms"] = f"{(time.perf_counter() - started) * 1000:.1f}"
        return response
