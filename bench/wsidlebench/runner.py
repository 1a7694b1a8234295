"""The run, phase by phase: the echo baseline, then Kefu: sessions and sign-ins, N sockets
open (memory per socket), pushes and sends timed while all are open, the restart storm,
and dead sockets after a client process stops answering."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from common import VAR, log, percentile, pick_port, summary_ms
from websockets.exceptions import ConnectionClosed

from .clients import Holder, visitor_tokens, ws_open
from .kefu import CHANNEL, Driver, KefuSide, rate_settings_in_tree
from .loadgen import Loadgen
from .server import (
    Server,
    client_ports,
    cpu_seconds,
    established,
    established_with,
    flag_value,
    listen_drops,
    memory_kb,
    nofile_limit,
    open_fds,
    procfile_web_flags,
    socket_fds,
)

BENCH = VAR.parent.parent / "bench"
TOKENS = VAR / "ws_idle-visitors.json"


class Budget:
    """The whole run's time budget (--budget): a phase that would not fit is skipped."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def fits(self, seconds: float) -> bool:
        return self.left() >= seconds


@dataclass
class Mix:
    """Who holds the N sockets."""

    sockets: int
    customers: int
    talking: int  # customers with a conversation
    agents: int
    tabs: list[int]  # sockets per agent (the first of each is its driver, in the controller)

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> Mix:
        agent_sockets = max(a.agents, round(a.sockets * a.agent_share))
        tabs = [agent_sockets // a.agents + (1 if i < agent_sockets % a.agents else 0)
                for i in range(a.agents)]  # fmt: skip
        customers = a.sockets - agent_sockets
        return cls(a.sockets, customers, min(a.conversations, customers), a.agents, tabs)

    def describe(self) -> str:
        return (
            f"{self.sockets:,} sockets: {self.customers:,} customers ({self.talking} with a "
            f"conversation) + {sum(self.tabs):,} agent sockets ({self.agents} agents, "
            f"{min(self.tabs)}-{max(self.tabs)} tabs each)"
        )


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def on_all(gens: list[Loadgen], cmd: str, per: list[dict[str, Any]] | None = None,
                 wait: float = 600, **args: Any) -> list[Any]:  # fmt: skip
    """`cmd` on every load process still running (`per`: each one's own arguments)."""
    live = [g for g in gens if not g.stopped]
    return list(
        await asyncio.gather(
            *(g.call(cmd, wait, **{**args, **(per[g.index] if per else {})}) for g in live)
        )
    )


async def memory_after(pid: int, settle: float) -> dict[str, int]:
    """The server's memory once it has been quiet for `settle` s (3 samples, 1 s apart:
    the last; the JSON keeps all three)."""
    await asyncio.sleep(settle)
    samples = []
    for _ in range(3):
        samples.append(memory_kb(pid))
        await asyncio.sleep(1)
    return {**samples[-1], "samples": samples}  # type: ignore[dict-item]


def per_socket(before: dict[str, Any], after: dict[str, Any], n: int) -> dict[str, float]:
    return {k: (after[k] - before[k]) / n if n else math.nan for k in ("rss", "pss", "uss")}


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- echo baseline -----------------------------------------------------------------------


async def echo_baseline(
    a: argparse.Namespace, gens: list[Loadgen], flags: list[str]
) -> dict[str, Any]:
    """bench/echo_app.py (bare Channels, RedisPubSubChannelLayer, every socket in one group)
    under the same uvicorn flags: the same N sockets, memory per socket."""
    port = pick_port(a.port_range)
    env = {
        **os.environ,
        "BENCH_LAYER": "pubsub",
        "BENCH_REDIS_URL": a.redis_url,
        "BENCH_PREFIX": "bench-wsidle-echo",
    }
    server = Server(
        "echo_app:application",
        port,
        flags,
        env=env,
        log=VAR / "ws-idle-echo-server.log",
        nofile=a.server_nofile,
        app_dir=BENCH,
    )
    ws_base, origin = f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    server.start()
    try:
        await asyncio.to_thread(server.wait_listening)
        warm = [Holder() for _ in range(10)]
        for i, h in enumerate(warm):
            await h.open(f"{ws_base}/ws/customer/{10**7 + i}/", origin)
        for h in warm:
            await h.stop()
        before = await memory_after(server.pid, 2)
        shares = split(a.sockets, len(gens))
        firsts = [sum(shares[:i]) for i in range(len(gens))]
        opened = await on_all(
            gens,
            "echo_open",
            per=[{"first": f, "count": c} for f, c in zip(firsts, shares, strict=True)],
            ws_base=ws_base,
            origin=origin,
            concurrency=a.connect_concurrency,
        )
        n = sum(r["opened"] for r in opened)
        after = await memory_after(server.pid, a.settle)
        fds = socket_fds(server.pid)
        await on_all(gens, "close_all")
        out = {
            "sockets": n,
            "failed": sum(r["failed"] for r in opened),
            "open_s": max(r["s"] for r in opened),
            "before_kb": before,
            "after_kb": after,
            "per_socket_kib": per_socket(before, after, n),
            "server_socket_fds": fds,
        }
        log(
            f"echo: {n:,} sockets in {out['open_s']:.1f} s, "
            f"{out['per_socket_kib']['rss']:.1f} KiB RSS per socket"
        )
        return out
    finally:
        server.stop()


