"""Many idle websockets on one web process: memory, pushes, a restart storm, dead sockets.

    .venv/bin/python bench/ws_idle.py                       # 10,000 sockets, ~5 minutes
    .venv/bin/python bench/ws_idle.py --sockets 2000 --phases push,storm

One uvicorn process serves Kefu (config.asgi:application) with the Procfile's web flags on
127.0.0.1 (a port in 8400-8499), production settings, its own Postgres database and Redis
db. Load generator processes open N sockets: customers (visitor session over HTTP, then
`hello`; some start a conversation) and agents' workbench tabs (signed in through the
login form). Measured, with all N open:

1. server memory per socket (RSS, and USS / PSS from /proc), against the bare Channels echo
   (bench/echo_app.py) under the same flags as the baseline;
2. push latency agent `send` -> the customer's `message` frame, and customer send -> ack;
3. a restart storm: the web process is killed (SIGKILL, or --kill term) and started again
   on the same port; every client reconnects with backoff + jitter as the widget does,
   says hello with its conversation and last seq, resends what was not acked; some
   customers send while it is down, agents send right after. Time from "listening again"
   until every client is back and holds every message the database has; lost / doubled;
4. dead sockets: one load process is SIGSTOPped (its sockets stop answering pings) and
   the server's socket count is watched until uvicorn's ping time-out has dropped them;
   and whether a visitor socket that never says hello is closed by the app.

Targets (issue 11): <= 30 KiB per socket, push p99 <= 20 ms, storm <= 15 s.
Results: a table on stdout; raw numbers in var/bench/ws_idle.json (and a dated copy).
See bench/README.md ("bench/ws_idle.py").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from common import VAR, log, machine_line, parse_port_range, raise_nofile, save_report
from wsidlebench.loadgen import start_loadgens
from wsidlebench.report import render
from wsidlebench.runner import run


def env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name, value


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add = p.add_argument
    add("--sockets", type=int, default=10_000, help="N: idle sockets on the one web process")
    add("--agent-share", type=float, default=0.05, help="share of N that are agent tabs")
    add("--agents", type=int, default=50, help="agents signed in (their tabs share N's agent part)")
    add("--conversations", type=int, default=200,
        help="customers who start a conversation (pushes, storm checks)")  # fmt: skip
    add("--procs", type=int, default=2, help="load generator processes holding the N sockets")
    add("--connect-concurrency", type=int, default=100, help="sockets opening at a time, per proc")
    add("--session-concurrency", type=int, default=8, help="HTTP connections per proc for sessions")
    add("--reuse-visitors", action=argparse.BooleanOptionalAction, default=True,
        help="reuse idle visitors' tokens of an earlier run (setup; never talkers')")  # fmt: skip
    add("--login-threads", type=int, default=4)
    add("--probe-rate", type=float, default=40, help="timed messages/s (pushes, sends)")
    add("--push-rounds", type=int, default=3, help="agent pushes per conversation")
    add("--send-rounds", type=int, default=2, help="customer sends per conversation")
    add("--kill", choices=["kill", "term"], default="kill", help="SIGKILL or SIGTERM the server")
    add("--down-extra", type=float, default=0, help="seconds to stay down before restarting")
    add("--down-senders", type=int, default=20, help="customers sending while it is down")
    add("--after-restart", type=int, default=50, help="agent messages right after the restart")
    add("--storm-timeout", type=float, default=120, help="seconds to wait for every client")
    add("--min-delay", type=float, default=1.0, help="reconnect backoff floor (socket.js: 1 s)")
    add("--max-delay", type=float, default=15.0, help="reconnect backoff cap (socket.js: 15 s)")
    add("--dead-sockets", type=int, default=1000,
        help="customers of the dead-socket test (one more load process, then SIGSTOP)")  # fmt: skip
    add("--no-hello", type=int, default=20, help="visitor sockets that never say hello")
    add("--no-hello-wait", type=float, default=30, help="seconds to watch them")
    add("--settle", type=float, default=5, help="quiet seconds before a memory reading")
    add("--open-timeout", type=float, default=300, help="seconds allowed to open N sockets")
    add("--client-open-timeout", type=float, default=120,
        help="a client's handshake timeout (browsers: none but TCP's, ~2 min)")  # fmt: skip
    add("--budget", type=float, default=720, help="total seconds; later phases are skipped")
    add("--phases", default="echo,push,storm,dead",
        help="what to run besides opening N sockets on Kefu (memory is always read)")  # fmt: skip
    add("--server-nofile", type=int, default=65536, help="open-file limit set in the server")
    add("--client-nofile", type=int, default=65536, help="open-file limit of the load procs")
    add("--server-env", type=env_pair, action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for the Kefu server (e.g. to lift KEFU_RATE_* limits)")  # fmt: skip
    add("--db-threads", type=int, default=4, help="KEFU_CHAT_DB_THREADS")
    add("--kefu-app", default="config.asgi:application",
        help="the ASGI app served (e.g. a wrapper adding diagnostics)")  # fmt: skip
    add("--kefu-app-dir", default="", help="where --kefu-app is imported from")
    add("--redis-url", default="redis://127.0.0.1:6379/5")
    add("--kefu-db", default="kefu_bench_wsidle")
    add("--ports", default="", help="port range for the servers, e.g. 8400-8499 (the default)")
    a = p.parse_args()
    a.port_range = parse_port_range(a.ports)
    a.server_env = dict(a.server_env)
    a.phases = {x.strip() for x in a.phases.split(",") if x.strip()}
    unknown = a.phases - {"echo", "push", "storm", "dead"}
    if unknown:
        p.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return a


def main() -> None:
    a = parse_args()
    nofile = raise_nofile(a.client_nofile)
    per_proc = a.sockets // max(1, a.procs) + 200
    if nofile < per_proc:
        sys.exit(f"open-file limit {nofile} is too low for {per_proc} sockets per load process")
    # Forked before anything else runs: no threads, no event loop yet.
    gens = start_loadgens(max(1, a.procs) + ("dead" in a.phases), a.client_nofile)
    started = time.monotonic()
    report: dict[str, Any] = {"machine": machine_line(), "args": vars(a)}
    log(report["machine"])
    try:
        report.update(asyncio.run(run(a, gens)))
    finally:
        for g in gens:
            g.close()
    report["elapsed_s"] = round(time.monotonic() - started)
    path = save_report("ws_idle", report)
    (VAR / "ws_idle.json").write_text(json.dumps(report, indent=2, default=str))
    print()
    print(render(report))
    print(f"\nraw results: {VAR / 'ws_idle.json'} (and {path.name}), {report['elapsed_s']} s")


if __name__ == "__main__":
    main()
