"""The load generator: processes that open the pairs, send at a fixed rate and read the
agents' frames (run_load in the parent forks them and merges what they report)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websockets
from common import raise_nofile

from .stats import cpu_seconds, merge_results
from .target import ChatTarget, Pair


@dataclass
class LoadSpec:
    base: str
    first: int  # first conversation index of this process
    pairs: int
    rate: float  # this process's share of messages/s
    duration: float
    drain: float
    connect_concurrency: int
    worker: int


async def _load(
    target: ChatTarget, spec: LoadSpec, barrier: Any, done_barrier: Any
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(spec.connect_concurrency)
    connect_errors: list[str] = []

    async def open_one(i: int) -> Pair | None:
        async with sem:
            try:
                return await target.open_pair(spec.base, i)
            except Exception as exc:
                connect_errors.append(f"{type(exc).__name__}: {exc}"[:200])
                return None

    t_connect = time.monotonic()
    opened = await asyncio.gather(*(open_one(spec.first + i) for i in range(spec.pairs)))
    pairs = [p for p in opened if p is not None]
    connect_s = time.monotonic() - t_connect

    sent: dict[str, float] = {}
    latencies: list[float] = []
    timeline: list[tuple[float, float]] = []
    seen: set[str] = set()
    duplicates = 0
    unknown = 0
    last_recv = 0.0
    closed_early = 0
    all_received = asyncio.Event()
    total = int(spec.rate * spec.duration) if pairs else 0

    async def read_agent(pair: Pair) -> None:
        nonlocal duplicates, unknown, last_recv, closed_early
        try:
            async for frame in pair.agent:
                now = time.monotonic()
                mid = target.agent_message_id(frame)
                if mid is None or mid.startswith("w-"):
                    continue
                if mid in seen:
                    duplicates += 1
                    continue
                sent_at = sent.get(mid)
                if sent_at is None:
                    unknown += 1
                    continue
                seen.add(mid)
                latencies.append(now - sent_at)
                timeline.append((sent_at, now - sent_at))
                last_recv = now
                if len(seen) >= total:
                    all_received.set()
        except websockets.ConnectionClosed:
            closed_early += 1

    async def drain_customer(pair: Pair) -> None:
        # The customer's own copies (or acks) are read so that nothing backs up.
        with contextlib.suppress(websockets.ConnectionClosed):
            async for _ in pair.customer:
                pass

    # Pairs may share an agent connection (Kefu: one socket per agent): one reader each.
    agent_sockets = {id(p.agent): p for p in pairs}
    readers = [asyncio.create_task(read_agent(p)) for p in agent_sockets.values()]
    readers += [asyncio.create_task(drain_customer(p)) for p in pairs]

    # Warm-up, not counted: one message on up to 50 conversations, so that lazily made
    # Redis connections and subscriptions exist before the clock starts.
    for pair in pairs[:50]:
        with contextlib.suppress(websockets.ConnectionClosed):
            await pair.customer.send(target.customer_frame(f"w-{pair.index}", time.monotonic()))
        await asyncio.sleep(0.01)
    await asyncio.sleep(1)
    # The generator's own objects (2 sockets per pair) are long-lived: keep them out of the
    # cyclic GC so its pauses do not show up as server latency.
    gc.collect()
    gc.freeze()
    # Every load process starts sending at the same moment.
    await loop.run_in_executor(None, barrier.wait)
    send_errors = 0
    lag: list[float] = []
    t0 = time.monotonic()
    for k in range(total):
        due = t0 + k / spec.rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pair = pairs[k % len(pairs)]
        mid = f"{spec.worker}-{k}"
        now = time.monotonic()
        lag.append(now - due)
        sent[mid] = now
        try:
            await pair.customer.send(target.customer_frame(mid, now))
        except websockets.ConnectionClosed:
            send_errors += 1
            del sent[mid]
    send_end = time.monotonic()
    if sent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_received.wait(), spec.drain)
    # Every load process has its answers: the server's CPU is read before the sockets close.
    await loop.run_in_executor(None, done_barrier.wait)
    for p in pairs:
        with contextlib.suppress(Exception):
            await p.customer.close()
        with contextlib.suppress(Exception):
            await p.agent.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return {
        "pairs_opened": len(pairs),
        "connect_errors": len(connect_errors),
        "connect_error_samples": sorted(set(connect_errors))[:3],
        "connect_s": connect_s,
        "sent": len(sent),
        "send_errors": send_errors,
        "received": len(seen),
        "lost": len(set(sent) - seen),
        "duplicates": duplicates,
        "unknown": unknown,
        "closed_early": closed_early,
        "latencies": latencies,
        "timeline": timeline,
        "lag": lag,
        "t0": t0,
        "send_end": send_end,
        "last_recv": last_recv,
    }


def _load_process(
    target: ChatTarget, spec: LoadSpec, barrier: Any, done_barrier: Any, out: Any
) -> None:
    raise_nofile(65536)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        result = asyncio.run(_load(target, spec, barrier, done_barrier))
    except Exception as exc:
        barrier.abort()
        done_barrier.abort()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    out.put((spec.worker, result))


def run_load(
    target: ChatTarget,
    base: str,
    *,
    pairs: int,
    rate: float,
    duration: float,
    args: Any,
    server_pid: int | None = None,
) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    procs_n = max(1, min(args.procs, pairs))
    # The server's CPU time when sending starts and when the last answer is in: setup
    # (opening the pairs) and teardown stay out of the per-message figure.
    cpu_marks = ctx.Array("d", [float("nan"), float("nan")])

    def mark(i: int) -> Callable[[], None]:
        def action() -> None:
            if server_pid is not None:
                cpu_marks[i] = cpu_seconds(server_pid)

        return action

    barrier = ctx.Barrier(procs_n, action=mark(0))
    done_barrier = ctx.Barrier(procs_n, action=mark(1))
    out = ctx.Queue()
    procs = []
    per = pairs // procs_n
    for w in range(procs_n):
        n = per + (1 if w < pairs % procs_n else 0)
        spec = LoadSpec(
            base=base,
            first=w * per + min(w, pairs % procs_n),
            pairs=n,
            rate=rate * n / pairs,
            duration=duration,
            drain=args.drain,
            connect_concurrency=args.connect_concurrency,
            worker=w,
        )
        proc = ctx.Process(
            target=_load_process, args=(target, spec, barrier, done_barrier, out), daemon=True
        )
        proc.start()
        procs.append(proc)
    # Bounded: connecting + sending + draining + slack, then the workers are killed.
    limit = args.setup_budget + duration + args.drain
    results: list[dict[str, Any]] = []
    deadline = time.monotonic() + limit
    while len(results) < procs_n and time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            results.append(out.get(timeout=1)[1])
    for proc in procs:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
    if len(results) < procs_n:
        return {"error": f"load generators did not finish within {limit:.0f} s"}
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        return {"error": "; ".join(errors)}
    return merge_results(
        results, pairs=pairs, rate=rate, duration=duration, send_cpu=cpu_marks[1] - cpu_marks[0]
    )
