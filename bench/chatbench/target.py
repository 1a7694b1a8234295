"""The target / adapter contract of the chat benchmark, and the client side of a websocket."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

BENCH = Path(__file__).resolve().parent.parent


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


def ws_server_flags(ws_ping: float) -> list[str]:
    """uvicorn's flags for a websocket server under test: uvloop, the websockets
    implementation, no per-message deflate (it roughly doubles the memory per connection),
    the Procfile's 1 MiB frame cap, a deep accept backlog, and uvicorn's own ping interval."""
    return [
        "--loop",
        "uvloop",
        "--ws",
        "websockets",
        "--ws-per-message-deflate",
        "false",
        "--ws-max-size",
        "1048576",
        "--backlog",
        "4096",
        "--ws-ping-interval",
        str(ws_ping),
    ]
