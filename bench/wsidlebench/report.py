"""The table a run prints: each figure, its target, pass / fail, the baseline."""

from __future__ import annotations

import math
from typing import Any

from common import fmt, table

TARGETS = {"kib_per_socket": 30.0, "p99_ms": 20.0, "storm_s": 15.0}


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "FAIL")


def _ms(s: dict[str, Any] | None) -> str:
    if not s or not s.get("n"):
        return "-"
    return f"{fmt(s['p50'])} / {fmt(s['p95'])} / {fmt(s['p99'])} ms (n {s['n']:.0f})"


def _ok(value: float, limit: float) -> bool | None:
    return None if value != value else value <= limit


def rows(report: dict[str, Any]) -> list[list[Any]]:
    k = report.get("kefu", {})
    echo = report.get("echo", {})
    mem = k.get("memory", {})
    per = mem.get("per_socket_kib", {})
    eper = echo.get("per_socket_kib", {})
    out: list[list[Any]] = []

    def add(figure: str, kefu: str, base: str = "-", target: str = "", ok: bool | None = None):
        out.append([figure, kefu, base, target, verdict(ok)])

    kib = TARGETS["kib_per_socket"]
    add(
        "sockets open on the web process",
        f"{mem.get('sockets', 0):,}: {k.get('mix', '')}",
        f"{echo.get('sockets', 0):,}" if echo else "-",
    )
    rss = per.get("rss", math.nan)
    add(
        "server memory per socket, RSS",
        f"{fmt(rss)} KiB",
        f"{fmt(eper['rss'])} KiB" if eper else "-",
        f"<= {kib:g} KiB",
        _ok(rss, kib),
    )
    add(
        "server memory per socket, USS / PSS",
        f"{fmt(per.get('uss', math.nan))} / {fmt(per.get('pss', math.nan))} KiB",
        f"{fmt(eper['uss'])} / {fmt(eper['pss'])} KiB" if eper else "-",
    )
    before, after = mem.get("before_kb"), mem.get("after_kb")
    if before and after:
        base = "-"
        if echo:
            base = f"{echo['before_kb']['rss'] / 1024:.0f} -> {echo['after_kb']['rss'] / 1024:.0f}"
            base += " MiB"
        add(
            "server RSS before -> with all open",
            f"{before['rss'] / 1024:.0f} -> {after['rss'] / 1024:.0f} MiB",
            base,
        )
    ms = TARGETS["p99_ms"]
    push = k.get("push")
    add(
        "push: agent send -> customer's message frame",
        _ms(push),
        target=f"p99 <= {ms:g} ms",
        ok=_ok(push["p99"], ms) if push else None,
    )
    ack = k.get("send_ack")
    add(
        "customer send -> ack",
        _ms(ack),
        target=f"p99 <= {ms:g} ms",
        ok=_ok(ack["p99"], ms) if ack else None,
    )
    add("customer send -> own message frame", _ms(k.get("send_echo")))
    s = k.get("storm", {})
    if "back" in s:
        add(
            f"storm ({s['signal']}): signal -> listening again",
            f"{s['kill_to_listen_s']:.1f} s (spawn -> listening {s['spawn_to_listen_s']:.1f} s)",
        )
        add(
            "storm: sockets back (welcome) after listening, p50 / p99 / max",
            f"{fmt(s['back_p50_s'])} / {fmt(s['back_p99_s'])} / {fmt(s['back_max_s'])} s "
            f"({s['back']:,} of {s['sockets']:,})",
        )
        limit = TARGETS["storm_s"]
        if s["all_caught_up"]:
            caught = f"{fmt(s['caught_up_max_s'])} s"
        else:
            caught = f"not all: {s['left']:,} left after {fmt(s['wait_ended_after_listen_s'])} s"
            if s.get("all_back_estimate_s"):
                caught += (
                    f" ({s['back_per_s']:.0f} back/s: all in ~{s['all_back_estimate_s']:.0f} s, "
                    "estimated)"
                )
        add(
            "storm: listening -> every client back and caught up",
            caught,
            target=f"<= {limit:g} s",
            ok=s["all_caught_up"] and s["caught_up_max_s"] <= limit,
        )
        lost = s["lost_deliveries"] + len(s["lost_sends"]) + s["unacked_left"]
        add(
            f"storm: lost / doubled ({s['sent_while_down']} sent while down, agents' sends "
            f"after the restart: {s['agent_sends_acked']} of {s['agent_sends_after_restart']} "
            "acked in time)",
            f"{lost} / {s['doubled_stored']}",
            target="0 / 0",
            ok=lost == 0 and s["doubled_stored"] == 0,
        )
    elif s:
        add("restart storm", f"skipped: {s.get('skipped')}")
    d = k.get("dead", {})
    if "gone" in d:
        limit = d["limit_s"]
        add(
            f"dead sockets closed by the server ({d['sockets_stopped']:,} SIGSTOPped)",
            f"{d['gone']:,} gone; first {fmt(d['first_s'])} s, all {fmt(d['all_s'])} s",
            target=f"all <= {d['ping_interval_s']:g} + {d['ping_timeout_s']:g} s (ping)",
            ok=d["gone"] >= d["sockets_stopped"] and d["all_s"] <= limit + 2,
        )
        h = d["no_hello"]
        seen = f"{h['closed_by_server']} of {h['sockets']} within {h['waited_s']:g} s"
        if h["after_s"]:
            seen += f" (last after {h['after_s'][0]} s, codes {h['codes']})"
        add("visitor sockets that never say hello, closed by the app", seen)
    elif d:
        add("dead sockets", f"skipped: {d.get('skipped')}")
    if "frame_size" in k:
        fs = k["frame_size"]
        add(
            "frame of 100 KiB / of 2 MiB",
            f"{fs.get('100KiB')} / {fs.get('2MiB')}",
            target="error frame / close 1009",
        )
    o = k.get("open")
    if o and mem.get("sockets"):
        add(
            "server CPU per socket opened (handshake + hello / welcome)",
            f"{1000 * o['server_cpu_s'] / mem['sockets']:.1f} ms ({mem['sockets']:,} in "
            f"{o['s']:.0f} s)",
        )
    if "server_cpu_ms_per_socket" in s:
        add("server CPU per socket in the storm", f"{s['server_cpu_ms_per_socket']:.1f} ms")
    if "idle_cpu_pct" in k:
        add("server CPU while all sit idle", f"{k['idle_cpu_pct']:.1f} % of a core")
    if "server_nofile" in k:
        add(
            "server open-file limit / socket fds with all open",
            f"{k['server_nofile']:,} / {mem.get('server_socket_fds', 0):,}",
        )
    ses = k.get("sessions")
    if ses:
        add(
            "visitor sessions created (setup)",
            f"{ses['created']:,} at {ses['per_s']:.0f}/s, {ses['reused']:,} reused",
        )
    return out


def render(report: dict[str, Any]) -> str:
    head = [
        f"Machine: {report['machine']}",
        f"uvicorn (Procfile's flags, 1 process): {' '.join(report['server_flags'])}",
        f"load average (1/5/15 min): start {report['load_start']}, end {report.get('load_end')}",
    ]
    body = table(["figure", "Kefu", "echo baseline", "target", "verdict"], rows(report))
    return "\n".join([*head, "", body])
