"""`make demo`: migrate, seed, print the logins, and serve HTTP + websockets in one process.

The embedded stack: SQLite, the in-memory channel layer, Celery tasks run eagerly, and
the periodic jobs fired by core.beat from the same CELERY_BEAT_SCHEDULE that beat uses.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from demo.management.commands.seed_demo import DEMO_PASSWORD, USERS


class Command(BaseCommand):
    help = "Run the self-contained demo on 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="Prepare, print, exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        # A fresh checkout has no var/ yet; SQLite cannot create its file without it.
        (settings.BASE_DIR / "var").mkdir(exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", verbosity=0)
        url = f"http://{options['host']}:{options['port']}/"
        lines = [
            "",
            "Kefu demo is ready.",
            f"  Open {url}",
            f"  Every demo login uses the password: {DEMO_PASSWORD}",
            "",
            f"  {'username':<12} {'role':<16} name",
        ]
        lines += [f"  {u:<12} {role.value!s:<16} {display}" for u, display, role, *_ in USERS]
        lines += [
            "",
            "  Customer chat (a pretend shop page): " + url + "chat/demo/",
            "  Django admin: " + url + "admin/  (as admin)",
            "  API schema: " + url + "api/schema/",
            "",
        ]
        self.stdout.write("\n".join(lines))
        if options["no_serve"]:
            return

        import uvicorn

        from core.beat import InProcessBeat

        if settings.KEFU_INPROCESS_BEAT or settings.CELERY_TASK_ALWAYS_EAGER:
            InProcessBeat().start()
        # The Procfile's websocket flags (its comment says why): frames up to 1 MiB reach
        # the app (which refuses anything over 16 KiB with an error frame), a ping every
        # 20 s, and a socket that does not answer within 20 s is closed.
        uvicorn.run(
            "config.asgi:application",
            host=options["host"],
            port=options["port"],
            lifespan="off",
            log_level="info",
            ws_max_size=1024 * 1024,
            ws_ping_interval=20,
            ws_ping_timeout=20,
        )
