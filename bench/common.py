"""What every benchmark script shares: percentiles, the printed table, load, ports, PostgreSQL,
and a real ``jiebang serve`` started and stopped."""

from __future__ import annotations

import http.client
import io
import math
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

PG_URL = os.environ.get("JIEBANG_BENCH_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
PG_DSN = "host=127.0.0.1 port=5432 dbname=test"

#: The problem every benchmark files (the 康渝高铁 case from the seed articles).
PROBLEM = {
    "title": "康渝高铁征迁外围协调保障",
    "category": "经济建设",
    "description": "福滩村征迁矛盾多，谈判屡次不欢而散。",
    "goals": "三个月内完成征迁协议签订",
    "proposed_deadline": "2027-06-30T00:00:00+08:00",
    "proposed_points": 80,
    "support_needed": "法律顾问一名",
}


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile, linearly interpolated; NaN for no values."""
    if not values:
        return math.nan
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """Print a titled table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(
        str(h).ljust(w) if i == 0 else str(h).rjust(w)
        for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    print(line)
    print("-" * len(line))
    for r in rows:
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pg_answers() -> bool:
    """Does PostgreSQL answer at ``PG_URL``? (Benchmarks needing it print ``na`` otherwise.)"""
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=2):
            return True
    except Exception:  # any failure means "no PostgreSQL here"
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jiebang_cmd(*args: str) -> list[str]:
    """The ``jiebang`` command of this venv (``python -m api.cli`` when it is not installed)."""
    script = Path(sys.executable).with_name("jiebang")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "api.cli", *args]


def holds_port(pid: int, port: int) -> bool:
    """Whether ``pid`` or one of its children listens on loopback ``port`` (Linux ``/proc``).

    A free port is only free until someone binds it: another server started at the same moment
    can take it, and then answers the probe in ours' place."""
    inodes = set()
    for table_path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table_path).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for candidate in (pid, *child_pids(pid)):
        try:
            fds = list(Path(f"/proc/{candidate}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in inodes:
                    return True
            except OSError:
                continue
    return False


def start_serve(
    url: str,
    workdir: Path,
    *,
    workers: int = 2,
    extra: Sequence[str] = (),
    command: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen, int, IO[str]]:
    """``jiebang serve`` (or ``command`` + serve's arguments) on a free loopback port, once it answers.

    Returns the process, its port and its open log (``workdir/serve-<port>.log``); ``stop_serve`` ends it.
    A port another process took first is given up for a new one (three tries).
    """
    for attempt in range(3):
        port = free_port()
        log_path = workdir / f"serve-{port}.log"
        log = log_path.open("w")
        args = ("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), *extra)
        proc = subprocess.Popen(
            [*command, *args] if command else jiebang_cmd(*args),
            env={**os.environ, "JIEBANG_DATABASE_URL": url, "JIEBANG_LOG_LEVEL": "WARNING", **(env or {})},
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while True:
            answered = False
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/api/openapi.json")
                answered = c.getresponse().status == 200
                c.close()
            except OSError:
                pass
            if answered and holds_port(proc.pid, port):
                return proc, port, log
            taken = answered or "Connection in use" in log_path.read_text()  # another server has it
            if taken and attempt < 2:
                stop_serve(proc, log)
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_serve(proc, log)
                raise RuntimeError("serve did not start: " + log_path.read_text()[-3000:])
            time.sleep(0.2)
    raise AssertionError("unreachable: the last attempt returns or raises")


def stop_serve(proc: subprocess.Popen, log: IO[str] | None = None) -> None:
    """SIGTERM (gunicorn finishes its requests), SIGKILL after 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if log is not None:
        log.close()


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (gunicorn's workers under its master)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            kids.append(int(stat.parent.name))
    return kids


class PgSchema:
    """A private schema in ``test``; the URL sets it as search_path."""

    def __init__(self, prefix: str) -> None:
        import psycopg

        self.name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self._dsn = PG_DSN
        with psycopg.connect(self._dsn, autocommit=True) as c:
            c.execute(f"CREATE SCHEMA {self.name}")
        self.url = f"{PG_URL}?options=-csearch_path%3D{self.name}"

    def autovacuum_off(self) -> bool:
        import psycopg

        with psycopg.connect(self._dsn, autocommit=True) as c:
            return c.execute("SHOW autovacuum").fetchone()[0] == "off"

    def analyze(self) -> None:
        """What autovacuum would have done by now on a production server."""
        import psycopg

        with psycopg.connect(self._dsn, autocommit=True, options=f"-csearch_path={self.name}") as c:
            c.execute("ANALYZE")

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self._dsn, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")


# ---- bulk loading with COPY (inbox.py, analytics.py) ------------------------------------------
def bulk_id(prefix: int, i: int) -> str:
    """A UUID-shaped id, the same for the same (prefix, i): rows that refer to each other line up."""
    h = f"{prefix:04x}{i:028x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def copy_time(dt: datetime) -> str:
    """A UTC datetime as COPY text for the UtcDateTime columns (naive UTC)."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def copy_rows(cur: Any, table_sql: str, lines: Iterable[str]) -> None:
    """COPY tab-separated ``lines`` into ``table_sql`` through psycopg, in chunks of 50,000."""
    with cur.copy(f"COPY {table_sql} FROM STDIN") as cp:
        buf = io.StringIO()
        for n, line in enumerate(lines, 1):
            buf.write(line)
            if n % 50_000 == 0:
                cp.write(buf.getvalue())
                buf = io.StringIO()
        cp.write(buf.getvalue())


def postgres_cpu_seconds() -> float:
    """CPU of every local ``postgres`` process (others' sessions included: the server is shared).

    A backend that exits takes its own CPU out of the sum, so the reaped children's time the
    postmaster carries (``cutime`` + ``cstime``) is counted too; without it a session closing
    during a measurement makes the difference negative."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        if "(postgres)" not in raw:
            continue
        fields = raw.rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15]) / tick
    return total
