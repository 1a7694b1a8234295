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
import time
from typing import Any

from common import log, machine_line, parse_port_range, save_report
from ticketbench.helpdesk import HelpdeskTarget
from ticketbench.kefu import KefuTarget
from ticketbench.report import render
from ticketbench.runner import run_target
from ticketbench.sql_facts import sql_facts
from ticketbench.target import Target


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
        default="helpdesk,kefu,sql",
        help="comma-separated: helpdesk, kefu, sql",
    )
    p.add_argument("--sql-rows", type=int, default=1_000_000)
    p.add_argument("--sql-repeats", type=int, default=20)
    p.add_argument("--helpdesk-db", default="helpdesk_bench_1m")
    p.add_argument("--kefu-db", default="kefu_bench_tickets")
    p.add_argument("--sql-db", default="kefu_bench_sql")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    p.add_argument(
        "--ports",
        default="",
        help="port range for the servers, e.g. 8600-8699 (default: common.PORT_RANGE)",
    )
    args = p.parse_args()
    args.port_range = parse_port_range(args.ports)
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
        if not KefuTarget.ready:
            p.error(
                "the Kefu target is not plugged in yet: bench/README.md "
                '("Kefu target: what is written, what is TODO") says what to write'
            )
        targets.append(KefuTarget(args.kefu_db, args.redis_url))
    for target in targets:
        report["targets"].append(run_target(target, args))
    report["elapsed_s"] = round(time.monotonic() - started)

    out = save_report("tickets", report)
    print()
    print(render(report))
    print(f"\nraw results: {out}")


if __name__ == "__main__":
    main()
