"""One target end to end: prepare (seed) it, serve it, log in, time every probe."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import requests
from common import RssSampler, log, pick_port

from .target import Probe, ProbeResult, Target


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
    port = pick_port(args.port_range)
    base_url = f"http://127.0.0.1:{port}"
    log(f"{target.name}: starting server on {base_url} ({target.server_desc})")
    with target.serve(port) as proc:
        rss = RssSampler(proc.pid).start()
        session = requests.Session()
        target.login(session, base_url)
        probes = target.probes(session, base_url, args.tickets)
        results: list[dict[str, Any]] = []

        def timed(probe: Probe, requests_n: int, warmup: int) -> dict[str, Any]:
            res = time_probe(
                session,
                base_url,
                probe,
                requests_n=requests_n,
                warmup=warmup,
                budget_s=args.budget,
            )
            results.append(res.row())
            return results[-1]

        for probe in probes:
            log(f"{target.name}: {probe.label}: {args.requests} requests, {args.warmup} warm-up")
            row = timed(probe, args.requests, args.warmup)
            log(f"  p50 {row['p50']:.1f} ms, p95 {row['p95']:.1f} ms, queries {row['queries']}")
        if args.dashboard:
            for probe in target.extra_probes():
                log(f"{target.name}: {probe.label}: {args.dashboard} requests, no warm-up")
                row = timed(probe, args.dashboard, 0)
                log(f"  p50 {row['p50']:.1f} ms, queries {row['queries']}")
        rss.stop()
    return {
        "target": target.name,
        "server": target.server_desc,
        "tickets": args.tickets,
        "probes": results,
        "server_peak_rss_mb": round(rss.peak_process_mb, 1),
        "server_peak_tree_rss_mb": round(rss.peak_tree_mb, 1),
    }
