"""Measurement: the server's CPU time, the load processes' results merged into one run's
figures (latency percentiles, rates, loss, a per-second timeline), and the verdict of a
rate step."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from common import descendants, percentile


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process tree so far (from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in descendants(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def merge_results(
    results: list[dict[str, Any]], *, pairs: int, rate: float, duration: float, send_cpu: float
) -> dict[str, Any]:
    """One run's figures from every load process's result (none of them an error).
    `send_cpu`: the server's CPU seconds from the first send to the last answer (NaN if
    not measured)."""
    lat = [x for r in results for x in r["latencies"]]
    lag = [x for r in results for x in r["lag"]]
    sent = sum(r["sent"] for r in results)
    received = sum(r["received"] for r in results)
    t0 = min(r["t0"] for r in results)
    last = max(r["last_recv"] for r in results) or max(r["send_end"] for r in results)
    send_span = max(r["send_end"] for r in results) - t0
    buckets: dict[int, list[float]] = {}
    for r in results:
        for sent_at, latency in r["timeline"]:
            buckets.setdefault(int(sent_at - t0), []).append(latency * 1000)
    per_second = [
        {
            "second": sec,
            "n": len(v),
            "p50_ms": round(percentile(v, 50), 1),
            "p99_ms": round(percentile(v, 99), 1),
            "max_ms": round(max(v), 1),
        }
        for sec, v in sorted(buckets.items())
    ]
    return {
        "pairs": pairs,
        "offered_rate": rate,
        "server_cpu_s": round(send_cpu, 2) if send_cpu == send_cpu else None,
        "server_cpu_ms_per_msg": (
            round(send_cpu * 1000 / received, 3) if received and send_cpu == send_cpu else None
        ),
        "duration_s": duration,
        "pairs_opened": sum(r["pairs_opened"] for r in results),
        "connect_errors": sum(r["connect_errors"] for r in results),
        "connect_error_samples": [s for r in results for s in r["connect_error_samples"]][:3],
        "connect_s": max(r["connect_s"] for r in results),
        "sent": sent,
        "send_errors": sum(r["send_errors"] for r in results),
        "received": received,
        "lost": sum(r["lost"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "unknown": sum(r["unknown"] for r in results),
        "closed_early": sum(r["closed_early"] for r in results),
        "sent_rate": sent / send_span if send_span > 0 else 0.0,
        "achieved_rate": received / (last - t0) if last > t0 else 0.0,
        "p50_ms": percentile(lat, 50) * 1000,
        "p95_ms": percentile(lat, 95) * 1000,
        "p99_ms": percentile(lat, 99) * 1000,
        "max_ms": (max(lat) * 1000) if lat else float("nan"),
        "gen_lag_p99_ms": percentile(lag, 99) * 1000,
        "load_avg_1m_after": os.getloadavg()[0],
        "per_second": per_second,
    }


def sustained(r: dict[str, Any], limit_ms: float) -> bool:
    return (
        "error" not in r
        and r["connect_errors"] == 0
        and r["lost"] == 0
        and r["duplicates"] == 0
        and r.get("db_missing", 0) == 0
        and r.get("db_duplicates", 0) == 0
        and r["p99_ms"] <= limit_ms
        and r["achieved_rate"] >= 0.95 * r["offered_rate"]
    )
