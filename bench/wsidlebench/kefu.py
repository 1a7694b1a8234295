"""Kefu as this benchmark runs it: its database and Redis db, the server's environment
(limits lifted), agents signed in through the login form, the agents' driver sockets,
and the database's word on what exists (the record the clients are checked against)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from common import ROOT, KefuStack, pg_url
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from .clients import ws_open

BENCH = ROOT / "bench"
CHANNEL = "bench-chat"  # bench/kefu_chat_seed.py's channel, routed to "Bench desk"
PASSWORD = "bench-pass-1"

# Per-address limits on /chat/api/session/ and on conversation starts are being added
# (settings KEFU_RATE_*, read from the environment): 10,000 visitors from 127.0.0.1 would
# trip them. These values lift them; a server without such settings ignores them.
# --server-env NAME=VALUE adds or overrides any of them.
RATE_LIMIT_ENV = {
    "KEFU_RATE_LIMITS": "false",
    "KEFU_RATE_CHAT_SESSION": "1000000/m",
    "KEFU_RATE_CHAT_SESSIONS": "1000000/m",
    "KEFU_RATE_CONVERSATION_START": "1000000/m",
    "KEFU_RATE_CONVERSATION_STARTS": "1000000/m",
}


def rate_settings_in_tree() -> list[str]:
    """KEFU_RATE_* names the settings of this checkout read (to warn about any the
    benchmark does not set)."""
    names: set[str] = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        names |= set(re.findall(r"KEFU_RATE_[A-Z0-9_]+", path.read_text()))
    return sorted(names)


class KefuSide:
    def __init__(
        self, dbname: str, redis_url: str, server_env: dict[str, str], db_threads: int
    ) -> None:
        env = {
            # Routing runs in the server on commit (no Celery worker in the benchmark);
            # pub/sub channel names ignore the Redis db number: a prefix of our own.
            "KEFU_TASKS_EAGER": "true",
            "KEFU_CHANNEL_PREFIX": "kefu-bench-wsidle",
            "KEFU_CHAT_DB_THREADS": str(db_threads),
            **RATE_LIMIT_ENV,
            **server_env,
        }
        self.stack = KefuStack(dbname, redis_url, log_name="ws-idle-kefu-server.log", extra_env=env)
        self.dbname = dbname
        self.redis_url = redis_url

    def prepare(self, agents: int, capacity: int) -> None:
        """Database, migrations, demo data, then the bench channel and `agents` agents
        (bench/kefu_chat_seed.py: online, capacity `capacity`, password PASSWORD)."""
        self.stack.prepare()
        subprocess.run(
            [
                str(self.stack.python),
                str(BENCH / "kefu_chat_seed.py"),
                str(agents),
                str(capacity),
                PASSWORD,
            ],
            env=self.stack.env,
            cwd=ROOT,
            check=True,
        )

    def reset(self, agents: int) -> None:
        """Seats free again (every open conversation closed), only this run's `agents`
        bench agents online (routing must give every conversation to an agent whose
        socket the controller holds), and an empty Redis db."""
        self.sql(
            "UPDATE workbench_conversation SET status = 'closed', closed_at = now() "
            "WHERE status <> 'closed'"
        )
        self.sql(
            "UPDATE agents_agentprofile SET state = 'offline' WHERE user_id IN (SELECT id FROM "
            "agents_user WHERE username LIKE 'bench-agent-%%' AND NOT username = ANY(%s))",
            [[f"bench-agent-{n:02d}" for n in range(1, agents + 1)]],
        )
        redis.Redis.from_url(self.redis_url).flushdb()

    def sql(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(pg_url(self.dbname), autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def agent_ids(self, agents: int) -> dict[int, str]:
        names = [f"bench-agent-{n:02d}" for n in range(1, agents + 1)]
        rows = self.sql("SELECT id, username FROM agents_user WHERE username = ANY(%s)", [names])
        return {int(pk): name for pk, name in rows}

    def holders(self, conversations: list[int]) -> dict[int, int | None]:
        rows = self.sql(
            "SELECT id, agent_id FROM workbench_conversation WHERE id = ANY(%s)", [conversations]
        )
        return {int(pk): agent for pk, agent in rows}

    def messages(self, conversations: list[int]) -> dict[int, list[tuple[int, str | None]]]:
        """Every stored message of these conversations: {conversation: [(seq, client_id)]}."""
        rows = self.sql(
            "SELECT conversation_id, seq, client_id FROM workbench_message "
            "WHERE conversation_id = ANY(%s) ORDER BY conversation_id, seq",
            [conversations],
        )
        out: dict[int, list[tuple[int, str | None]]] = {c: [] for c in conversations}
        for conv, seq, cid in rows:
            out[int(conv)].append((int(seq), cid))
        return out

    def login_all(self, http: str, usernames: list[str], threads: int = 4) -> dict[str, str]:
        with ThreadPoolExecutor(threads) as pool:
            cookies = list(pool.map(lambda u: login(http, u), usernames))
        return dict(zip(usernames, cookies, strict=True))


def login(http: str, username: str) -> str:
    """Sign in through /accounts/login/ like a browser; the `Cookie` header value."""
    import requests

    web = requests.Session()
    page = web.get(f"{http}/accounts/login/", timeout=60)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if found is None:
        raise RuntimeError(f"no CSRF token on the login page ({page.status_code})")
    web.post(
        f"{http}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": found[1]},
        headers={"Referer": f"{http}/accounts/login/"},
        timeout=60,
    )
    if "sessionid" not in web.cookies:
        raise RuntimeError(f"login of {username} failed")
    return f"sessionid={web.cookies['sessionid']}"


class Driver:
    """An agent's own workbench socket in the controller: it watches the agent's
    conversations (as the workbench does with the open ones; a send on a watched
    conversation skips a scoped lookup), sends the agent's messages (`send`, answered by
    `ack`), and reconnects and watches again when told to."""

    def __init__(self, ws_base: str, origin: str, cookie: str, username: str) -> None:
        self.url = f"{ws_base}/ws/chat/agent/"
        self.origin = origin
        self.cookie = cookie
        self.username = username
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.watching: list[int] = []

    async def connect(self, timeout: float = 60) -> float:
        """Connect (again), retrying every 0.1 s until welcome; returns its time."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                ws = await ws_open(self.url, self.origin, self.cookie, open_timeout=10)
                async with asyncio.timeout(10):
                    while json.loads(await ws.recv()).get("type") != "welcome":
                        pass
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        self.ws = ws
        self.reader = asyncio.ensure_future(self._read(ws))
        return time.monotonic()

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                frame = json.loads(raw)
                cid = frame.get("client_id")
                if frame.get("type") == "messages":
                    # The answer to `watch` does not echo `ref`: matched by conversation.
                    cid = f"watch-{frame.get('conversation_id')}"
                if frame.get("type") in ("ack", "error", "messages") and cid in self.waiting:
                    waiter = self.waiting.pop(cid)
                    if not waiter.done():
                        waiter.set_result(frame)
        for waiter in self.waiting.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("agent socket closed"))
        self.waiting.clear()

    async def watch(self, conversations: list[int], timeout: float = 30) -> None:
        """`watch` each (after_seq: everything; the answer is read and dropped)."""
        assert self.ws is not None
        for conversation in conversations:
            waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self.waiting[f"watch-{conversation}"] = waiter
            frame = {"type": "watch", "conversation_id": conversation, "after_seq": 0}
            await self.ws.send(json.dumps(frame))
            await asyncio.wait_for(waiter, timeout)
            if conversation not in self.watching:
                self.watching.append(conversation)

    async def send(
        self, conversation: int, client_id: str, text: str, timeout: float = 30
    ) -> dict[str, Any]:
        """`send` and its answer (ack or error frame) within `timeout` s."""
        assert self.ws is not None
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[client_id] = waiter
        frame = {"type": "send", "conversation_id": conversation, "client_id": client_id}
        # The send time goes in the text: the customer's process computes the push delay.
        t0 = time.monotonic()
        frame["text"] = f"push at {t0!r}" if client_id.startswith("push-") else text
        await self.ws.send(json.dumps(frame))
        answer = await asyncio.wait_for(waiter, timeout)
        return {**answer, "rtt": time.monotonic() - t0}

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 3)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader
