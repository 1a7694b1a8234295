"""Bench-only settings: production, plus a first middleware that counts SQL statements.

Used only by bench/tickets_list.py's Kefu target (DJANGO_SETTINGS_MODULE=
bench.kefu_bench_settings, the server started from the repository root). Everything else is
config.settings.production unchanged.
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import MIDDLEWARE

MIDDLEWARE = ["bench.kefu_querycount.QueryCountMiddleware", *MIDDLEWARE]
