"""The web process under test: the Procfile's uvicorn flags, one process on 127.0.0.1, and
what the bench reads about it from /proc (memory, sockets, open-file limit, CPU)."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

from common import ROOT, nofile_preexec, stop_process_group, uvicorn_cmd

PROCFILE = ROOT / "Procfile"
# Where and how many: the bench decides (one process on 127.0.0.1:<its port>).
_PLACEMENT = {"--host", "--port", "--workers", "--lifespan", "--uds", "--fd"}


def procfile_web_flags(procfile: Path = PROCFILE) -> list[str]:
    """The uvicorn flags of the Procfile's `web:` line, without those that say where it
    listens and how many workers it runs (uvicorn_cmd adds host, port, lifespan)."""
    for line in procfile.read_text().splitlines():
        if line.startswith("web:"):
            argv = shlex.split(line.split(":", 1)[1])
            break
    else:
        raise SystemExit(f"no web: line in {procfile}")
    if not argv or not argv[0].endswith("uvicorn"):
        raise SystemExit(f"the Procfile's web: line does not start uvicorn: {argv[:2]}")
    flags, rest = [], argv[2:]  # uvicorn, the app
    while rest:
        flag = rest.pop(0)
        name = flag.split("=", 1)[0]
        takes_value = "=" not in flag and rest and not rest[0].startswith("--")
        value = rest.pop(0) if takes_value else None
        if name in _PLACEMENT:
            continue
        flags += [flag] if value is None else [flag, value]
    return flags


def flag_value(flags: list[str], name: str, default: str) -> str:
    for i, flag in enumerate(flags):
        if flag == name and i + 1 < len(flags):
            return flags[i + 1]
        if flag.startswith(name + "="):
            return flag.split("=", 1)[1]
    return default


class Server:
    """One uvicorn process that can be killed and started again on the same port."""

    def __init__(
        self,
        app: str,
        port: int,
        flags: list[str],
        *,
        env: dict[str, str],
        log: Path,
        nofile: int,
        app_dir: Path | None = None,
    ) -> None:
        self.cmd = uvicorn_cmd(app, port, *flags, app_dir=app_dir)
        self.port = port
        self.env = env
        self.log = log
        self.nofile = nofile
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> float:
        """Spawn it (the open-file limit is set in the child); returns the spawn time."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with open(self.log, "ab") as out:
            out.write(f"\n--- start {self.starts}: {' '.join(self.cmd)}\n".encode())
            out.flush()
            t = time.monotonic()
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=nofile_preexec(self.nofile),
            )
        return t

    def wait_listening(self, timeout: float = 60, poll: float = 0.01) -> float:
        """Polls a TCP connect every `poll` s; returns the first moment it was accepted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(f"server exited with {self.proc.returncode}; see {self.log}")
            with socket.socket() as s:
                s.settimeout(0.5)
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return time.monotonic()
            time.sleep(poll)
        raise SystemExit(f"nothing listened on 127.0.0.1:{self.port} within {timeout:.0f} s")

    def kill(self, how: str = "kill", grace: float = 30) -> float:
        """SIGKILL (`kill`: no goodbye, the kernel resets every socket) or SIGTERM (`term`:
        uvicorn's graceful shutdown, close code 1012 to every websocket; SIGKILL after
        `grace` s). Returns when the process is gone, with the moment the signal went."""
        assert self.proc is not None
        t = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL if how == "kill" else signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        return t

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_group(self.proc)


# --- /proc -----------------------------------------------------------------------------


def memory_kb(pid: int) -> dict[str, int]:
    """Resident (VmRSS), proportional (Pss) and unique (Private_*) memory of one process."""
    out = {"rss": 0, "pss": 0, "uss": 0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss"] = int(line.split()[1])
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key == "Pss":
                out["pss"] = int(rest.split()[0])
            elif key in ("Private_Clean", "Private_Dirty"):
                out["uss"] += int(rest.split()[0])
    return out


def socket_fds(pid: int) -> int:
    """Open file descriptors of `pid` that are sockets."""
    n = 0
    with contextlib.suppress(OSError):
        for fd in os.scandir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(fd.path).startswith("socket:"):
                    n += 1
    return n


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def nofile_limit(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return 0


def established(port: int) -> int:
    """Established TCP connections whose local port is `port` (the server's side)."""
    n = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(name).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    n += 1
    return n


def _tcp_table() -> list[list[str]]:
    rows: list[list[str]] = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            rows += [line.split() for line in Path(name).read_text().splitlines()[1:]]
    return rows


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def client_ports(pid: int, server_port: int) -> set[int]:
    """The local ports of `pid`'s TCP connections to `server_port` (its sockets' inodes
    looked up in /proc/net/tcp)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.scandir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(fd.path)
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
    return {_port(r[1]) for r in _tcp_table() if r[9] in inodes and _port(r[2]) == server_port}


def established_with(server_port: int, ports: set[int]) -> int:
    """The server's established connections whose peer is one of `ports`."""
    return sum(
        1
        for r in _tcp_table()
        if r[3] == "01" and _port(r[1]) == server_port and _port(r[2]) in ports
    )


def listen_drops() -> dict[str, int]:
    """The kernel's ListenOverflows / ListenDrops counters (accept queue full, SYN dropped)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for head, values in zip(lines[::2], lines[1::2], strict=False):
        if head.startswith("TcpExt:"):
            table = dict(zip(head.split()[1:], values.split()[1:], strict=False))
            return {k: int(table.get(k, 0)) for k in ("ListenOverflows", "ListenDrops")}
    return {"ListenOverflows": 0, "ListenDrops": 0}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
