"""The clients, written from docs/realtime.md: a keep-alive HTTP client for visitor
sessions, and reconnecting websockets that behave like the bundled widget and workbench
(static/kefu/js/socket.js): on any close but 1000 and 44xx, reconnect with exponential
backoff and "equal jitter" (a random point in the upper half of the step), then `hello`
with the conversation and the highest contiguous seq held, then resend every unacked send.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

# --- HTTP ------------------------------------------------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port (uvicorn + httptools); opens
    again when the server closed it (its keep-alive time-out is 5 s)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        for attempt in range(2):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                assert self.reader is not None
                self.writer.write(head + data)
                await self.writer.drain()
                status = int((await self.reader.readuntil(b"\r\n")).split()[1])
                length, close = 0, False
                while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "connection" and "close" in value.lower():
                        close = True
                payload = await self.reader.readexactly(length)
                if close:
                    await self.close()
                try:
                    return status, json.loads(payload) if payload else None
                except ValueError:
                    return status, payload[:200].decode("utf-8", "replace")
            except (OSError, asyncio.IncompleteReadError):
                await self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def visitor_tokens(
    port: int, channel: str, count: int, concurrency: int
) -> tuple[list[str], Counter[str]]:
    """`count` new visitor sessions (POST /chat/api/session/), `concurrency` at a time on
    as many keep-alive connections. Returns the tokens and the answers' status counts."""
    tokens: list[str] = []
    statuses: Counter[str] = Counter()
    todo = iter(range(count))

    async def worker() -> None:
        http = Http(port)
        try:
            for _ in todo:
                try:
                    status, body = await http.post_json("/chat/api/session/", {"channel": channel})
                except (OSError, asyncio.IncompleteReadError) as exc:
                    statuses[type(exc).__name__] += 1
                    continue
                statuses[str(status)] += 1
                if status == 200:
                    tokens.append(body["visitor_token"])
        finally:
            await http.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return tokens, statuses


# --- websockets ------------------------------------------------------------------------


@dataclass
class Backoff:
    """static/kefu/js/socket.js's defaults (seconds)."""

    min_delay: float = 1.0
    max_delay: float = 15.0
    stable_after: float = 5.0

    def delay(self, attempt: int) -> float:
        step = min(self.max_delay, self.min_delay * 2 ** min(attempt, 30))
        return step / 2 + random.random() * step / 2


def policy(code: int) -> str:
    """What a client does after a close (docs/realtime.md, socket.js)."""
    if 4400 <= code <= 4499:
        return "denied"
    if code == 1000:
        return "closed"
    return "retry"


def ws_open(url: str, origin: str, cookie: str = "", open_timeout: float = 30) -> Any:
    """A browser-like client connection: Origin (and the session cookie for agents), no
    compression (the server has it off anyway), no pings of our own (browsers send none;
    pings from the server are answered by the library). No proxy lookup: by default the
    library scans the environment for *_proxy on every connect, which was a third of a
    load process's CPU in a reconnect storm."""
    return connect(
        url,
        proxy=None,
        origin=Origin(origin),
        additional_headers={"Cookie": cookie} if cookie else None,
        compression=None,
        ping_interval=None,
        open_timeout=open_timeout,
        close_timeout=2,
        max_queue=None,
    )


@dataclass
class Tally:
    """What one load process counts over all its sockets."""

    errors: Counter[str] = field(default_factory=Counter)  # error frames by code
    connect_failures: Counter[str] = field(default_factory=Counter)
    closes: Counter[int] = field(default_factory=Counter)  # close codes seen
    push: list[float] = field(default_factory=list)  # agent send -> customer `message`
    ack: list[float] = field(default_factory=list)  # customer send -> ack
    echo: list[float] = field(default_factory=list)  # customer send -> own `message`
    wire_dups: int = 0  # a message frame for a seq already held (shown once: by seq)
    foreign: int = 0  # a message of another conversation (should not happen)
    syncs: int = 0  # `sync` frames sent for gaps / `more`