# --- Kefu ------------------------------------------------------------------------------


def cached_tokens(kefu: KefuSide) -> list[str]:
    """Idle visitors' tokens saved by an earlier run, if this database still has them."""
    import hashlib

    try:
        saved = json.loads(TOKENS.read_text())
    except (OSError, ValueError):
        return []
    if saved.get("db") != kefu.dbname or not saved.get("tokens"):
        return []
    tokens = saved["tokens"]
    hashes = [hashlib.sha256(t.encode()).hexdigest() for t in tokens]
    rows = kefu.sql(
        "SELECT count(*) FROM workbench_visitor v WHERE v.token_hash = ANY(%s) AND NOT EXISTS "
        "(SELECT 1 FROM workbench_conversation c WHERE c.visitor_id = v.id)",
        [hashes],
    )
    return tokens if rows[0][0] == len(tokens) else []


async def sessions(
    a: argparse.Namespace,
    gens: list[Loadgen],
    kefu: KefuSide,
    mix: Mix,
    port: int,
    victim: Loadgen | None,
) -> dict[str, Any]:
    """Visitor tokens: fresh ones for the customers who will talk, first in each load
    process; for the idle ones (and the dead-socket test's), tokens of an earlier run
    (--reuse-visitors; never used for a conversation) topped up with new ones."""
    talking = split(mix.talking, len(gens))
    idle = split(mix.customers - mix.talking, len(gens))
    if victim is not None:
        gens, talking, idle = [*gens, victim], [*talking, 0], [*idle, a.dead_sockets]
    reuse = cached_tokens(kefu) if a.reuse_visitors else []
    t0 = time.monotonic()
    fresh = await on_all(
        gens,
        "sessions",
        per=[{"count": n} for n in talking],
        port=port,
        channel=CHANNEL,
        concurrency=a.session_concurrency,
    )
    given = []
    for g, n in zip(gens, idle, strict=True):
        mine, reuse = reuse[:n], reuse[n:]
        given.append(len(mine))
        await g.call("add_tokens", tokens=mine)
    new = await on_all(
        gens,
        "sessions",
        per=[{"count": n - k} for n, k in zip(idle, given, strict=True)],
        port=port,
        channel=CHANNEL,
        concurrency=a.session_concurrency,
    )
    idle_tokens = [
        t for r in await on_all(gens, "idle_tokens", per=[{"skip": n} for n in talking]) for t in r
    ]
    # Kept for the next run: every idle visitor known so far (a smaller run keeps the rest).
    keep = list(dict.fromkeys(idle_tokens + cached_tokens(kefu)))
    TOKENS.write_text(json.dumps({"db": kefu.dbname, "tokens": keep}))
    statuses: dict[str, int] = {}
    for r in fresh + new:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    created = sum(r["tokens"] for r in fresh + new)
    out = {
        "created": created,
        "reused": sum(given),
        "statuses": statuses,
        "s": time.monotonic() - t0,
        "per_s": created / max(1e-9, time.monotonic() - t0),
    }
    log(
        f"visitor sessions: {created:,} created ({out['per_s']:.0f}/s), {sum(given):,} reused, "
        f"answers {statuses}"
    )
    if statuses.get("429"):
        raise SystemExit(
            "the server rate-limited POST /chat/api/session/ (429): lift the limit with "
            "--server-env NAME=VALUE (settings KEFU_RATE_*: "
            f"{', '.join(rate_settings_in_tree()) or 'none found in config/settings'})"
        )
    return out


