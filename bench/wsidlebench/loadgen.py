"""Load generator processes: each holds its share of the sockets and does what the
controller asks over a pipe (one command at a time, answered in order).

They are forked before the controller starts its event loop; each runs its own (uvloop)
loop, raises its own open-file limit, and keeps its sockets out of the cyclic GC once
they are open, so a GC pause in a client does not show up as server latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from typing import Any

from common import raise_nofile

from .clients import AgentTab, Backoff, Customer, Holder, Socket, Tally, visitor_tokens


class Gen:
    """One load process's sockets and commands (`cmd_<name>`)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.tally = Tally()
        self.lag: list[float] = []  # how late a 50 ms timer fired (this process's loop)
        self.lag_task = asyncio.ensure_future(self._watch_lag())
        self.tokens: list[str] = []
        self.customers: list[Customer] = []
        self.agents: list[AgentTab] = []
        self.holders: list[Holder] = []

    async def _watch_lag(self) -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.05)
            self.lag.append(time.monotonic() - t - 0.05)
            if len(self.lag) > 20_000:
                del self.lag[:10_000]

    async def cmd_lag(self, reset: bool = True) -> Any:
        """This load process's event-loop lag since the last call: p99 and max, in ms."""
        lag = sorted(self.lag) or [0.0]
        if reset:
            self.lag.clear()
        return {"p99_ms": 1000 * lag[int(0.99 * (len(lag) - 1))], "max_ms": 1000 * lag[-1]}

    @property
    def sockets(self) -> list[Socket]:
        return [*self.customers, *self.agents]

    @property
    def talking(self) -> list[Customer]:
        """The customers that started a conversation."""
        return [c for c in self.customers if c.conversation is not None]

    async def cmd_sessions(self, port: int, channel: str, count: int, concurrency: int) -> Any:
        t = time.monotonic()
        tokens, statuses = await visitor_tokens(port, channel, count, concurrency)
        self.tokens += tokens
        return {"tokens": len(tokens), "statuses": dict(statuses), "s": time.monotonic() - t}

    async def cmd_add_tokens(self, tokens: list[str]) -> Any:
        self.tokens += tokens
        return len(self.tokens)

    async def cmd_idle_tokens(self, skip: int) -> Any:
        """The tokens of the customers that will not talk (the first `skip` will)."""
        return self.tokens[skip:]

    async def cmd_open(
        self,
        ws_base: str,
        origin: str,
        cookies: list[str],
        conversations: int,
        concurrency: int,
        backoff: dict[str, float],
        open_timeout: float,
        timeout: float,
    ) -> Any:
        """Customers first (hello; the first `conversations` of them send a first message,
        which starts and routes a conversation), then one agent tab per cookie."""
        t0 = time.monotonic()
        bo = Backoff(**backoff)
        Socket.open_timeout = open_timeout
        gate = asyncio.Semaphore(concurrency)
        deadline = t0 + timeout
        started_conversations = 0
        failed: list[str] = []

        async def first(sock: Socket) -> bool:
            sock.start()
            try:
                return await asyncio.wait_for(
                    asyncio.shield(sock.first), max(1.0, deadline - time.monotonic())
                )
            except TimeoutError:
                return False

        async def customer(i: int, token: str) -> None:
            nonlocal started_conversations
            c = Customer(token, f"{ws_base}/ws/chat/visitor/", origin, bo, self.tally)
            self.customers.append(c)
            async with gate:
                if not await first(c):
                    failed.append("customer")
                    return
                if i < conversations:
                    try:
                        await c.send_and_wait(f"open-{self.index}-{i}", "Hello, I need help", 60)
                        started_conversations += 1
                    except TimeoutError:
                        failed.append("conversation start")

        async def agent(cookie: str) -> None:
            a = AgentTab(f"{ws_base}/ws/chat/agent/", origin, bo, self.tally, cookie=cookie)
            self.agents.append(a)
            async with gate:
                if not await first(a):
                    failed.append("agent")

        await asyncio.gather(*(customer(i, tok) for i, tok in enumerate(self.tokens)))
        t_customers = time.monotonic() - t0
        await asyncio.gather(*(agent(cookie) for cookie in cookies))
        gc.collect()
        gc.freeze()
        return {
            "customers": sum(1 for c in self.customers if c.live),
            "agents": sum(1 for a in self.agents if a.live),
            "conversations": started_conversations,
            "failed": len(failed),
            "failed_kinds": sorted(set(failed)),
            "connect_failures": dict(self.tally.connect_failures),
            "customers_s": t_customers,
            "s": time.monotonic() - t0,
            "errors": dict(self.tally.errors),
        }

    async def cmd_conversations(self) -> Any:
        return [c.conversation for c in self.talking]

    async def cmd_probe(self, rate: float, rounds: int, timeout: float) -> Any:
        """Each talking customer sends `rounds` messages, paced at `rate`/s over this
        process: send -> ack and send -> its own `message` frame."""
        self.tally.ack.clear()
        self.tally.echo.clear()
        talking = self.talking
        n = 0
        t0 = time.monotonic()
        for r in range(rounds):
            for i, c in enumerate(talking):
                due = t0 + n / rate
                if (delay := due - time.monotonic()) > 0:
                    await asyncio.sleep(delay)
                c.send_message(f"p-{self.index}-{i}-{r}", f"probe {r}")
                n += 1
        end = time.monotonic() + timeout
        while time.monotonic() < end and (len(self.tally.ack) < n or len(self.tally.echo) < n):
            await asyncio.sleep(0.05)
        return {"sent": n, "ack": list(self.tally.ack), "echo": list(self.tally.echo)}

    async def cmd_collect_push(self) -> Any:
        push = list(self.tally.push)
        self.tally.push.clear()
        return push

    async def cmd_held(self) -> Any:
        """What each talking customer holds: {conversation: sorted seqs}."""
        return {c.conversation: sorted(c.held) for c in self.talking}

    async def cmd_arm(self, down: int, expect: dict[int, list[str]]) -> Any:
        """Before the restart: `down` talking customers will send a message as soon as
        their socket drops (queued, resent after the next hello); customers of the
        conversations in `expect` must end up holding those client ids."""
        armed = []
        for c in self.talking[:down]:
            c.send_when_down = "sent while the server was down"
            armed.append(c.conversation)
        for c in self.talking:
            c.expected |= set(expect.get(c.conversation, []))  # type: ignore[arg-type]
        return armed

    async def cmd_storm_wait(self, since: float, timeout: float) -> Any:
        """Until every socket said welcome after `since` and every customer is caught up
        (Customer.caught_up), or `timeout`. Then, for the customers still not caught up
        but connected, one `sync` each (what a client could do if it knew), to tell a
        missed push from a lost message."""
        end = time.monotonic() + timeout
        socks = self.sockets

        def pending() -> list[Socket]:
            out: list[Socket] = []
            for s in socks:
                if isinstance(s, Customer):
                    if not s.caught_up(since):
                        out.append(s)
                elif not (s.live and s.welcomes[-1] >= since):
                    out.append(s)
            return out

        left = pending()
        while left and time.monotonic() < end:
            await asyncio.sleep(0.1)
            left = [s for s in left if s in pending()] if len(left) < 50 else pending()
        done_at = time.monotonic()
        stuck = [s for s in left if isinstance(s, Customer) and s.live]
        for c in stuck:
            c.syncing = False
            c._sync()
        await asyncio.sleep(3 if stuck else 0)
        repaired = sum(1 for c in stuck if c.caught_up(since))

        def back(s: Socket) -> float | None:
            later = [t for t in s.welcomes if t >= since]
            return later[0] if later else None

        return {
            "sockets": len(socks),
            "left": len(left),
            "left_kinds": sorted({s.kind for s in left}),
            "left_samples": [_describe(s, since) for s in left[:5]],
            "stuck_repaired_by_sync": repaired,
            "stuck": len(stuck),
            "done_at": done_at,
            "back": [back(s) for s in socks],
            "kinds": [
                "talking" if isinstance(s, Customer) and s.conversation is not None else s.kind
                for s in socks
            ],
            "talking": [
                {
                    "conversation": c.conversation,
                    "back": back(c),
                    "held": {str(k): v for k, v in c.held.items()},
                    "cids": c.cids,
                    "outbox": list(c.outbox),
                    "down_sent": c.down_sent,
                    "expected": sorted(c.expected),
                    "acked": {k: v for k, v in c.acked.items() if not k.startswith("p-")},
                }
                for c in self.talking
            ],
            "denied": sum(1 for s in socks if s.denied is not None),
            "connects": sum(s.connects for s in socks),
            "failures": sum(s.failures for s in socks),
            "closes": {str(k): v for k, v in self.tally.closes.items()},
            "connect_failures": dict(self.tally.connect_failures),
            "errors": dict(self.tally.errors),
            "wire_dups": self.tally.wire_dups,
            "foreign": self.tally.foreign,
            "syncs": self.tally.syncs,
            "conversation_changes": sum(c.conversation_changes for c in self.customers),
        }

    async def cmd_live(self) -> Any:
        return {"live": sum(1 for s in self.sockets if s.live), "holders": len(self.holders)}

    async def cmd_echo_open(
        self, ws_base: str, origin: str, first: int, count: int, concurrency: int
    ) -> Any:
        t0 = time.monotonic()
        gate = asyncio.Semaphore(concurrency)
        failed = 0

        async def one(i: int) -> None:
            nonlocal failed
            h = Holder()
            async with gate:
                try:
                    await h.open(f"{ws_base}/ws/customer/{first + i}/", origin)
                    self.holders.append(h)
                except Exception:
                    failed += 1

        await asyncio.gather(*(one(i) for i in range(count)))
        return {"opened": len(self.holders), "failed": failed, "s": time.monotonic() - t0}

    async def cmd_close_all(self) -> Any:
        everything: list[Any] = [*self.sockets, *self.holders]
        for k in range(0, len(everything), 500):
            await asyncio.gather(*(s.stop() for s in everything[k : k + 500]))
        gc.unfreeze()
        self.customers, self.agents, self.holders = [], [], []
        self.tally = Tally()
        return len(everything)


