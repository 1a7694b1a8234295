"""Kefu's chat as a target: the real visitor / agent consumers in config.asgi:application,
driven as docs/realtime.md describes (bench/README.md, "Kefu chat target")."""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

import redis
from common import ROOT, KefuStack, pg_url
from websockets.asyncio.client import ClientConnection
from websockets.typing import Origin

from .target import BENCH, ChatTarget, Pair, ws_connect, ws_server_flags


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
        return self.stack.serve(port, *ws_server_flags(self.ws_ping), *extra)

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
