"""Ticket list benchmark: Kefu's /tickets/ against django-helpdesk at the same ticket count.

    .venv/bin/python bench/tickets_list.py                  # helpdesk baseline + SQL facts
    .venv/bin/python bench/tickets_list.py --targets sql    # only the pure-Postgres facts
    .venv/bin/python bench/tickets_list.py --tickets 100000 --requests 20

Each target seeds its own Postgres database to N tickets with set-based SQL (reused on the
next run when the count already matches), starts a real server process on 127.0.0.1, logs
in as a staff user over HTTP and times whole requests (first page, a deep page, a filtered
page, a ticket page) from the client: p50/p95/p99, queries per request and the server's peak
RSS. Results go to stdout as a side-by-side table and to var/bench/tickets-<date>.json.

Targets plug in by subclassing `Target` (see bench/README.md). django-helpdesk runs from its
own virtualenv (var/bench/helpdesk-venv, pinned in bench/helpdesk-requirements.txt) and a
generated project (var/bench/.helpdesk-project); it is never imported into Kefu.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import textwrap
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests
from common import (
    ROOT,
    VAR,
    RssSampler,
    free_port,
    machine_line,
    server_process,
    summary_ms,
    table,
)

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
PER_PAGE = 25


def pg_url(dbname: str) -> str:
    return f"{PG_ADMIN_URL.rstrip('/')}/{dbname}"


def ensure_database(dbname: str) -> None:
    with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- The target interface ------------------------------------------------------------


@dataclass
class Probe:
    """One kind of request to time: a label, a path, and how to read the answer."""

    label: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expect_json: bool = False


@dataclass
class ProbeResult:
    label: str
    path: str
    timings_s: list[float]
    queries: list[int]
    statuses: list[int]
    note: str = ""

    def row(self) -> dict[str, Any]:
        s = summary_ms(self.timings_s)
        q = sorted(self.queries)
        return {
            "label": self.label,
            "path": self.path,
            **s,
            "queries": (q[len(q) // 2] if q else None),
            "queries_min": (q[0] if q else None),
            "queries_max": (q[-1] if q else None),
            "statuses": sorted(set(self.statuses)),
            "note": self.note,
        }


class Target(ABC):
    """A system under test. The runner calls, in order:

    prepare(n)      -> create the virtualenv/DB, migrate, seed to n tickets (idempotent)
    serve(port)     -> context manager: a running server process on 127.0.0.1:port
    login(session, base_url) -> a logged-in staff requests.Session
    probes(session, base_url, n) -> the list of Probe to time (first, deep, filtered, detail)
    """

    name: str = "?"
    server_desc: str = "?"

    @abstractmethod
    def prepare(self, n: int) -> None: ...

    @abstractmethod
    def serve(self, port: int) -> Any: ...

    @abstractmethod
    def login(self, session: requests.Session, base_url: str) -> None: ...

    @abstractmethod
    def probes(self, session: requests.Session, base_url: str, n: int) -> list[Probe]: ...


def django_form_login(
    session: requests.Session, login_url: str, username: str, password: str
) -> None:
    """Log in through a Django login form like a browser: GET for the CSRF cookie, POST."""
    r = session.get(login_url, timeout=60)
    r.raise_for_status()
    token = session.cookies.get("csrftoken")
    if not token:
        raise SystemExit(f"no csrftoken cookie from {login_url}")
    r = session.post(
        login_url,
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": login_url},
        allow_redirects=False,
        timeout=60,
    )
    if r.status_code != 302 or "sessionid" not in session.cookies:
        raise SystemExit(f"login at {login_url} failed: HTTP {r.status_code}")


# --- django-helpdesk -------------------------------------------------------------------

HELPDESK_VENV = VAR / "helpdesk-venv"
# A dot directory: mypy (run by `make test` over the whole tree) skips it, so the
# generated project never meets Kefu's type checking.
HELPDESK_PROJECT = VAR / ".helpdesk-project"
HELPDESK_REQS = Path(__file__).with_name("helpdesk-requirements.txt")
HELPDESK_USER = "benchstaff"
HELPDESK_PASSWORD = "bench-staff-password"  # a throwaway benchmark database

HELPDESK_SETTINGS = """\
# Generated by bench/tickets_list.py: a minimal production-like django-helpdesk project.
SECRET_KEY = "bench-only-" + "x" * 50
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
SITE_ID = 1
MIDDLEWARE = [
    "hdbench.querycount.QueryCountMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "hdbench.urls"
WSGI_APPLICATION = "hdbench.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.debug",
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": %(dbname)r, "USER": "postgres", "HOST": "127.0.0.1", "PORT": 5432,
    "CONN_MAX_AGE": 60,
}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
STATIC_ROOT = %(static_root)r
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/helpdesk/"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HELPDESK_TEAMS_MODE_ENABLED = False
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
"""

HELPDESK_URLS = """\
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="helpdesk/registration/login.html"),
        name="login",
    ),
    path("helpdesk/", include("helpdesk.urls", namespace="helpdesk")),
]
"""

HELPDESK_WSGI = """\
import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdbench.settings")
application = get_wsgi_application()
"""

# Counts every SQL statement of a request with Django's execute_wrapper (works with
# DEBUG = False, unlike connection.queries) and reports it in a response header.
HELPDESK_QUERYCOUNT = """\
import time
from django.db import connections


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = [0]

        def counter(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        conn = connections["default"]
        with conn.execute_wrapper(counter):
            response = self.get_response(request)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        response["X-Bench-Queries"] = str(count[0])
        response["X-Bench-Server-Ms"] = "%.1f" % ((time.perf_counter() - started) * 1000)
        return response
"""

HELPDESK_MANAGE = """\
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdbench.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""

# Statuses: 1 open, 2 reopened, 3 resolved, 4 closed, 5 duplicate. Priorities 1..5.
HELPDESK_SEED_SQL = """
INSERT INTO helpdesk_queue (title, slug, email_address, locale, allow_public_submission,
    allow_email_submission, escalate_days, new_ticket_cc, updated_ticket_cc,
    enable_notifications_on_email_events, email_box_type, email_box_host, email_box_port,
    email_box_ssl, email_box_user, email_box_pass, email_box_imap_folder,
    email_box_local_dir, permission_name, email_box_interval, email_box_last_check,
    socks_proxy_type, socks_proxy_host, socks_proxy_port, logging_type, logging_dir,
    default_owner_id, dedicated_time)
SELECT 'Queue ' || q, 'queue-' || q, 'queue' || q || '@example.com', 'en', false, false,
    NULL, '', '', false, NULL, NULL, NULL, false, NULL, NULL, NULL, NULL,
    'helpdesk.queue_access_queue-' || q, 5, NULL, NULL, NULL, NULL, 'none', NULL, NULL, NULL
FROM generate_series(1, %(queues)s) AS q;

INSERT INTO helpdesk_ticket (title, queue_id, created, modified, submitter_email,
    assigned_to_id, status, on_hold, description, resolution, priority, due_date,
    last_escalation, secret_key, kbitem_id, merged_to_id)
SELECT
    'Order ' || (100000 + g) || ': parcel not delivered yet',
    (SELECT min(id) FROM helpdesk_queue) + abs(hashint4(g)) %% %(queues)s,
    now() - make_interval(secs => (%(n)s - g) * 60),
    now() - make_interval(secs => (%(n)s - g) * 60),
    'customer' || (g %% 50000) || '@example.com',
    CASE WHEN g %% 10 = 0 THEN NULL
         ELSE (SELECT min(id) FROM auth_user WHERE username LIKE 'agent%%')
              + abs(hashint4(g + 1)) %% %(staff)s END,
    (ARRAY[1,1,1,2,3,3,4,4,4,4])[1 + abs(hashint4(g + 2)) %% 10],
    false,
    'The customer writes that the parcel for order ' || (100000 + g) ||
        ' has not arrived. Tracking shows it left the warehouse.',
    NULL,
    1 + abs(hashint4(g + 3)) %% 5,
    NULL, NULL,
    md5(g::text),
    NULL, NULL
FROM generate_series(1, %(n)s) AS g;

INSERT INTO helpdesk_followup (ticket_id, date, title, comment, public, user_id,
    new_status, message_id, time_spent, email_recipients)
SELECT t.id, t.created, 'Ticket Opened', t.description, true, NULL, NULL, NULL, NULL, NULL
FROM helpdesk_ticket t;
"""


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


# --- Kefu ---------------------------------------------------------------------------------


class KefuTarget(Target):
    """Kefu's /tickets/ list under production settings (see bench/README.md, "Kefu target").

    What does not depend on the ticket schema is written: a Postgres database of its own,
    `migrate` with config.settings.production, the demo users through `seed_demo`, the
    server exactly as the Procfile runs it (uvicorn, one worker here) and a login through
    /accounts/login/. Seeding N tickets and the list URLs depend on the tickets app that
    is being written in another branch: `seed_sql` and `probes` raise until it lands.
    """

    name = "Kefu"
    server_desc = "uvicorn 1 worker (ASGI, config.asgi), production settings"

    def __init__(self, dbname: str, redis_url: str) -> None:
        self.dbname = dbname
        self.redis_url = redis_url
        self.python = ROOT / ".venv" / "bin" / "python"
        secret = VAR / "kefu-secret-key"
        if not secret.exists():
            secret.parent.mkdir(parents=True, exist_ok=True)
            secret.write_text(base64.urlsafe_b64encode(os.urandom(48)).decode())
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": pg_url(self.dbname),
            "REDIS_URL": self.redis_url,
            "DJANGO_SECRET_KEY_FILE": str(secret),
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_SECURE_HSTS_SECONDS": "0",
            "KEFU_LOG_LEVEL": "WARNING",
        }

    def _manage(self, *args: str) -> None:
        subprocess.run([str(self.python), "manage.py", *args], env=self.env, cwd=ROOT, check=True)

    def seed_sql(self, n: int) -> str:
        """SQL that brings the tickets table to exactly n rows. TODO with the tickets app."""
        raise NotImplementedError(
            "KefuTarget.seed_sql: write the INSERT ... SELECT generate_series for Kefu's "
            "tickets table once the tickets app is merged (see bench/README.md)"
        )

    def ticket_count(self) -> int:
        raise NotImplementedError("KefuTarget.ticket_count: needs the tickets table name")

    def prepare(self, n: int) -> None:
        ensure_database(self.dbname)
        self._manage("migrate", "--no-input", "-v", "0")
        self._manage("seed_demo")
        if self.ticket_count() != n:
            with psycopg.connect(pg_url(self.dbname), autocommit=True) as conn:
                conn.execute(self.seed_sql(n))  # type: ignore[arg-type]
                conn.execute("VACUUM ANALYZE")

    def serve(self, port: int) -> Any:
        cmd = [
            str(ROOT / ".venv" / "bin" / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--no-access-log",
        ]
        return server_process(cmd, port=port, env=self.env, cwd=ROOT, log=VAR / "kefu-server.log")

    def login(self, session: requests.Session, base_url: str) -> None:
        django_form_login(session, base_url + "/accounts/login/", "supervisor", "kefu-demo")

    def probes(self, session: requests.Session, base_url: str, n: int) -> list[Probe]:
        raise NotImplementedError(
            "KefuTarget.probes: /tickets/ first page, the deep page reached through its "
            "keyset cursor, a filtered page and a ticket page (see bench/README.md)"
        )


# --- Runner -------------------------------------------------------------------------------


def time_probe(
    session: requests.Session,
    base_url: str,
    probe: Probe,
    *,
    requests_n: int,
    warmup: int,
    budget_s: float,
) -> ProbeResult:
    result = ProbeResult(probe.label, probe.path, [], [], [])
    deadline = time.monotonic() + budget_s
    for i in range(warmup + requests_n):
        started = time.perf_counter()
        r = session.get(base_url + probe.path, headers=probe.headers, timeout=300)
        body = r.content  # the whole body, read: "request to rendered page"
        if probe.expect_json:
            json.loads(body)
        elapsed = time.perf_counter() - started
        if i >= warmup:
            result.timings_s.append(elapsed)
            result.statuses.append(r.status_code)
            if "X-Bench-Queries" in r.headers:
                result.queries.append(int(r.headers["X-Bench-Queries"]))
        if r.status_code != 200:
            result.note = f"HTTP {r.status_code}"
        if time.monotonic() > deadline and i >= warmup and i + 1 < warmup + requests_n:
            result.note = (result.note + " " if result.note else "") + (
                f"time budget {budget_s:.0f} s reached after {len(result.timings_s)} requests"
            )
            break
    return result


def run_target(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    target.prepare(args.tickets)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log(f"{target.name}: starting server on {base_url} ({target.server_desc})")
    with target.serve(port) as proc:
        rss = RssSampler(proc.pid).start()
        session = requests.Session()
        target.login(session, base_url)
        probes = target.probes(session, base_url, args.tickets)
        results = []
        for probe in probes:
            log(f"{target.name}: {probe.label}: {args.requests} requests, {args.warmup} warm-up")
            res = time_probe(
                session,
                base_url,
                probe,
                requests_n=args.requests,
                warmup=args.warmup,
                budget_s=args.budget,
            )
            results.append(res.row())
            log(
                f"  p50 {results[-1]['p50']:.1f} ms, p95 {results[-1]['p95']:.1f} ms, "
                f"queries {results[-1]['queries']}"
            )
        if args.dashboard and isinstance(target, HelpdeskTarget):
            for probe in target.extra_probes():
                log(f"{target.name}: {probe.label}: {args.dashboard} requests, no warm-up")
                res = time_probe(
                    session,
                    base_url,
                    probe,
                    requests_n=args.dashboard,
                    warmup=0,
                    budget_s=args.budget,
                )
                results.append(res.row())
                log(f"  p50 {results[-1]['p50']:.1f} ms, queries {results[-1]['queries']}")
        rss.stop()
    return {
        "target": target.name,
        "server": target.server_desc,
        "tickets": args.tickets,
        "probes": results,
        "server_peak_rss_mb": round(rss.peak_process_mb, 1),
        "server_peak_tree_rss_mb": round(rss.peak_tree_mb, 1),
    }


# --- Pure-Postgres facts ------------------------------------------------------------------

SQL_SETUP = """
DROP TABLE IF EXISTS bench_ticket_v2;
DROP TABLE IF EXISTS bench_ticket;
CREATE TABLE bench_ticket_v2 (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL,
    status smallint NOT NULL,
    group_id integer NOT NULL,
    priority smallint NOT NULL,
    assignee_id integer,
    title text NOT NULL,
    description text NOT NULL
);
-- Rows about as wide as a real ticket (title + a few hundred bytes of text), inserted in
-- creation order like a real table; status and group independent of each other.
INSERT INTO bench_ticket_v2 (id, created_at, status, group_id, priority, assignee_id, title,
    description)
SELECT g, now() - make_interval(secs => (%(n)s - g) * 60 + (g %% 7)),
       abs(hashint4(g)) %% 5, abs(hashint4(g + 17)) %% 200, 1 + abs(hashint4(g + 5)) %% 5,
       NULLIF(abs(hashint4(g + 3)) %% 300, 0),
       'Order ' || (100000 + g) || ': parcel not delivered yet',
       repeat('The customer writes that the parcel has not arrived. ', 5) || g
FROM generate_series(1, %(n)s) AS g;
CREATE INDEX bench_ticket_v2_created_id ON bench_ticket_v2 (created_at DESC, id DESC);
CREATE INDEX bench_ticket_v2_status_group ON bench_ticket_v2 (status, group_id);
VACUUM ANALYZE bench_ticket_v2
"""


def sql_facts(dbname: str, n: int, repeats: int) -> dict[str, Any]:
    """The issue's SQL facts, on a synthetic 1M-row table: pagination and counting."""
    ensure_database(dbname)
    with psycopg.connect(pg_url(dbname), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname = 'bench_ticket_v2'"
        ).fetchone()
        have = 0
        if row and row[0]:
            have_row = conn.execute("SELECT count(*) FROM bench_ticket_v2").fetchone()
            have = have_row[0] if have_row else 0
        if have != n:
            log(f"SQL facts: building bench_ticket_v2 with {n:,} rows in {dbname}")
            started = time.monotonic()
            for statement in SQL_SETUP.split(";\n"):
                if statement.strip():
                    conn.execute(statement % {"n": n})  # type: ignore[arg-type]
            log(f"SQL facts: built in {time.monotonic() - started:.0f} s")
        else:
            conn.execute("VACUUM ANALYZE bench_ticket_v2")

        def timed(sql: str, params: list[Any]) -> list[float]:
            out = []
            conn.execute(sql, params).fetchall()  # warm-up
            for _ in range(repeats):
                t0 = time.perf_counter()
                conn.execute(sql, params).fetchall()
                out.append(time.perf_counter() - t0)
            return out

        cols = "id, created_at, status, group_id, priority, title"
        order = "ORDER BY created_at DESC, id DESC"
        rows: list[dict[str, Any]] = []
        for frac in (0.0, 0.5, 0.9, 0.99):
            offset = int(n * frac)
            cursor = conn.execute(
                f"SELECT created_at, id FROM bench_ticket_v2 {order} OFFSET %s LIMIT 1",
                [max(0, offset - 1)],
            ).fetchone()
            assert cursor is not None
            c_at, c_id = cursor
            depth = f"{int(frac * 100)}%"
            rows.append(
                {
                    "query": f"OFFSET {offset:,} LIMIT {PER_PAGE}",
                    "depth": depth,
                    **summary_ms(
                        timed(
                            f"SELECT {cols} FROM bench_ticket_v2 {order} OFFSET %s LIMIT %s",
                            [offset, PER_PAGE],
                        )
                    ),
                }
            )
            rows.append(
                {
                    "query": "keyset row comparison (created_at, id) < (%s, %s)",
                    "depth": depth,
                    **summary_ms(
                        timed(
                            f"SELECT {cols} FROM bench_ticket_v2 WHERE (created_at, id) < (%s, %s) "
                            f"{order} LIMIT %s",
                            [c_at, c_id, PER_PAGE],
                        )
                    ),
                }
            )
            rows.append(
                {
                    "query": "keyset as Q(lt) | Q(eq, id__lt)",
                    "depth": depth,
                    **summary_ms(
                        timed(
                            f"SELECT {cols} FROM bench_ticket_v2 WHERE created_at < %s "
                            f"OR (created_at = %s AND id < %s) {order} LIMIT %s",
                            [c_at, c_at, c_id, PER_PAGE],
                        )
                    ),
                }
            )
        rows.append(
            {
                "query": "SELECT count(*) FROM bench_ticket_v2",
                "depth": "all",
                **summary_ms(timed("SELECT count(*) FROM bench_ticket_v2", [])),
            }
        )
        fcount = conn.execute(
            "SELECT count(*) FROM bench_ticket_v2 WHERE status = 1 AND group_id = 7"
        ).fetchone()
        matching = fcount[0] if fcount else 0
        rows.append(
            {
                "query": f"count(*) WHERE status=1 AND group_id=7 ({matching:,} rows)",
                "depth": "filter",
                **summary_ms(
                    timed(
                        "SELECT count(*) FROM bench_ticket_v2 WHERE status = %s AND group_id = %s",
                        [1, 7],
                    )
                ),
            }
        )
        plan = conn.execute(
            "EXPLAIN SELECT count(*) FROM bench_ticket_v2 WHERE status = 1 AND group_id = 7"
        ).fetchall()
        version = conn.execute("SHOW server_version").fetchone()
    return {
        "rows": n,
        "repeats": repeats,
        "postgres": version[0] if version else "?",
        "filtered_count_plan": [p[0] for p in plan],
        "results": rows,
    }


# --- Main ---------------------------------------------------------------------------------


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tickets", type=int, default=1_000_000, help="tickets to seed (N)")
    p.add_argument("--requests", type=int, default=50, help="timed requests per probe (R)")
    p.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    p.add_argument("--budget", type=float, default=240, help="max seconds per probe (stops early)")
    p.add_argument(
        "--dashboard",
        type=int,
        default=3,
        help="requests to helpdesk's dashboard (slow at 1M; 0 skips it)",
    )
    p.add_argument(
        "--targets",
        default="helpdesk,sql",
        help="comma-separated: helpdesk, kefu, sql (kefu: see README, needs the tickets app)",
    )
    p.add_argument("--sql-rows", type=int, default=1_000_000)
    p.add_argument("--sql-repeats", type=int, default=20)
    p.add_argument("--helpdesk-db", default="helpdesk_bench_1m")
    p.add_argument("--kefu-db", default="kefu_bench_ticket_v2s")
    p.add_argument("--sql-db", default="kefu_bench_sql")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    args = p.parse_args()
    wanted = {t.strip() for t in args.targets.split(",") if t.strip()}
    unknown = wanted - {"helpdesk", "kefu", "sql"}
    if unknown:
        p.error(f"unknown targets: {', '.join(sorted(unknown))}")

    started = time.monotonic()
    report: dict[str, Any] = {"machine": machine_line(), "args": vars(args), "targets": []}
    log(report["machine"])
    if "sql" in wanted:
        report["sql"] = sql_facts(args.sql_db, args.sql_rows, args.sql_repeats)
    targets: list[Target] = []
    if "helpdesk" in wanted:
        targets.append(HelpdeskTarget(args.helpdesk_db))
    if "kefu" in wanted:
        targets.append(KefuTarget(args.kefu_db, args.redis_url))
    for target in targets:
        report["targets"].append(run_target(target, args))
    report["elapsed_s"] = round(time.monotonic() - started)

    VAR.mkdir(parents=True, exist_ok=True)
    out = VAR / f"tickets-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print()
    print(render(report))
    print(f"\nraw results: {out}")


def render(report: dict[str, Any]) -> str:
    parts = [f"Machine: {report['machine']}"]
    if report["targets"]:
        labels: list[str] = []
        for t in report["targets"]:
            for pr in t["probes"]:
                key = pr["label"].split(" (")[0]
                if key not in labels:
                    labels.append(key)
        headers = ["probe"]
        for t in report["targets"]:
            headers += [f"{t['target']} p50 ms", "p95", "p99", "queries"]
        rows = []
        for key in labels:
            row: list[object] = [key]
            for t in report["targets"]:
                pr = next((x for x in t["probes"] if x["label"].split(" (")[0] == key), None)
                if pr:
                    q = pr["queries"]
                    if q is not None and pr["queries_min"] != pr["queries_max"]:
                        q = f"{pr['queries_min']}-{pr['queries_max']}"
                    row += [pr["p50"], pr["p95"], pr["p99"], q if q is not None else "-"]
                else:
                    row += ["-", "-", "-", "-"]
            rows.append(row)
        rss: list[object] = ["server peak RSS (MB)"]
        for t in report["targets"]:
            rss += [t["server_peak_rss_mb"], "", "", ""]
        rows.append(rss)
        parts.append(f"\nTicket list, end to end over HTTP, {report['args']['tickets']:,} tickets:")
        parts.append(table(headers, rows))
        for t in report["targets"]:
            parts.append(f"- {t['target']}: {t['server']}")
            for pr in t["probes"]:
                extra = f" [{pr['note']}]" if pr["note"] else ""
                parts.append(f"  - {pr['label']}: n={int(pr['n'])}{extra}  GET {pr['path'][:90]}")
    if "sql" in report:
        sql = report["sql"]
        parts.append(
            f"\nPure Postgres ({sql['postgres']}), synthetic table of {sql['rows']:,} rows, "
            f"{sql['repeats']} runs each, client-side ms:"
        )
        parts.append(
            table(
                ["query", "depth", "p50", "p95", "max"],
                [[r["query"], r["depth"], r["p50"], r["p95"], r["max"]] for r in sql["results"]],
            )
        )
        parts.append("filtered count plan: " + " / ".join(sql["filtered_count_plan"]))
    return "\n".join(parts)


if __name__ == "__main__":
    main()