async def frame_size_check(ws_base: str, origin: str) -> dict[str, Any]:
    """Over the app's 16 KiB frame cap but under uvicorn's --ws-max-size: an error frame and
    the socket stays; over --ws-max-size: uvicorn closes with 1009."""
    out: dict[str, Any] = {}
    for label, size in (("100KiB", 100 * 1024), ("2MiB", 2 * 1024 * 1024)):
        try:
            async with ws_open(f"{ws_base}/ws/chat/visitor/", origin) as ws:
                await ws.send(json.dumps({"type": "hello", "pad": "x" * size}))
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                out[label] = f"error frame {frame.get('code')}"
        except ConnectionClosed as closed:
            # The server may close while the client is still sending the frame.
            out[label] = f"closed {closed.rcvd.code if closed.rcvd else None}"
        except Exception as exc:
            out[label] = f"{type(exc).__name__}: {exc}"
    return out


async def no_hello(ws_base: str, origin: str, n: int, wait: float) -> dict[str, Any]:
    """`n` visitor sockets that never say hello: when (if) the server closes them."""
    t0 = time.monotonic()
    closed: list[tuple[float, int | None]] = []

    async def one() -> None:
        try:
            ws = await ws_open(f"{ws_base}/ws/chat/visitor/", origin)
        except Exception:
            return
        try:
            await asyncio.wait_for(ws.wait_closed(), wait)
            closed.append((time.monotonic() - t0, ws.close_code))
        except TimeoutError:
            await ws.close()

    await asyncio.gather(*(one() for _ in range(n)))
    return {
        "sockets": n,
        "closed_by_server": len(closed),
        "after_s": sorted(round(t, 2) for t, _ in closed)[-1:] or None,
        "codes": sorted({c for _, c in closed if c is not None}),
        "waited_s": wait,
    }


