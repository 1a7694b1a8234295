"""django-helpdesk as a target: its own virtualenv, generated project and database, served
by gunicorn; it is never imported into Kefu."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import time
from typing import Any

import psycopg
import requests
from common import VAR, ensure_database, log, pg_url, server_process

from .helpdesk_project import (
    HELPDESK_MANAGE,
    HELPDESK_PASSWORD,
    HELPDESK_PROJECT,
    HELPDESK_QUERYCOUNT,
    HELPDESK_REQS,
    HELPDESK_SEED_SQL,
    HELPDESK_SETTINGS,
    HELPDESK_URLS,
    HELPDESK_USER,
    HELPDESK_VENV,
    HELPDESK_WSGI,
)
from .target import PER_PAGE, Probe, Target, django_form_login


class HelpdeskTarget(Target):
    name = "django-helpdesk 2.6.1"
    server_desc = "gunicorn 1 sync worker (WSGI), DEBUG=False"

    def __init__(self, dbname: str, queues: int = 20, staff: int = 30) -> None:
        self.dbname = dbname
        self.queues = queues
        self.staff = staff
        self.python = HELPDESK_VENV / "bin" / "python"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "hdbench.settings",
            "PYTHONPATH": str(HELPDESK_PROJECT),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.env.pop("VIRTUAL_ENV", None)

    # -- prepare --
    def _venv(self) -> None:
        pip = HELPDESK_VENV / "bin" / "pip"
        stamp = HELPDESK_VENV / ".bench-installed"
        if stamp.exists() and stamp.read_text() == HELPDESK_REQS.read_text():
            return
        log(f"creating {HELPDESK_VENV} and installing {HELPDESK_REQS.name}")
        if not self.python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(HELPDESK_VENV)], check=True)
        subprocess.run(
            [str(pip), "install", "-q", "--disable-pip-version-check", "-r", str(HELPDESK_REQS)],
            check=True,
        )
        stamp.write_text(HELPDESK_REQS.read_text())

    def _project(self) -> None:
        pkg = HELPDESK_PROJECT / "hdbench"
        pkg.mkdir(parents=True, exist_ok=True)
        files = {
            pkg / "__init__.py": "",
            pkg / "settings.py": HELPDESK_SETTINGS
            % {"dbname": self.dbname, "static_root": str(HELPDESK_PROJECT / "static")},
            pkg / "urls.py": HELPDESK_URLS,
            pkg / "wsgi.py": HELPDESK_WSGI,
            pkg / "querycount.py": HELPDESK_QUERYCOUNT,
            HELPDESK_PROJECT / "manage.py": HELPDESK_MANAGE,
        }
        for path, text in files.items():
            path.write_text(text)

    def _manage(self, *args: str) -> str:
        out = subprocess.run(
            [str(self.python), str(HELPDESK_PROJECT / "manage.py"), *args],
            env=self.env,
            cwd=HELPDESK_PROJECT,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    def prepare(self, n: int) -> None:
        self._venv()
        self._project()
        ensure_database(self.dbname)
        log(f"{self.name}: migrate {self.dbname}")
        self._manage("migrate", "--no-input", "-v", "0")
        with psycopg.connect(pg_url(self.dbname), autocommit=True) as conn:
            count = conn.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()
            have = count[0] if count else 0
            if have == n:
                log(f"{self.name}: reusing {have:,} seeded tickets in {self.dbname}")
            else:
                self._seed(conn, n, have)
        # The staff user whose session the benchmark uses (idempotent, real password hash).
        self._manage(
            "shell",
            "-c",
            textwrap.dedent(f"""
                from django.contrib.auth.models import User
                u, _ = User.objects.get_or_create(username={HELPDESK_USER!r})
                u.is_staff = True
                u.is_superuser = True
                u.set_password({HELPDESK_PASSWORD!r})
                u.save()
            """),
        )

    def _seed(self, conn: psycopg.Connection[Any], n: int, have: int) -> None:
        log(f"{self.name}: seeding {n:,} tickets (found {have:,})")
        started = time.monotonic()
        conn.execute(
            "TRUNCATE helpdesk_followup, helpdesk_ticket, helpdesk_queue RESTART IDENTITY CASCADE"
        )
        conn.execute("DELETE FROM helpdesk_usersettings")
        conn.execute("DELETE FROM auth_user WHERE username LIKE 'agent%'")
        # Staff users the tickets are assigned to.
        conn.execute(
            """
            INSERT INTO auth_user (password, last_login, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined)
            SELECT '!', NULL, false, 'agent' || s, 'Agent', s::text,
                'agent' || s || '@example.com', true, true, now()
            FROM generate_series(1, %s) AS s
            """,
            [self.staff],
        )
        # helpdesk creates these settings rows in a post_save signal; the ticket page needs
        # them for the assignee.
        conn.execute(
            """
            INSERT INTO helpdesk_usersettings (settings_pickled, user_id, email_on_ticket_assign,
                email_on_ticket_change, login_view_ticketlist, tickets_per_page,
                use_email_as_submitter, ticket_respond_layout)
            SELECT NULL, u.id, false, false, true, 25, true, 'default' FROM auth_user u
            WHERE NOT EXISTS (SELECT 1 FROM helpdesk_usersettings s WHERE s.user_id = u.id)
            """
        )
        with conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = off")
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for statement in HELPDESK_SEED_SQL.split(";\n"):
                if statement.strip():
                    conn.execute(statement % {"n": n, "queues": self.queues, "staff": self.staff})
        conn.execute("VACUUM ANALYZE helpdesk_ticket")
        conn.execute("VACUUM ANALYZE helpdesk_followup")
        conn.execute("VACUUM ANALYZE helpdesk_queue")
        log(f"{self.name}: seeded {n:,} tickets in {time.monotonic() - started:.0f} s")

    # -- serve --
    def serve(self, port: int) -> Any:
        cmd = [
            str(HELPDESK_VENV / "bin" / "gunicorn"),
            "hdbench.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ]
        return server_process(
            cmd, port=port, env=self.env, cwd=HELPDESK_PROJECT, log=VAR / "helpdesk-server.log"
        )

    def login(self, session: requests.Session, base_url: str) -> None:
        django_form_login(session, base_url + "/accounts/login/", HELPDESK_USER, HELPDESK_PASSWORD)

    # -- probes --
    @staticmethod
    def _b64(query: dict[str, Any]) -> str:
        return base64.b64encode(json.dumps(query).encode()).decode()

    def _datatables(self, query: dict[str, Any], start: int) -> str:
        # The parameters the list page's DataTables sends: newest first (column 5 = created).
        return (
            f"/helpdesk/datatables_ticket_list/{self._b64(query)}"
            f"?draw=1&start={start}&length={PER_PAGE}&order[0][column]=5&order[0][dir]=desc"
            "&search[value]="
        )

    def probes(self, session: requests.Session, base_url: str, n: int) -> list[Probe]:
        # The list page's default query: open and reopened tickets, sorted by creation.
        default = {
            "filtering": {"status__in": [1, 2]},
            "sorting": "created",
            "search_string": "",
            "sortreverse": False,
        }
        first = session.get(base_url + self._datatables(default, 0), timeout=300)
        first.raise_for_status()
        total = int(first.json()["recordsFiltered"])
        deep_start = (int(total * 0.9) // PER_PAGE) * PER_PAGE
        filtered = {
            "filtering": {"status__in": [1], "queue__id__in": [3], "priority__in": [2]},
            "filtering_null": {},
            "sorting": "created",
            "search_string": "",
            "sortreverse": False,
        }
        with psycopg.connect(pg_url(self.dbname)) as conn:
            row = conn.execute(
                "SELECT id FROM helpdesk_ticket ORDER BY id OFFSET %s LIMIT 1", [n // 2]
            ).fetchone()
        ticket_id = row[0] if row else 1
        return [
            Probe("list first page (JSON)", self._datatables(default, 0), expect_json=True),
            Probe(
                f"list deep page (JSON, offset {deep_start:,} of {total:,})",
                self._datatables(default, deep_start),
                expect_json=True,
            ),
            Probe("list filtered page (JSON)", self._datatables(filtered, 0), expect_json=True),
            Probe("ticket page", f"/helpdesk/tickets/{ticket_id}/"),
        ]

    def extra_probes(self) -> list[Probe]:
        return [Probe("dashboard", "/helpdesk/dashboard/")]
