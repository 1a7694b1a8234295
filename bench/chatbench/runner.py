"""One target end to end: prepare it, serve it, the main run, then the rate stepping (with
retries) and one bisection step to find the highest rate it sustains."""

from __future__ import annotations

import argparse
import time
from typing import Any

from common import RssSampler, log, pick_port

from .load import run_load
from .report import brief
from .stats import sustained
from .target import ChatTarget


def settle(target: ChatTarget, args: argparse.Namespace) -> None:
    """Between runs: let the server finish the previous run's disconnects (2N group
    discards) so they do not land in the next run's first seconds, then reset."""
    time.sleep(args.settle)
    target.before_run(args.pairs)


def measure(
    target: ChatTarget,
    base: str,
    rate: float,
    duration: float,
    args: argparse.Namespace,
    server_pid: int,
) -> dict[str, Any]:
    """One run of the load at `rate` for `duration` s, with the target's own counts added."""
    r = run_load(
        target,
        base,
        pairs=args.pairs,
        rate=rate,
        duration=duration,
        args=args,
        server_pid=server_pid,
    )
    if "error" not in r:
        target.after_run(r)
    return r


def run_target(target: ChatTarget, args: argparse.Namespace) -> dict[str, Any]:
    target.prepare()
    port = pick_port(args.port_range)
    base = f"ws://127.0.0.1:{port}"
    log(f"{target.name}: {target.description}; listening on 127.0.0.1:{port}")
    out: dict[str, Any] = {"target": target.name, "description": target.description}
    target.base = base
    with target.serve(port) as proc:
        rss = RssSampler(proc.pid).start()

        def step(rate: float) -> dict[str, Any]:
            """A rate step: quiet and reset, run for --step-duration, the verdict."""
            settle(target, args)
            r = measure(target, base, rate, args.step_duration, args, proc.pid)
            r["sustained"] = sustained(r, args.p99_limit)
            return r

        settle(target, args)
        log(f"{target.name}: {args.pairs} pairs, {args.rate:g} msg/s for {args.duration:g} s")
        main_run = measure(target, base, args.rate, args.duration, args, proc.pid)
        main_run["server_peak_rss_mb"] = round(rss.peak_process_mb, 1)
        out["main"] = main_run
        log(f"  {brief(main_run)}")
        steps: list[dict[str, Any]] = []
        best: float | None = None
        if args.steps:
            rates = [float(x) for x in args.steps.split(",") if x.strip()]
            failed_at: float | None = None
            for rate in rates[: args.max_steps]:
                # A failed step is retried (--step-retries, default once): on a shared
                # machine one burst from another process can fail a 15 s step. Both
                # attempts are reported; the rate counts as held if one attempt held it.
                for attempt in range(1 + args.step_retries):
                    r = step(rate)
                    r["attempt"] = attempt + 1
                    steps.append(r)
                    verdict = "ok" if r["sustained"] else "no"
                    log(f"  step {rate:g} msg/s (try {attempt + 1}): {brief(r)} -> {verdict}")
                    if r["sustained"]:
                        break
                if r["sustained"]:
                    best = rate
                else:
                    failed_at = rate
                    break
            # One bisection step between the last rate that held and the first that did not.
            if best is not None and failed_at is not None and args.bisect:
                mid = round((best + failed_at) / 2, -1)
                if best < mid < failed_at:
                    r = step(mid)
                    steps.append(r)
                    log(f"  step {mid:g} msg/s: {brief(r)} -> {'ok' if r['sustained'] else 'no'}")
                    if r["sustained"]:
                        best = mid
        rss.stop()
        out["steps"] = steps
        out["max_sustained_rate"] = best
        out["server_peak_rss_mb"] = round(rss.peak_process_mb, 1)
    return out