async def kefu_run(
    a: argparse.Namespace,
    gens: list[Loadgen],
    victim: Loadgen | None,
    flags: list[str],
    budget: Budget,
) -> dict[str, Any]:
    mix = Mix.from_args(a)
    out: dict[str, Any] = {"mix": mix.describe()}
    log(f"kefu: {mix.describe()}")
    kefu = KefuSide(a.kefu_db, a.redis_url, a.server_env, a.db_threads)
    capacity = max(50, math.ceil(mix.talking / mix.agents) + 5)
    await asyncio.to_thread(kefu.prepare, mix.agents, capacity)
    await asyncio.to_thread(kefu.reset, mix.agents)
    names = kefu.agent_ids(mix.agents)
    rate_names = rate_settings_in_tree()
    unset = [n for n in rate_names if n not in kefu.stack.env]
    if unset:
        log(f"warning: settings {unset} are not set by the benchmark (--server-env NAME=VALUE)")
    out["rate_limit_settings_found"] = rate_names
    port = pick_port(a.port_range)
    http, ws_base = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    server = Server(
        a.kefu_app,
        port,
        flags,
        env=kefu.stack.env,
        log=VAR / "ws-idle-kefu-server.log",
        nofile=a.server_nofile,
        app_dir=Path(a.kefu_app_dir) if a.kefu_app_dir else None,
    )
    server.start()
    try:
        await asyncio.to_thread(server.wait_listening)
        out["server_nofile"] = nofile_limit(server.pid)
        out["server_fds_at_start"] = open_fds(server.pid)
        usernames = sorted(names.values())
        logins = asyncio.ensure_future(
            asyncio.to_thread(kefu.login_all, http, usernames, a.login_threads)
        )
        out["sessions"] = await sessions(a, gens, kefu, mix, port, victim)
        t = time.monotonic()
        cookies = await logins
        out["logins_wait_s"] = time.monotonic() - t
        drivers = {u: Driver(ws_base, http, cookies[u], u) for u in usernames}
        await asyncio.gather(*(d.connect() for d in drivers.values()))
        # Warm-up: one customer through hello (and the frame-size check) before "before".
        warm_tokens, _ = await visitor_tokens(port, CHANNEL, 1, 1)
        async with ws_open(f"{ws_base}/ws/chat/visitor/", http) as ws:
            await ws.send(json.dumps({"type": "hello", "visitor_token": warm_tokens[0]}))
            await ws.recv()
        out["frame_size"] = await frame_size_check(ws_base, http)
        log(f"frame size: {out['frame_size']}")
        before = await memory_after(server.pid, 2)
        fds_before = socket_fds(server.pid)

        # 1. N sockets open.
        tab_cookies: list[list[str]] = [[] for _ in gens]
        k = 0
        for u, tabs in zip(usernames, mix.tabs, strict=True):
            for _ in range(tabs - 1):  # the first tab is the driver
                tab_cookies[k % len(gens)].append(cookies[u])
                k += 1
        talking = split(mix.talking, len(gens))
        cpu0 = cpu_seconds(server.pid)
        growth: list[tuple[float, float, int]] = []  # (s, server CPU s, socket fds) each 2 s
        sampler = asyncio.ensure_future(sample_growth(server.pid, growth))
        opened = await on_all(
            gens,
            "open",
            per=[
                {"cookies": c, "conversations": n}
                for c, n in zip(tab_cookies, talking, strict=True)
            ],
            ws_base=ws_base,
            origin=http,
            concurrency=a.connect_concurrency,
            backoff={"min_delay": a.min_delay, "max_delay": a.max_delay},
            open_timeout=a.client_open_timeout,
            timeout=min(a.open_timeout, budget.left()),
        )
        sampler.cancel()
        open_cpu = cpu_seconds(server.pid) - cpu0
        n_open = sum(r["customers"] + r["agents"] for r in opened)
        out["open"] = {
            "customers": sum(r["customers"] for r in opened),
            "agent_tabs": sum(r["agents"] for r in opened),
            "drivers": len(drivers),
            "conversations": sum(r["conversations"] for r in opened),
            "failed": sum(r["failed"] for r in opened),
            "failed_kinds": sorted({x for r in opened for x in r["failed_kinds"]}),
            "connect_failures": [r["connect_failures"] for r in opened],
            "errors": [r["errors"] for r in opened],
            "customers_s": max(r["customers_s"] for r in opened),
            "s": max(r["s"] for r in opened),
            "server_cpu_s": open_cpu,
            "growth": growth,
            "cpu_ms_per_socket_by_thousand": cost_by_thousand(growth),
        }
        log(
            f"open: {n_open:,} sockets (+{len(drivers)} driver tabs) in {out['open']['s']:.1f} s "
            f"({out['open']['conversations']} conversations started, {out['open']['failed']} "
            f"failed), server CPU {open_cpu:.1f} s"
        )
        # 2. Memory per socket (and what idling costs: uvicorn's pings).
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        after = await memory_after(server.pid, a.settle)
        out["idle_cpu_pct"] = 100 * (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - t0)
        out["memory"] = {
            "before_kb": before,
            "after_kb": after,
            "sockets": n_open,
            "per_socket_kib": per_socket(before, after, n_open),
            "server_socket_fds": socket_fds(server.pid),
            "server_socket_fds_before": fds_before,
            "established": established(port),
        }
        m = out["memory"]["per_socket_kib"]
        log(
            f"memory per socket: RSS {m['rss']:.1f} KiB, PSS {m['pss']:.1f}, USS "
            f"{m['uss']:.1f}; idle server CPU {out['idle_cpu_pct']:.1f} %; "
            f"{out['memory']['server_socket_fds']:,} socket fds (limit {out['server_nofile']:,})"
        )

        # 3. Pushes and sends while all are open.
        conversations = [c for r in await on_all(gens, "conversations") for c in r]
        holders = kefu.holders(conversations)
        routed = [c for c in conversations if holders.get(c) in names]
        out["conversations_routed"] = len(routed)
        by_agent: dict[str, list[int]] = {}
        for c in routed:
            by_agent.setdefault(names[holders[c]], []).append(c)  # type: ignore[index]
        await asyncio.gather(*(drivers[u].watch(cs) for u, cs in by_agent.items()))
        if "push" in a.phases and budget.fits(60):
            await on_all(gens, "lag")
            out["push"] = await push_probe(a, routed, holders, names, drivers, gens)
            probe = await on_all(
                gens,
                "probe",
                rate=a.probe_rate / len(gens),
                rounds=a.send_rounds,
                timeout=30,
            )
            out["send_ack"] = summary_ms([x for r in probe for x in r["ack"]])
            out["send_echo"] = summary_ms([x for r in probe for x in r["echo"]])
            out["send_ack"]["sent"] = sum(r["sent"] for r in probe)
            out["send_client_loop_lag"] = await on_all(gens, "lag")
            log(f"push {fmt_ms(out['push'])}; send->ack {fmt_ms(out['send_ack'])}; "
                f"send->own message {fmt_ms(out['send_echo'])}")  # fmt: skip
        out["before_storm"] = await compare_held(kefu, gens, conversations)

        # 4. Dead sockets: another load process opens --dead-sockets more customers, then
        # stops answering (SIGSTOP); on a calm server, before the storm.
        interval = float(flag_value(flags, "--ws-ping-interval", "20"))
        timeout = float(flag_value(flags, "--ws-ping-timeout", "20"))
        if victim is not None and budget.fits(interval + timeout + 60):
            out["dead"] = await dead_sockets(
                a, victim, server, port, ws_base, http, interval, timeout
            )
        elif victim is not None:
            out["dead"] = {"skipped": "time budget"}

        # 5. Restart storm (under the N sockets).
        if "storm" not in a.phases:
            pass
        elif budget.fits(60):
            # What the budget leaves (a wait cut short says so in the table).
            a.storm_timeout = min(a.storm_timeout, budget.left() - 30)
            out["storm"] = await storm(a, gens, server, kefu, drivers, routed, holders, names)
            out["memory"]["after_storm_kb"] = memory_kb(server.pid)
        else:
            out["storm"] = {"skipped": "time budget"}

        for d in drivers.values():
            await d.close()
        out["server_log_tail"] = server.log.read_text()[-1500:]
        return out
    finally:
        for g in [*gens, *([victim] if victim else [])]:
            g.kill()
        server.stop()