def _describe(s: Socket, since: float) -> str:
    out = f"{s.kind} live={s.live} welcomes_after={sum(t >= since for t in s.welcomes)}"
    out += f" denied={s.denied} failures={s.failures}"
    if isinstance(s, Customer):
        out += (
            f" conv={s.conversation} contiguous={s.contiguous} held={len(s.held)}"
            f" outbox={list(s.outbox)} missing={sorted(s.expected - set(s.cids))}"
        )
    return out


async def _serve(conn: Any, index: int) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                msg = {"cmd": "stop"}
            loop.call_soon_threadsafe(inbox.put_nowait, msg)
            if msg.get("cmd") == "stop":
                return

    threading.Thread(target=read, daemon=True).start()
    gen = Gen(index)
    while True:
        msg = await inbox.get()
        if msg["cmd"] == "stop":
            return
        try:
            result: Any = await getattr(gen, "cmd_" + msg["cmd"])(**msg.get("args", {}))
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        with contextlib.suppress(OSError):
            conn.send(result)


def _main(conn: Any, index: int, nofile: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the controller stops us
    raise_nofile(nofile)
    # Thousands of long-lived connection objects: no multi-second full collections in the
    # client while it measures the server (the same tuning as config/asgi.py).
    gc.set_threshold(50_000, 20, 10)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_serve(conn, index))
    os._exit(0)  # no teardown of thousands of sockets


