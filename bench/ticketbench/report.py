"""What a ticket run prints: the side-by-side table of the targets and the SQL facts."""

from __future__ import annotations

from typing import Any

from common import table


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