class Socket:
    """A reconnecting websocket (socket.js): `run()` until stopped or denied."""

    kind = "?"

    # Seconds a handshake may take before the client gives up and backs off. Browsers have
    # no such timer of their own (only TCP's: SYN retries give up after ~2 min); a short one
    # makes clients abandon handshakes the server has queued and then does anyway.
    open_timeout = 120.0

    def __init__(
        self, url: str, origin: str, backoff: Backoff, tally: Tally, cookie: str = ""
    ) -> None:
        self.url = url
        self.origin = origin
        self.cookie = cookie
        self.backoff = backoff
        self.tally = tally
        self.ws: ClientConnection | None = None
        self.attempt = 0
        self.stopped = False
        self.denied: int | None = None
        self.welcomes: list[float] = []  # when each connection said welcome
        self.connects = 0
        self.failures = 0
        self.live = False  # connected and welcomed on this connection
        # Settled by the first welcome (True), or by a refusal / 3 failed tries (False).
        self.first: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.ensure_future(self.run())

    async def run(self) -> None:
        while not self.stopped:
            code = 1006
            ws = await self._connect()
            if ws is not None:
                self.ws = ws
                self.connects += 1
                opened_at = time.monotonic()
                try:
                    await self.on_open()
                    async for raw in ws:
                        self.on_frame(json.loads(raw))
                except ConnectionClosed:
                    pass
                code = ws.close_code if ws.close_code is not None else 1006
                self.ws = None
                self.live = False
                if time.monotonic() - opened_at >= self.backoff.stable_after:
                    self.attempt = 0
                self.tally.closes[code] += 1
                self.on_close(code)
            if self.stopped:
                return
            verdict = policy(code)
            if verdict != "retry":
                self.denied = code
                self._settle_first(False)
                return
            await asyncio.sleep(self.backoff.delay(self.attempt))
            self.attempt += 1

    async def _connect(self) -> ClientConnection | None:
        try:
            return await ws_open(self.url, self.origin, self.cookie, self.open_timeout)
        except Exception as exc:
            self.failures += 1
            self.tally.connect_failures[type(exc).__name__] += 1
            if self.failures >= 3:
                self._settle_first(False)
            return None

    def _settle_first(self, ok: bool) -> None:
        if not self.first.done():
            self.first.set_result(ok)

    def welcomed(self) -> None:
        self.welcomes.append(time.monotonic())
        self.live = True
        self._settle_first(True)

    async def on_open(self) -> None:
        """Right after the handshake."""

    def on_frame(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "welcome":
            self.welcomed()
        elif frame.get("type") == "error":
            self.tally.errors[str(frame.get("code"))] += 1

    def on_close(self, code: int) -> None:
        """After a close, before the backoff."""

    def send(self, frame: dict[str, Any]) -> bool:
        """Like socket.js's send: False when not connected (the caller keeps it queued)."""
        ws = self.ws
        if ws is None:
            return False
        task = asyncio.ensure_future(ws.send(json.dumps(frame)))
        task.add_done_callback(_quiet)
        return True

    async def stop(self) -> None:
        self.stopped = True
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 3)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


