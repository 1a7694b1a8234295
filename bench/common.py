"""Small helpers shared by the benchmarks: percentiles, process memory, servers, tables,
logging, the `--ports` option and the JSON report file.

Nothing here imports Django or Kefu: the benchmarks drive real server processes from the
outside, over HTTP and websockets, and read their memory from /proc.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PORT_RANGE = range(8400, 8500)
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def parse_port_range(ports: str) -> tuple[int, ...] | None:
    """The `--ports` option: "8600-8699" -> (8600, 8700) (free_port's stop is exclusive);
    "" -> None (common.PORT_RANGE)."""
    return tuple(int(x) + k for k, x in enumerate(ports.split("-"))) if ports else None


def pick_port(port_range: tuple[int, ...] | None) -> int:
    """A free port in the `--ports` range, else in PORT_RANGE."""
    return free_port(*port_range) if port_range else free_port()


def save_report(kind: str, report: dict[str, Any]) -> Path:
    """The raw results as var/bench/<kind>-<date>.json."""
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    return path


def pg_url(dbname: str) -> str:
    return f"{PG_ADMIN_URL.rstrip('/')}/{dbname}"


def ensure_database(dbname: str) -> None:
    import psycopg

    with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def summary_ms(values_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds from a list of durations in seconds."""
    ms = [v * 1000 for v in values_s]
    return {
        "n": float(len(ms)),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else float("nan"),
    }


def free_port(start: int = PORT_RANGE.start, stop: int = PORT_RANGE.stop) -> int:
    """A port in 8400-8499 on 127.0.0.1 that nothing listens on right now."""
    for port in range(start, stop):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {start}-{stop - 1} on 127.0.0.1")


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f} s")


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """pid and all its descendants (children of children...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


@dataclass
class RssSampler:
    """Samples the resident memory of a server process tree every `interval` seconds.

    Reports the peak of the tree's summed VmRSS seen by sampling, and the largest single
    process's VmHWM (the kernel's own high-water mark, so no peak between samples is
    missed for that process).
    """

    pid: int
    interval: float = 0.25
    peak_tree_kb: int = 0
    hwm_kb: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        total = 0
        for p in descendants(self.pid):
            total += _status_kb(p, "VmRSS")
            hwm = _status_kb(p, "VmHWM")
            if hwm:
                self.hwm_kb[p] = max(self.hwm_kb.get(p, 0), hwm)
        self.peak_tree_kb = max(self.peak_tree_kb, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def start(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.sample()
        self._stop.set()
        if self._thread:
            self._thread.join(2)

    @property
    def peak_process_mb(self) -> float:
        return max(self.hwm_kb.values(), default=0) / 1024

    @property
    def peak_tree_mb(self) -> float:
        return self.peak_tree_kb / 1024


@contextlib.contextmanager
def server_process(
    cmd: Sequence[str],
    *,
    port: int,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    start_timeout: float = 60,
    nofile: int | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server in its own process group, wait for its port, always stop it.
    `nofile`: the open-file limit set in the child before it execs (see nofile_preexec)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=nofile_preexec(nofile) if nofile else None,
        )
        try:
            wait_for_port(port, start_timeout, proc)
            yield proc
        finally:
            stop_process_group(proc)


def stop_process_group(proc: subprocess.Popen[bytes], grace: float = 10) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def machine_line() -> str:
    load = os.getloadavg()
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain markdown table (also readable in a terminal)."""
    cells = [[str(h) for h in headers]] + [[fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def uvicorn_cmd(app: str, port: int, *extra: str, app_dir: Path | None = None) -> list[str]:
    """The .venv's uvicorn serving `app` (imported from `app_dir` if given) on
    127.0.0.1:port, quiet, no lifespan; `extra` flags last."""
    return [
        str(ROOT / ".venv" / "bin" / "uvicorn"),
        app,
        *(["--app-dir", str(app_dir)] if app_dir else []),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--lifespan",
        "off",
        "--no-access-log",
        "--log-level",
        "warning",
        *extra,
    ]


def raise_nofile(want: int) -> int:
    """Raise this process's open-file limit towards `want`: the hard limit too when the
    process may (root, CAP_SYS_RESOURCE), else up to the hard limit. Returns the soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            soft, hard = want, want
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def nofile_preexec(want: int) -> Any:
    """A subprocess preexec_fn: the child raises its own open-file limit (raise_nofile)
    before it execs, whatever the parent's limit is."""

    def preexec() -> None:
        raise_nofile(want)

    return preexec


class KefuStack:
    """Kefu itself as a benchmark runs it: production settings over plain HTTP on 127.0.0.1,
    its own Postgres database and Redis db, the server as the Procfile starts it (uvicorn
    config.asgi:application), one worker. Shared by the ticket and chat benchmarks."""

    def __init__(
        self,
        dbname: str,
        redis_url: str,
        *,
        log_name: str,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.dbname = dbname
        self.redis_url = redis_url
        self.log = VAR / log_name
        self.python = ROOT / ".venv" / "bin" / "python"
        secret = VAR / "kefu-secret-key"
        if not secret.exists():
            import secrets

            secret.parent.mkdir(parents=True, exist_ok=True)
            secret.write_text(secrets.token_urlsafe(64))
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": pg_url(dbname),
            "REDIS_URL": redis_url,
            "DJANGO_SECRET_KEY_FILE": str(secret),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_SECURE_HSTS_SECONDS": "0",
            "KEFU_LOG_LEVEL": "WARNING",
            # Thousands of simulated customers from 127.0.0.1: no abuse limits here.
            "KEFU_RATE_LIMITS_ENABLED": "false",
        }
        self.env.pop("DJANGO_SECRET_KEY", None)
        # A benchmark's own settings (e.g. limits to lift); also `stack.env.update(...)`.
        self.env.update(extra_env or {})

    def manage(self, *args: str) -> None:
        subprocess.run([str(self.python), "manage.py", *args], env=self.env, cwd=ROOT, check=True)

    def prepare(self) -> None:
        """Its database, migrated, with the demo shops, groups and users (kefu-demo), and
        the static files collected (production settings serve them from the manifest)."""
        ensure_database(self.dbname)
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("collectstatic", "--no-input", "-v", "0")
        self.manage("seed_demo")

    def serve(
        self, port: int, *extra: str, nofile: int | None = None
    ) -> contextlib.AbstractContextManager[Any]:
        cmd = uvicorn_cmd("config.asgi:application", port, *extra)
        return server_process(cmd, port=port, env=self.env, cwd=ROOT, log=self.log, nofile=nofile)
