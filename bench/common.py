"""What every benchmark script shares: percentiles, the printed table, load, ports, PostgreSQL."""

from __future__ import annotations

import math
import os
import socket
from pathlib import Path

PG_URL = os.environ.get("JIEBANG_BENCH_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
PG_DSN = "host=127.0.0.1 port=5432 dbname=test"


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
    line = "  ".join(str(h).ljust(w) if i == 0 else str(h).rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pg_answers() -> bool:
    """Does PostgreSQL answer at ``PG_URL``? (Benchmarks needing it print ``na`` otherwise.)"""
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=2):
            return True
    except Exception:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
