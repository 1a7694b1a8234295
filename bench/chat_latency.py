"""Chat latency benchmark: customer send -> agent receive over real websockets.

    .venv/bin/python bench/chat_latency.py                    # echo floor, both layers
    .venv/bin/python bench/chat_latency.py --layers pubsub --pairs 200 --duration 10

One command starts the server (uvicorn on 127.0.0.1, port 8400-8499) for each target,
opens N customer+agent websocket pairs (one conversation per pair) from one or more load
generator processes, sends messages at a fixed total rate for a fixed time, round-robin
over the conversations, then waits a bounded drain time. Each message carries a unique id
and its send time. It reports end-to-end latency (customer send -> agent receive)
p50/p95/p99, achieved messages/s, lost and duplicated messages, the load generator's own
lag and the server's peak RSS; then it steps the rate up (bounded steps) to find the
highest rate sustained with p99 <= --p99-limit, no loss and >= 95 % of the offered rate.

Targets:
  echo-pubsub  bench/echo_app.py with RedisPubSubChannelLayer  (the floor)
  echo-core    bench/echo_app.py with RedisChannelLayer
  kefu         config.asgi:application: see bench/README.md ("Kefu chat target") for the
               adapter that plugs it in; not implemented until the chat consumers land.

Results: a table on stdout and var/bench/chat-<date>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from chatbench.echo import EchoTarget
from chatbench.kefu import KefuChatTarget
from chatbench.report import render
from chatbench.runner import run_target
from chatbench.target import ChatTarget
from common import log, machine_line, parse_port_range, raise_nofile, save_report


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--targets", default="echo-pubsub,kefu", help="echo-pubsub,echo-core,kefu")
    p.add_argument("--pairs", type=int, default=1000, help="concurrent conversations (N)")
    p.add_argument("--rate", type=float, default=300, help="total messages/s offered")
    p.add_argument("--duration", type=float, default=30, help="seconds of sending")
    p.add_argument("--drain", type=float, default=10, help="max seconds to wait for stragglers")
    p.add_argument("--procs", type=int, default=1, help="load generator processes")
    p.add_argument("--connect-concurrency", type=int, default=100)
    p.add_argument(
        "--steps",
        default="200,300,500,800,1200,1600,2000,2500,3000",
        help="rates tried in order to find the highest sustained one ('' skips)",
    )
    p.add_argument("--max-steps", type=int, default=9)
    p.add_argument("--step-duration", type=float, default=15)
    p.add_argument("--settle", type=float, default=3, help="seconds of quiet between runs")
    p.add_argument("--step-retries", type=int, default=1, help="retries of a failed step")
    p.add_argument("--bisect", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--p99-limit", type=float, default=100, help="ms, for the stepping")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    p.add_argument("--kefu-db", default="kefu_bench_chat")
    p.add_argument("--kefu-redis-url", default="redis://127.0.0.1:6379/6")
    p.add_argument(
        "--ports",
        default="",
        help="port range for the servers, e.g. 8700-8799 (default: common.PORT_RANGE)",
    )
    p.add_argument(
        "--setup-budget",
        type=float,
        default=180,
        help="seconds allowed for opening the pairs (Kefu at 1,000 pairs needs more)",
    )
    p.add_argument("--kefu-workers", type=int, default=2, help="uvicorn --workers for kefu")
    p.add_argument("--kefu-agents", type=int, default=20, help="agents seeded for kefu")
    p.add_argument("--kefu-capacity", type=int, default=50, help="conversations per agent")
    p.add_argument("--kefu-db-threads", type=int, default=4, help="KEFU_CHAT_DB_THREADS")
    p.add_argument("--redis-max-connections", type=int, default=1000)
    p.add_argument(
        "--ws-ping", type=float, default=20, help="uvicorn --ws-ping-interval (its default: 20)"
    )
    p.add_argument("--capacity", type=int, default=100, help="RedisChannelLayer capacity")
    args = p.parse_args()
    args.port_range = parse_port_range(args.ports)

    nofile = raise_nofile(65536)  # inherited by the server and the load processes
    if nofile < 2 * args.pairs + 100:
        sys.exit(f"open-file limit {nofile} is too low for {args.pairs} pairs")
    started = time.monotonic()
    report: dict[str, Any] = {"machine": machine_line(), "args": vars(args), "targets": []}
    log(report["machine"])
    targets: list[ChatTarget] = []
    for name in [t.strip() for t in args.targets.split(",") if t.strip()]:
        if name in ("echo-pubsub", "echo-core"):
            targets.append(
                EchoTarget(
                    name.split("-")[1],
                    args.redis_url,
                    args.redis_max_connections,
                    args.capacity,
                    args.ws_ping,
                )
            )
        elif name == "kefu":
            if not KefuChatTarget.ready:
                p.error(
                    "the Kefu chat target is not plugged in yet: bench/README.md "
                    '("Kefu chat target: the adapter contract") says what to write'
                )
            targets.append(
                KefuChatTarget(
                    args.kefu_db,
                    args.kefu_redis_url,
                    args.ws_ping,
                    workers=args.kefu_workers,
                    agents=args.kefu_agents,
                    capacity=args.kefu_capacity,
                    db_threads=args.kefu_db_threads,
                )
            )
        else:
            p.error(f"unknown target {name!r}")
    for target in targets:
        report["targets"].append(run_target(target, args))
    report["elapsed_s"] = round(time.monotonic() - started)
    path = save_report("chat", report)
    print()
    print(render(report))
    print(f"\nraw results: {path} ({report['elapsed_s']} s)")


if __name__ == "__main__":
    main()
