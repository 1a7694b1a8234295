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
import asyncio
import contextlib
import gc
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import websockets
from common import (
    ROOT,
    VAR,
    KefuStack,
    RssSampler,
    descendants,
    free_port,
    machine_line,
    percentile,
    pg_url,
    raise_nofile,
    server_process,
    table,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

BENCH = Path(__file__).resolve().parent


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- The target / adapter contract --------------------------------------------------------


@dataclass
class Pair:
    """One conversation: the customer's and the agent's open websockets."""

    index: int
    customer: ClientConnection
    agent: ClientConnection


class ChatTarget(ABC):
    """A chat server under test. The parent process calls prepare(), then serve(port) for
    the whole measurement; each load generator process (forked, so the object is copied)
    calls open_pair() N times, then frames messages with customer_frame() and reads the
    agent's frames with agent_message_id(). See bench/README.md for the Kefu adapter."""

    name = "?"
    description = "?"

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Before the server starts: databases, migrations, users, channel keys..."""

    @abstractmethod
    def serve(self, port: int) -> Any:
        """A context manager running the server on 127.0.0.1:port (yields the Popen)."""

    base = ""  # ws://127.0.0.1:<port>, set by run_target before the first run

    def before_run(self, pairs: int) -> None:  # noqa: B027 - optional hook
        """In the parent, with the server up, before the load processes start."""

    def after_run(self, result: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """In the parent, after a run: add the server's own counts (e.g. stored rows)."""

    @abstractmethod
    async def open_pair(self, base: str, index: int) -> Pair:
        """Open (and, for a real product, set up) conversation `index`."""

    @abstractmethod
    def customer_frame(self, msg_id: str, sent_at: float) -> str:
        """The text frame a customer sends for message `msg_id`."""

    @abstractmethod
    def agent_message_id(self, frame: str | bytes) -> str | None:
        """The message id if this frame delivers a customer message to the agent, else
        None (acks, typing, presence, history...)."""


def ws_connect(url: str, **kw: Any) -> Any:
    """A client connection as the benchmark wants it: no compression (it doubles the
    server's per-connection memory), no keepalive pings of our own, a long open timeout."""
    return connect(url, compression=None, ping_interval=None, open_timeout=60, max_queue=None, **kw)


class EchoTarget(ChatTarget):
    """bench/echo_app.py under uvicorn with one of the two Redis channel layers."""

    def __init__(
        self, layer: str, redis_url: str, max_connections: int, capacity: int, ws_ping: float
    ) -> None:
        self.layer = layer
        self.ws_ping = ws_ping
        self.redis_url = redis_url
        self.max_connections = max_connections
        self.capacity = capacity
        self.name = f"echo-{layer}"
        cls = "RedisPubSubChannelLayer" if layer == "pubsub" else "RedisChannelLayer"
        extra = f", capacity {capacity}" if layer == "core" else ""
        self.description = (
            f"bare Channels echo, {cls} (redis pool max_connections {max_connections}{extra}), "
            f"uvicorn 1 process, uvloop, websockets, per-message-deflate off, ws ping {ws_ping:g} s"
        )

    def serve(self, port: int) -> Any:
        env = {
            **os.environ,
            "BENCH_LAYER": self.layer,
            "BENCH_REDIS_URL": self.redis_url,
            "BENCH_REDIS_MAX_CONNECTIONS": str(self.max_connections),
            "BENCH_LAYER_CAPACITY": str(self.capacity),
        }
        cmd = [
            str(ROOT / ".venv" / "bin" / "uvicorn"),
            "echo_app:application",
            "--app-dir",
            str(BENCH),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
            "--loop",
            "uvloop",
            "--ws",
            "websockets",
            "--ws-per-message-deflate",
            "false",
            "--backlog",
            "4096",
            "--ws-ping-interval",
            str(self.ws_ping),
        ]
        return server_process(
            cmd, port=port, env=env, cwd=ROOT, log=VAR / f"chat-{self.name}-server.log"
        )

    def before_run(self, pairs: int) -> None:
        # A clean Redis database per run: nothing left over from an earlier step.
        redis.Redis.from_url(self.redis_url).flushdb()

    async def open_pair(self, base: str, index: int) -> Pair:
        agent = await ws_connect(f"{base}/ws/agent/{index}/")
        customer = await ws_connect(f"{base}/ws/customer/{index}/")
        return Pair(index, customer, agent)

    def customer_frame(self, msg_id: str, sent_at: float) -> str:
        return json.dumps({"type": "message", "id": msg_id, "t": sent_at, "text": "hello"})

    def agent_message_id(self, frame: str | bytes) -> str | None:
        data = json.loads(frame)
        return data.get("id") if data.get("type") == "message" else None


class KefuChatTarget(ChatTarget):
    """The real visitor/agent consumers in config.asgi:application, driven as
    docs/realtime.md describes (see bench/README.md, "Kefu chat target").

    prepare(): its own database (kefu_bench_chat), migrated, demo data, then
    bench/kefu_chat_seed.py: a platform channel `bench-chat` routed to skill group "Bench
    desk", and `agents` agents (online, capacity `capacity`, a known password).
    before_run(): closes every open conversation (so seats are free again), flushes the
    Redis db, signs every agent in once through the login form (the session cookies are
    inherited by the forked load processes) and notes the highest message id.
    open_pair(i): the customer gets a visitor token over HTTP, opens /ws/chat/visitor/,
    says hello and sends a first message (so the conversation exists and is routed) and
    waits for its ack; the agent socket of agent i % agents opens with the session cookie,
    `accept`s the conversation (or finds routing already gave it to a seat: `already_taken`)
    and `watch`es it; the pair is returned once the `messages` answer to watch arrived.
    after_run(): counts the customer messages stored in Postgres since before_run.
    """

    name = "kefu"
    ready = True
    password = "bench-pass-1"

    def __init__(
        self,
        dbname: str,
        redis_url: str,
        ws_ping: float,
        *,
        workers: int = 1,
        agents: int = 20,
        capacity: int = 50,
        db_threads: int = 16,
    ) -> None:
        self.stack = KefuStack(dbname, redis_url, log_name="chat-kefu-server.log")
        self.stack.env.update(
            {
                # Routing runs in the server's own thread on commit (no Celery worker in
                # the benchmark); pub/sub channel names ignore the Redis db number, so the
                # bench gets its own prefix.
                "KEFU_TASKS_EAGER": "true",
                "KEFU_CHANNEL_PREFIX": "kefu-bench-chat",
                "KEFU_CHAT_DB_THREADS": str(db_threads),
            }
        )
        self.dbname = dbname
        self.redis_url = redis_url
        self.ws_ping = ws_ping
        self.workers = workers
        self.agents = agents
        self.capacity = capacity
        self.cookies: list[str] = []
        self.mark = 0
        self.description = (
            "Kefu config.asgi:application, production settings, Postgres + Redis pub/sub "
            f"layer, uvicorn {workers} process(es), uvloop, websockets, per-message-deflate "
            f"off, {db_threads} chat DB threads/process, {agents} agents x capacity "
            f"{capacity}, routing eager (in-process)"
        )

    def prepare(self) -> None:
        self.stack.prepare()
        subprocess.run(
            [
                str(self.stack.python),
                str(BENCH / "kefu_chat_seed.py"),
                str(self.agents),
                str(self.capacity),
                self.password,
            ],
            env=self.stack.env,
            cwd=ROOT,
            check=True,
        )

    def serve(self, port: int) -> Any:
        extra = ["--workers", str(self.workers)] if self.workers > 1 else []
        return self.stack.serve(
            port,
            "--loop",
            "uvloop",
            "--ws",
            "websockets",
            "--ws-per-message-deflate",
            "false",
            "--backlog",
            "4096",
            "--ws-ping-interval",
            str(self.ws_ping),
            *extra,
        )

    def _sql(self, sql: str) -> Any:
        import psycopg

        with psycopg.connect(pg_url(self.dbname), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchone() if cursor.description else None

    def before_run(self, pairs: int) -> None:
        self._sql(
            "UPDATE workbench_conversation SET status = 'closed', closed_at = now() "
            "WHERE status <> 'closed'"
        )
        redis.Redis.from_url(self.redis_url).flushdb()
        self.mark = int(self._sql("SELECT coalesce(max(id), 0) FROM workbench_message")[0])
        if not self.cookies:
            self.cookies = [self._login(f"bench-agent-{n:02d}") for n in range(1, self.agents + 1)]

    def _login(self, username: str) -> str:
        import re

        import requests

        web = requests.Session()
        page = web.get(f"{self.http}/accounts/login/", timeout=60)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if found is None:
            raise RuntimeError(f"no CSRF token on the login page ({page.status_code})")
        web.post(
            f"{self.http}/accounts/login/",
            data={
                "username": username,
                "password": self.password,
                "csrfmiddlewaretoken": found.group(1),
            },
            headers={"Referer": f"{self.http}/accounts/login/"},
            timeout=60,
        )
        if "sessionid" not in web.cookies:
            raise RuntimeError(f"login of {username} failed")
        return f"sessionid={web.cookies['sessionid']}"

    def after_run(self, result: dict[str, Any]) -> None:
        """Every message persisted: customer messages stored since before_run (warm-up and
        opening messages, client ids `w-…`, excluded), and client ids stored twice."""
        stored, distinct = self._sql(
            "SELECT count(*), count(DISTINCT (conversation_id, client_id)) FROM "
            f"workbench_message WHERE id > {self.mark} AND sender = 'customer' "
            "AND client_id NOT LIKE 'w-%'"
        )
        result["db_stored"] = int(stored)
        result["db_duplicates"] = int(stored) - int(distinct)
        result["db_missing"] = max(0, int(result.get("sent", 0)) - int(distinct))

    @property
    def http(self) -> str:
        return self.base.replace("ws://", "http://")

    async def open_pair(self, base: str, index: int) -> Pair:
        import requests

        http = base.replace("ws://", "http://")
        answer = await asyncio.to_thread(
            requests.post, f"{http}/chat/api/session/", json={"channel": "bench-chat"}, timeout=60
        )
        answer.raise_for_status()
        token = answer.json()["visitor_token"]
        origin = Origin(http)
        customer = await ws_connect(f"{base}/ws/chat/visitor/", origin=origin)
        await customer.send(json.dumps({"type": "hello", "visitor_token": token, "after_seq": 0}))
        await _expect(customer, lambda f: f["type"] == "welcome")
        opening = f"w-open-{index}"
        await customer.send(json.dumps({"type": "send", "client_id": opening, "text": "hi"}))
        ack = await _expect(customer, lambda f: f["type"] == "ack" and f["client_id"] == opening)
        conversation_id = ack["conversation_id"]
        # One socket per agent (per load process), as an agent's workbench has: it watches
        # all of that agent's conversations of this run.
        agent = await self._agent_socket(base, index % len(self.cookies))
        await agent.request(
            {"type": "accept", "conversation_id": conversation_id}, done_or="already_taken"
        )
        await agent.request({"type": "watch", "conversation_id": conversation_id, "after_seq": 0})
        return Pair(index, customer, agent)  # type: ignore[arg-type]

    async def _agent_socket(self, base: str, n: int) -> AgentSocket:
        sockets = self.__dict__.setdefault("_sockets", {})
        lock = self.__dict__.setdefault("_socket_lock", asyncio.Lock())
        async with lock:
            if n not in sockets:
                ws = await ws_connect(
                    f"{base}/ws/chat/agent/",
                    origin=Origin(base.replace("ws://", "http://")),
                    additional_headers={"Cookie": self.cookies[n]},
                )
                await _expect(ws, lambda f: f["type"] == "welcome")
                sockets[n] = AgentSocket(ws)
            return sockets[n]

    def customer_frame(self, msg_id: str, sent_at: float) -> str:
        return json.dumps(
            {"type": "send", "client_id": msg_id, "text": f"bench message {msg_id} at {sent_at}"}
        )

    def agent_message_id(self, frame: str | bytes) -> str | None:
        data = json.loads(frame)
        if data.get("type") != "message":
            return None
        message = data.get("message") or {}
        return message.get("client_id") if message.get("sender") == "customer" else None


class AgentSocket:
    """One agent's socket shared by that agent's conversations: a reader task answers
    requests by `ref` and queues every frame for the harness, which iterates it like a
    websocket (`async for`, `close()`)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[Any] = asyncio.Queue()
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.refs = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                key = (
                    f"messages-{frame.get('conversation_id')}"
                    if frame.get("type") == "messages"
                    else str(frame.get("ref"))
                )
                future = self.waiting.pop(key, None)
                if future is not None and not future.done():
                    future.set_result(frame)
                else:
                    self.frames.put_nowait(raw)
        finally:
            self.frames.put_nowait(None)

    async def request(self, frame: dict[str, Any], done_or: str = "") -> dict[str, Any]:
        self.refs += 1
        ref = f"r{self.refs}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        # The `messages` answer to `watch` does not echo `ref` (docs/realtime.md says every
        # answer does): it is matched by its conversation id instead.
        key = f"messages-{frame['conversation_id']}" if frame["type"] == "watch" else ref
        self.waiting[key] = future
        await self.ws.send(json.dumps({**frame, "ref": ref}))
        answer = await asyncio.wait_for(future, 60)
        if answer.get("type") == "error" and answer.get("code") != done_or:
            raise RuntimeError(f"server error frame: {answer}")
        return answer

    def __aiter__(self) -> AgentSocket:
        return self

    async def __anext__(self) -> Any:
        raw = await self.frames.get()
        if raw is None:
            self.frames.put_nowait(None)  # every reader of this socket stops
            raise StopAsyncIteration
        return raw

    async def close(self) -> None:
        await self.ws.close()


async def _expect(ws: ClientConnection, match: Any, timeout: float = 60) -> dict[str, Any]:
    """Read frames until one matches (others, e.g. list doorbells, are skipped); an error
    frame that does not match raises."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if match(frame):
                return frame
            if frame.get("type") == "error":
                raise RuntimeError(f"server error frame: {frame}")


# --- Load generator (runs in its own process) --------------------------------------------


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
    send_cpu = cpu_marks[1] - cpu_marks[0]
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


# --- Runner --------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process tree so far (from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in descendants(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def settle(target: ChatTarget, args: argparse.Namespace) -> None:
    """Between runs: let the server finish the previous run's disconnects (2N group
    discards) so they do not land in the next run's first seconds, then reset."""
    time.sleep(args.settle)
    target.before_run(args.pairs)


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


def run_target(target: ChatTarget, args: argparse.Namespace) -> dict[str, Any]:
    target.prepare()
    port = free_port(*args.port_range) if args.port_range else free_port()
    base = f"ws://127.0.0.1:{port}"
    log(f"{target.name}: {target.description}; listening on 127.0.0.1:{port}")
    out: dict[str, Any] = {"target": target.name, "description": target.description}
    target.base = base
    with target.serve(port) as proc:
        rss = RssSampler(proc.pid).start()
        settle(target, args)
        log(f"{target.name}: {args.pairs} pairs, {args.rate:g} msg/s for {args.duration:g} s")
        main_run = run_load(
            target,
            base,
            pairs=args.pairs,
            rate=args.rate,
            duration=args.duration,
            args=args,
            server_pid=proc.pid,
        )
        if "error" not in main_run:
            target.after_run(main_run)
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
                    settle(target, args)
                    r = run_load(
                        target,
                        base,
                        pairs=args.pairs,
                        rate=rate,
                        duration=args.step_duration,
                        args=args,
                        server_pid=proc.pid,
                    )
                    if "error" not in r:
                        target.after_run(r)
                    r["sustained"] = sustained(r, args.p99_limit)
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
                    settle(target, args)
                    r = run_load(
                        target,
                        base,
                        pairs=args.pairs,
                        rate=mid,
                        duration=args.step_duration,
                        args=args,
                        server_pid=proc.pid,
                    )
                    if "error" not in r:
                        target.after_run(r)
                    r["sustained"] = sustained(r, args.p99_limit)
                    steps.append(r)
                    log(f"  step {mid:g} msg/s: {brief(r)} -> {'ok' if r['sustained'] else 'no'}")
                    if r["sustained"]:
                        best = mid
        rss.stop()
        out["steps"] = steps
        out["max_sustained_rate"] = best
        out["server_peak_rss_mb"] = round(rss.peak_process_mb, 1)
    return out


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
    args.port_range = (
        tuple(int(x) + k for k, x in enumerate(args.ports.split("-"))) if args.ports else None
    )

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
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / f"chat-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print()
    print(render(report))
    print(f"\nraw results: {path} ({report['elapsed_s']} s)")


if __name__ == "__main__":
    main()