async def sample_growth(pid: int, into: list[tuple[float, float, int]]) -> None:
    t0, c0 = time.monotonic(), cpu_seconds(pid)
    while True:
        into.append((round(time.monotonic() - t0, 1), round(cpu_seconds(pid) - c0, 2),
                     socket_fds(pid)))  # fmt: skip
        await asyncio.sleep(2)


def cost_by_thousand(growth: list[tuple[float, float, int]]) -> list[float]:
    """Server CPU ms per socket opened, for each further thousand sockets: does a socket
    cost more to open when many are already open?"""
    out: list[float] = []
    if not growth:
        return out
    base = growth[0][2]
    last_cpu, mark = growth[0][1], 1000
    for _, cpu, fds in growth:
        if fds - base >= mark:
            out.append(round((cpu - last_cpu) * 1000 / 1000, 2))
            last_cpu, mark = cpu, mark + 1000
    return out


def fmt_ms(s: dict[str, float]) -> str:
    return f"p50 {s['p50']:.1f} / p95 {s['p95']:.1f} / p99 {s['p99']:.1f} ms (n {s['n']:.0f})"


async def push_probe(
    a: argparse.Namespace,
    routed: list[int],
    holders: dict[int, int | None],
    names: dict[int, str],
    drivers: dict[str, Driver],
    gens: list[Loadgen],
) -> dict[str, Any]:
    """Agents send to their customers, `--push-rounds` per conversation, paced at
    --probe-rate: agent `send` -> the customer's `message` frame (the time travels in the
    text; the same monotonic clock in every process)."""
    await on_all(gens, "collect_push")
    acks: list[asyncio.Future[Any]] = []
    t0 = time.monotonic()
    n = 0
    for r in range(a.push_rounds):
        for conv in routed:
            due = t0 + n / a.probe_rate
            if (delay := due - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            driver = drivers[names[holders[conv]]]  # type: ignore[index]
            acks.append(asyncio.ensure_future(driver.send(conv, f"push-{conv}-{r}", "")))
            n += 1
    answers = await asyncio.gather(*acks, return_exceptions=True)
    await asyncio.sleep(2)
    push = [x for r in await on_all(gens, "collect_push") for x in r]
    out = summary_ms(push)
    out["sent"] = n
    out["refused"] = sum(1 for x in answers if not (isinstance(x, dict) and x["type"] == "ack"))
    out["agent_send_ack"] = summary_ms([x["rtt"] for x in answers if isinstance(x, dict)])
    per_round = len(routed) or 1
    out["agent_send_ack_p50_by_round"] = [
        round(summary_ms([x["rtt"] for x in answers[r * per_round : (r + 1) * per_round]
                          if isinstance(x, dict)])["p50"], 1)
        for r in range(a.push_rounds)
    ]  # fmt: skip
    out["client_loop_lag"] = await on_all(gens, "lag")
    return out


async def compare_held(kefu: KefuSide, gens: list[Loadgen], convs: list[int]) -> dict[str, int]:
    """What the talking customers hold against what the database has."""
    held: dict[int, list[int]] = {}
    for r in await on_all(gens, "held"):
        held.update({int(k): v for k, v in r.items()})
    stored = kefu.messages(convs)
    missing = sum(len({s for s, _ in stored[c]} - set(held.get(c, []))) for c in convs)
    return {"conversations": len(convs), "missing": missing,
            "stored": sum(len(v) for v in stored.values())}  # fmt: skip


async def storm(
    a: argparse.Namespace,
    gens: list[Loadgen],
    server: Server,
    kefu: KefuSide,
    drivers: dict[str, Driver],
    routed: list[int],
    holders: dict[int, int | None],
    names: dict[int, str],
) -> dict[str, Any]:
    """Kill the web process under all N sockets, start it again on the same port; every
    client reconnects on its own (backoff + jitter, hello with conversation + after_seq,
    resend unacked); some customers send while it is down, agents send right after."""
    after = routed[: a.after_restart]
    expect = {c: [f"after-{c}"] for c in after}
    downs = split(a.down_senders, len(gens))
    armed = await on_all(gens, "arm", per=[{"down": n} for n in downs], expect=expect)
    drops0 = listen_drops()
    since = time.monotonic()
    waits = [
        asyncio.ensure_future(
            g.call("storm_wait", a.storm_timeout + 120, since=since, timeout=a.storm_timeout)
        )
        for g in gens
    ]
    await asyncio.sleep(0.5)
    log(f"storm: {a.kill.upper()} to the web process under all sockets")
    t_kill = await asyncio.to_thread(server.kill, a.kill)
    t_dead = time.monotonic()
    if a.down_extra:
        await asyncio.sleep(a.down_extra)
    t_spawn = server.start()
    t_listen = await asyncio.to_thread(server.wait_listening, 120, 0.005)
    log(f"storm: listening again {t_listen - t_kill:.2f} s after the signal")

    cpu_listen = cpu_seconds(server.pid)
    agent_acks: dict[int, Any] = {}
    agents_back: list[float] = []

    # An agent's answer may wait behind thousands of hellos: it is given the storm's time
    # (the workbench keeps a message until it is acknowledged).
    patience = a.storm_timeout

    async def agent_after(driver: Driver, convs: list[int]) -> None:
        try:
            agents_back.append(await driver.connect(patience) - t_listen)
            # The workbench watches its open conversations again after a reconnect.
            await driver.watch(driver.watching, patience)
        except Exception as exc:
            for c in convs:
                agent_acks[c] = {"type": "exception", "error": f"reconnect/watch: {exc!r}"}
            return
        for c in convs:
            try:
                agent_acks[c] = await driver.send(
                    c, f"after-{c}", "right after the restart", patience
                )
            except Exception as exc:
                agent_acks[c] = {"type": "exception", "error": repr(exc)}

    by_driver: dict[str, list[int]] = {}
    for c in after:
        by_driver.setdefault(names[holders[c]], []).append(c)  # type: ignore[index]
    await asyncio.gather(
        *(agent_after(drivers[u], by_driver.get(u, [])) for u in drivers), return_exceptions=True
    )
    t_agents_done = time.monotonic()
    results = await asyncio.gather(*waits)
    drops1 = listen_drops()
    done = max(r["done_at"] for r in results)
    storm_cpu = cpu_seconds(server.pid) - cpu_listen

    # The database's word on every talking conversation, and what each customer holds.
    convs = [t["conversation"] for r in results for t in r["talking"]]
    stored = kefu.messages(convs)
    caught: list[float] = []
    back: list[float] = []
    not_back = 0
    for r in results:
        for b in r["back"]:
            if b is None:
                not_back += 1
            else:
                back.append(b - t_listen)
        caught += [
            b - t_listen
            for b, kind in zip(r["back"], r["kinds"], strict=True)
            if b is not None and kind != "talking"
        ]
    lost_deliveries = 0  # stored, but not held by a customer who is back
    talking_not_back = 0
    held_late: list[float] = []
    for r in results:
        for t in r["talking"]:
            if t["back"] is None:
                talking_not_back += 1
                continue
            rows = stored[t["conversation"]]
            held = {int(k): v for k, v in t["held"].items()}
            missing = {s for s, _ in rows} - set(held)
            lost_deliveries += len(missing)
            if not missing:
                held_late.append(max([t["back"], *(held[s] for s, _ in rows)]) - t_listen)
    caught += held_late
    # Sends the server acknowledged: they must be stored (a queued send of a customer who
    # is not back yet was never received: it is counted as still queued, not lost).
    sent_cids = [c for c, v in ((f"after-{c}", agent_acks.get(c, {})) for c in after)
                 if v.get("type") == "ack"]  # fmt: skip
    sent_cids += [x for r in results for t in r["talking"] for x in t["down_sent"]
                  if x in t["acked"]]  # fmt: skip
    stored_cids: dict[str, int] = {}
    for rows in stored.values():
        for _, cid in rows:
            if cid:
                stored_cids[cid] = stored_cids.get(cid, 0) + 1
    lost_sends = [c for c in sent_cids if stored_cids.get(c, 0) == 0]
    doubled = sum(v - 1 for v in stored_cids.values() if v > 1)
    all_done = not_back == 0 and lost_deliveries == 0 and sum(r["left"] for r in results) == 0
    out = {
        "signal": "SIGKILL" if a.kill == "kill" else "SIGTERM",
        "down_extra_s": a.down_extra,
        "kill_to_dead_s": t_dead - t_kill,
        "kill_to_listen_s": t_listen - t_kill,
        "spawn_to_listen_s": t_listen - t_spawn,
        "sockets": sum(r["sockets"] for r in results),
        "back": len(back),
        "not_back": not_back,
        "back_p50_s": percentile(back, 50),
        "back_p99_s": percentile(back, 99),
        "back_max_s": max(back) if back else math.nan,
        "caught_up_max_s": max(caught) if caught and all_done else math.nan,
        "caught_up_max_s_partial": max(caught) if caught else math.nan,
        "all_caught_up": all_done,
        "left": sum(r["left"] for r in results),
        "left_samples": [s for r in results for s in r["left_samples"]][:6],
        "stuck_repaired_by_sync": sum(r["stuck_repaired_by_sync"] for r in results),
        "talking": len(convs),
        "stored_messages": sum(len(v) for v in stored.values()),
        "down_senders": sum(len(x) for x in armed),
        "sent_while_down": sum(len(t["down_sent"]) for r in results for t in r["talking"]),
        "agent_sends_after_restart": len(after),
        "agent_sends_acked": sum(1 for v in agent_acks.values() if v.get("type") == "ack"),
        "agent_sends_refused": {c: v for c, v in agent_acks.items() if v.get("type") != "ack"},
        "agent_ack_after_listen_s": sorted(
            round(v["rtt"], 2) for v in agent_acks.values() if v.get("type") == "ack"
        )[-3:],
        "driver_agents_back_max_s": max(agents_back, default=math.nan),
        "agent_sends_acked_after_listen_s": t_agents_done - t_listen,
        "server_cpu_s": storm_cpu,
        "server_cpu_ms_per_socket": 1000 * storm_cpu / max(1, len(back)),
        "wait_ended_after_listen_s": done - t_listen,
        "lost_deliveries": lost_deliveries,
        "lost_sends": lost_sends,
        "doubled_stored": doubled,
        "wire_duplicates": sum(r["wire_dups"] for r in results),
        "unacked_left": sum(
            len(t["outbox"]) for r in results for t in r["talking"] if t["back"] is not None
        ),
        "queued_in_clients_not_back": sum(
            len(t["outbox"]) for r in results for t in r["talking"] if t["back"] is None
        ),
        "talking_not_back": talking_not_back,
        "denied": sum(r["denied"] for r in results),
        "connect_attempts_failed": sum(r["failures"] for r in results),
        "connect_failures": [r["connect_failures"] for r in results],
        "close_codes": [r["closes"] for r in results],
        "errors": [r["errors"] for r in results],
        "syncs": sum(r["syncs"] for r in results),
        "conversation_changes": sum(r["conversation_changes"] for r in results),
        "listen_overflows": drops1["ListenOverflows"] - drops0["ListenOverflows"],
        "listen_drops": drops1["ListenDrops"] - drops0["ListenDrops"],
        "back_timeline_s": [round(percentile(back, p), 2) for p in (10, 25, 50, 75, 90, 99, 100)],
        "client_loop_lag": await on_all(gens, "lag"),
    }
    # How fast the server took clients back (between the 10th and 90th percentile), and
    # what that rate means for all of them when the wait ran out first (an estimate).
    if len(back) >= 20:
        lo, hi = percentile(back, 10), percentile(back, 90)
        rate = 0.8 * len(back) / (hi - lo) if hi > lo else math.nan
        out["back_per_s"] = rate
        out["all_back_estimate_s"] = lo + (out["sockets"] - 0.1 * len(back)) / rate
    log(
        f"storm: {out['back']:,}/{out['sockets']:,} back, p50 {out['back_p50_s']:.1f} s, max "
        f"{out['back_max_s']:.1f} s after listening; caught up max "
        f"{out['caught_up_max_s_partial']:.1f} s; server CPU {storm_cpu:.0f} s "
        f"({out['server_cpu_ms_per_socket']:.1f} ms a socket); lost {lost_deliveries} deliveries, "
        f"{len(lost_sends)} sends; doubled {doubled}; left {out['left']}"
    )
    return out


async def dead_sockets(
    a: argparse.Namespace,
    victim: Loadgen,
    server: Server,
    port: int,
    ws_base: str,
    http: str,
    interval: float,
    timeout: float,
) -> dict[str, Any]:
    """A load process of its own opens --dead-sockets customers (hello), then is SIGSTOPped:
    its sockets stop answering pings (the kernel still ACKs, like a frozen tab or a phone
    asleep behind a NAT). Every 0.25 s the server's established connections to that
    process's ports are counted, until none is left or interval + timeout + 15 s."""
    opened = await victim.call(
        "open",
        ws_base=ws_base,
        origin=http,
        cookies=[],
        conversations=0,
        concurrency=a.connect_concurrency,
        backoff={"min_delay": a.min_delay, "max_delay": a.max_delay},
        open_timeout=a.client_open_timeout,
        timeout=120,
    )
    hello_task = asyncio.ensure_future(no_hello(ws_base, http, a.no_hello, a.no_hello_wait))
    await asyncio.sleep(3)
    os.kill(victim.proc.pid, signal.SIGSTOP)
    t0 = time.monotonic()
    victim.stopped = True
    ports = client_ports(victim.proc.pid, port)
    live = established_with(port, ports)
    fds0, mem0 = socket_fds(server.pid), memory_kb(server.pid)
    log(f"dead sockets: SIGSTOP to a load process holding {live:,} established sockets")
    limit = interval + timeout + 15
    timeline: list[tuple[float, int]] = []
    marks: dict[str, float] = {}
    gone = 0
    while time.monotonic() - t0 < limit and live:
        await asyncio.sleep(0.25)
        gone = live - established_with(port, ports)
        now = time.monotonic() - t0
        timeline.append((round(now, 2), gone))
        for label, share in (("first", 1 / live), ("half", 0.5), ("p99", 0.99), ("all", 1.0)):
            if label not in marks and gone >= share * live:
                marks[label] = now
        if gone >= live:
            break
    fds1, mem1 = socket_fds(server.pid), memory_kb(server.pid)
    victim.kill()
    hello = await hello_task
    out = {
        "opened": opened["customers"],
        "open_s": opened["s"],
        "sockets_stopped": live,
        "ping_interval_s": interval,
        "ping_timeout_s": timeout,
        "limit_s": interval + timeout,
        "gone": gone,
        "first_s": marks.get("first", math.nan),
        "half_s": marks.get("half", math.nan),
        "p99_s": marks.get("p99", math.nan),
        "all_s": marks.get("all", math.nan),
        "server_socket_fds_before_after": [fds0, fds1],
        "rss_before_after_kb": [mem0["rss"], mem1["rss"]],
        "timeline": timeline[::4],
        "no_hello": hello,
    }
    log(
        f"dead sockets: {gone:,} of {live:,} closed by the server; first {out['first_s']:.1f} s, "
        f"all {out['all_s']:.1f} s (interval {interval:g} + timeout {timeout:g}); "
        f"no-hello sockets closed: {hello['closed_by_server']}/{hello['sockets']}"
    )
    return out


async def run(a: argparse.Namespace, gens: list[Loadgen]) -> dict[str, Any]:
    """`gens`: the load processes; with the dead-socket phase the last one is its own."""
    victim = gens[-1] if "dead" in a.phases else None
    if victim is not None:
        gens = gens[:-1]
    budget = Budget(a.budget)
    flags = procfile_web_flags()
    report: dict[str, Any] = {"server_flags": flags, "load_start": loadavg()}
    log(f"uvicorn flags from the Procfile: {' '.join(flags)} (1 process, 127.0.0.1)")
    if "echo" in a.phases:
        report["echo"] = await echo_baseline(a, gens, flags)
        report["load_after_echo"] = loadavg()
    with contextlib.suppress(Exception):
        redis.Redis.from_url(a.redis_url).flushdb()
    report["kefu"] = await kefu_run(a, gens, victim, flags, budget)
    report["load_end"] = loadavg()
    return report
