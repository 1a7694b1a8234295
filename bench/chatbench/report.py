"""What a chat run prints: the one-line summary of a run, and the final table."""

from __future__ import annotations

from typing import Any

from common import table


def brief(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"ERROR {r['error']}"
    return (
        f"p50 {r['p50_ms']:.1f} / p95 {r['p95_ms']:.1f} / p99 {r['p99_ms']:.1f} ms, "
        f"achieved {r['achieved_rate']:.0f}/s of {r['offered_rate']:g}, sent {r['sent']}, "
        f"lost {r['lost']}, dup {r['duplicates']}, conn err {r['connect_errors']}, "
        f"gen lag p99 {r['gen_lag_p99_ms']:.1f} ms, load {r['load_avg_1m_after']:.2f}, "
        f"server CPU {r.get('server_cpu_ms_per_msg')} ms/msg, connect {r['connect_s']:.0f} s"
        + (
            f", db stored {r['db_stored']} (missing {r['db_missing']}, dup {r['db_duplicates']})"
            if "db_stored" in r
            else ""
        )
    )


def render(report: dict[str, Any]) -> str:
    a = report["args"]
    parts = [
        f"Machine: {report['machine']}",
        f"\n{a['pairs']} customer+agent pairs, {a['rate']:g} msg/s offered for "
        f"{a['duration']:g} s, {a['procs']} load process(es):",
    ]
    headers = [
        "target", "p50 ms", "p95 ms", "p99 ms", "max ms", "achieved/s", "sent", "lost",
        "dup", "conn err", "gen lag p99", "srv CPU ms/msg", "peak RSS MB",
        f"max rate p99<={a['p99_limit']:g}",
    ]  # fmt: skip
    rows = []
    for t in report["targets"]:
        m = t["main"]
        if "error" in m:
            rows.append([t["target"], m["error"][:60]] + ["-"] * (len(headers) - 2))
            continue
        rows.append(
            [
                t["target"], m["p50_ms"], m["p95_ms"], m["p99_ms"], m["max_ms"],
                m["achieved_rate"], m["sent"], m["lost"], m["duplicates"], m["connect_errors"],
                m["gen_lag_p99_ms"], m.get("server_cpu_ms_per_msg", "-"), t["server_peak_rss_mb"],
                t["max_sustained_rate"] if t["max_sustained_rate"] is not None else "-",
            ]
        )  # fmt: skip
    parts.append(table(headers, rows))
    for t in report["targets"]:
        parts.append(f"- {t['target']}: {t['description']}")
        for s in t["steps"]:
            verdict = "held" if s.get("sustained") else "not held"
            parts.append(
                f"  - step {s.get('offered_rate', '?')} msg/s try {s.get('attempt', 1)}: "
                f"{brief(s)} -> {verdict}"
            )
    return "\n".join(parts)