class Loadgen:
    """The controller's handle on one load process."""

    def __init__(self, ctx: Any, index: int, nofile: int) -> None:
        self.index = index
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_main, args=(child, index, nofile), daemon=True)
        self.proc.start()
        self.stopped = False  # SIGSTOPped or killed: no more commands

    async def call(self, cmd: str, wait: float = 600, **args: Any) -> Any:
        """Run `cmd` there; its answer, or TimeoutError after `wait` s."""
        self.conn.send({"cmd": cmd, "args": args})
        ready = await asyncio.to_thread(self.conn.poll, wait)
        if not ready:
            raise TimeoutError(f"load process {self.index}: {cmd} took over {wait:.0f} s")
        result = self.conn.recv()
        if isinstance(result, dict) and "error" in result and "trace" in result:
            raise RuntimeError(f"load process {self.index}: {cmd}: {result['trace']}")
        return result

    def kill(self) -> None:
        if self.proc.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.join(5)
        self.stopped = True

    def close(self) -> None:
        if self.stopped or not self.proc.is_alive():
            self.kill()
            return
        with contextlib.suppress(OSError):
            self.conn.send({"cmd": "stop"})
        self.proc.join(10)
        self.kill()


def start_loadgens(n: int, nofile: int) -> list[Loadgen]:
    """Fork the load processes (before the controller has threads or a loop)."""
    ctx = mp.get_context("fork")
    return [Loadgen(ctx, i, nofile) for i in range(n)]
