"""Kefu's /tickets/ as a target (bench/README.md, "Kefu target"); its seeding is in
bench/kefu_tickets.py."""

from __future__ import annotations

import html
import re
from typing import Any

import kefu_tickets
import psycopg
import requests
from common import KefuStack, log, pg_url

from .target import Probe, Target, django_form_login


class KefuTarget(Target):
    """Kefu's /tickets/ list under production settings (see bench/README.md, "Kefu target").

    common.KefuStack: a Postgres database of its own, `migrate` and `seed_demo`, the server
    as the Procfile runs it (uvicorn config.asgi:application, one worker here to match
    helpdesk's one gunicorn worker), login as `supervisor` through /accounts/login/. The
    settings are bench/kefu_bench_settings.py: config.settings.production plus a middleware
    that reports the request's SQL statements in X-Bench-Queries. Seeding is in
    bench/kefu_tickets.py.
    """

    name = "Kefu"
    # Plugged in: ticket_count, seeding (bench/kefu_tickets.py) and probes are written.
    ready = True
    server_desc = (
        "uvicorn 1 worker (ASGI, config.asgi), production settings + query-count middleware"
    )

    def __init__(self, dbname: str, redis_url: str) -> None:
        self.stack = KefuStack(dbname, redis_url, log_name="kefu-tickets-server.log")
        self.stack.env["DJANGO_SETTINGS_MODULE"] = "bench.kefu_bench_settings"
        self.dbname = dbname

    def ticket_count(self) -> int:
        with psycopg.connect(pg_url(self.dbname), autocommit=True) as conn:
            return kefu_tickets.ticket_count(conn)

    def prepare(self, n: int) -> None:
        self.stack.prepare()
        have = self.ticket_count()
        if have == n:
            log(f"{self.name}: reusing {have:,} seeded tickets in {self.dbname}")
            return
        with psycopg.connect(pg_url(self.dbname), autocommit=True) as conn:
            kefu_tickets.seed(conn, n, log)

    def serve(self, port: int) -> Any:
        return self.stack.serve(port)

    def login(self, session: requests.Session, base_url: str) -> None:
        django_form_login(session, base_url + "/accounts/login/", "supervisor", "kefu-demo")

    def probes(self, session: requests.Session, base_url: str, n: int) -> list[Probe]:
        """The "All" tab as the supervisor, newest first, 50 rows a page (Kefu's page size;
        helpdesk's DataTables asks for 25). Deep pages use the list's own keyset cursor
        (`after=<id>`: rows with a smaller id): the cursor of the row at 90 % depth is read
        from SQL, so the depth is the same as helpdesk's `start` = 90 %; the page-2 probe
        follows the "Older" link of the first page, as a user would."""
        first = session.get(base_url + "/tickets/?tab=all", timeout=60)
        first.raise_for_status()
        found = re.search(r'href="(\?[^"]*after=\d+[^"]*)"', first.text)
        if not found:
            raise SystemExit("Kefu: no 'Older' link on the first page of /tickets/?tab=all")
        older = "/tickets/" + html.unescape(found.group(1))
        open_statuses = ["new", "waiting_hours", "assigned", "in_progress", "on_hold"]
        with psycopg.connect(pg_url(self.dbname)) as conn:

            def cursor_at(where: str, params: list[Any], depth: int) -> int:
                row = conn.execute(
                    f"SELECT id FROM tickets_ticket {where} ORDER BY id DESC OFFSET %s LIMIT 1",
                    [*params, max(0, depth - 1)],
                ).fetchone()
                assert row is not None
                return int(row[0])

            total = kefu_tickets.ticket_count(conn)
            deep = cursor_at("", [], int(total * 0.9))
            open_total_row = conn.execute(
                "SELECT count(*) FROM tickets_ticket WHERE status = ANY(%s)", [open_statuses]
            ).fetchone()
            open_total = int(open_total_row[0]) if open_total_row else 0
            open_depth = int(open_total * 0.9)
            deep_open = cursor_at("WHERE status = ANY(%s)", [open_statuses], open_depth)
            group_row = conn.execute(
                "SELECT id FROM agents_skillgroup WHERE name = 'Complaints' AND shop_id IS NULL"
            ).fetchone()
            group_id = int(group_row[0]) if group_row else 0
            median = cursor_at("", [], total // 2)
        return [
            Probe("list first page (HTML, tab=all)", "/tickets/?tab=all"),
            Probe("list page 2 (HTML, the first page's Older link)", older),
            Probe(
                f"list deep page (HTML, tab=all, after the row at 90 %: {int(total * 0.9):,}"
                f" of {total:,})",
                f"/tickets/?tab=all&after={deep}",
            ),
            Probe(
                f"list deep page, open only (HTML, status=open, 90 %: {open_depth:,} of"
                f" {open_total:,}; helpdesk's default list is open + reopened)",
                f"/tickets/?tab=all&status=open&after={deep_open}",
            ),
            Probe(
                "list filtered page (HTML, status=in_progress & group=Complaints & priority=high)",
                f"/tickets/?tab=all&status=in_progress&group={group_id}&priority=high",
            ),
            Probe("ticket page", f"/tickets/{median}/"),
        ]