def _quiet(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # a send on a socket that just closed: the close handles it


class AgentTab(Socket):
    """One workbench tab: /ws/chat/agent/ with the session cookie; idle (it hears list
    doorbells). Back = welcome."""

    kind = "agent"


class Customer(Socket):
    """The widget's socket: /ws/chat/visitor/, hello with the visitor token."""

    kind = "customer"

    def __init__(self, token: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token = token
        self.conversation: int | None = None
        self.held: dict[int, float] = {}  # seq -> when first held
        self.cids: dict[str, int] = {}  # client_id -> seq, of messages held
        self.contiguous = 0  # every seq 1..contiguous is held
        self.outbox: dict[str, str] = {}  # client_id -> text, until acked
        self.sent_at: dict[str, float] = {}
        self.acked: dict[str, int] = {}  # client_id -> seq
        self.expected: set[str] = set()  # client ids this customer must end up holding
        self.send_when_down: str | None = None  # a text to send as soon as it drops
        self.down_sent: list[str] = []
        self.conversation_changes = 0
        self.syncing = False
        self.waiters: dict[str, asyncio.Future[int]] = {}

    async def on_open(self) -> None:
        hello: dict[str, Any] = {"type": "hello", "visitor_token": self.token}
        hello["after_seq"] = self.contiguous
        if self.conversation is not None:
            hello["conversation_id"] = self.conversation
        assert self.ws is not None
        await self.ws.send(json.dumps(hello))

    def on_close(self, code: int) -> None:
        if self.send_when_down is not None and not self.stopped:
            cid = f"down-{self.token[:12]}-{len(self.down_sent)}"
            self.down_sent.append(cid)
            self.expected.add(cid)
            self.send_message(cid, self.send_when_down)
            self.send_when_down = None

    def send_message(self, client_id: str, text: str) -> None:
        """Queued until acked; sent now if connected (and said hello), else on reconnect."""
        self.outbox[client_id] = text
        self.sent_at[client_id] = time.monotonic()
        if self.live:
            self.send({"type": "send", "client_id": client_id, "text": text})

    async def send_and_wait(self, client_id: str, text: str, timeout: float = 30) -> int:
        """Send and wait for the ack; returns the seq."""
        waiter = asyncio.get_running_loop().create_future()
        self.waiters[client_id] = waiter
        self.send_message(client_id, text)
        try:
            return await asyncio.wait_for(waiter, timeout)
        finally:
            self.waiters.pop(client_id, None)

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        now = time.monotonic()
        if kind == "welcome":
            state = frame.get("conversation")
            if state is not None:
                self._follow(int(state["id"]))
            self.welcomed()
            for cid, text in list(self.outbox.items()):
                self.send({"type": "send", "client_id": cid, "text": text})
        elif kind == "messages":
            for message in frame.get("messages", []):
                self._hold(message, now)
            self.syncing = False
            if frame.get("more"):
                self._sync()
        elif kind == "message":
            message = frame["message"]
            self._hold(message, now)
            if message.get("conversation_id") == self.conversation and (
                message["seq"] > self.contiguous + 1
            ):
                self._sync()  # a gap: ask for what is missing
        elif kind == "ack":
            cid = frame["client_id"]
            self.acked[cid] = frame["seq"]
            if self.conversation is None:
                self._follow(int(frame["conversation_id"]))
            if self.outbox.pop(cid, None) is not None and cid.startswith("p-"):
                self.tally.ack.append(now - self.sent_at[cid])
            waiter = self.waiters.get(cid)
            if waiter is not None and not waiter.done():
                waiter.set_result(int(frame["seq"]))
        elif kind == "conversation":
            self._follow(int(frame["conversation"]["id"]))
        elif kind == "error":
            self.tally.errors[str(frame.get("code"))] += 1

    def _follow(self, conversation_id: int) -> None:
        if self.conversation not in (None, conversation_id):
            # The old one ended (closed by someone): follow the new one from seq 0.
            self.conversation_changes += 1
            self.held.clear()
            self.cids.clear()
            self.contiguous = 0
        self.conversation = conversation_id

    def _hold(self, message: dict[str, Any], now: float) -> None:
        if self.conversation is None:
            self._follow(int(message["conversation_id"]))
        if message.get("conversation_id") != self.conversation:
            self.tally.foreign += 1
            return
        seq = int(message["seq"])
        if seq in self.held:
            self.tally.wire_dups += 1
            return
        self.held[seq] = now
        while self.contiguous + 1 in self.held:
            self.contiguous += 1
        cid = message.get("client_id")
        if not isinstance(cid, str):
            return
        self.cids[cid] = seq
        if cid.startswith("push-") and message.get("sender") == "agent":
            # "push at <monotonic send time>": the same clock in every process.
            with contextlib.suppress(ValueError, IndexError):
                self.tally.push.append(now - float(message["text"].rsplit(" ", 1)[1]))
        elif cid.startswith("p-") and cid in self.sent_at:
            self.tally.echo.append(now - self.sent_at[cid])

    def _sync(self) -> None:
        if not self.syncing and self.send({"type": "sync", "after_seq": self.contiguous}):
            self.syncing = True
            self.tally.syncs += 1

    def caught_up(self, since: float) -> bool:
        """Back after `since`, nothing left to send, every seq up to the highest held, and
        every expected message held."""
        if not self.live or self.welcomes[-1] < since:
            return False
        if self.outbox or self.contiguous != len(self.held):
            return False
        return all(cid in self.cids for cid in self.expected)


class Holder:
    """A plain socket that only reads (the echo baseline's sockets)."""

    def __init__(self) -> None:
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self, url: str, origin: str) -> None:
        self.ws = await ws_open(url, origin)
        self.task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            async for _ in self.ws:
                pass

    async def stop(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 3)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
