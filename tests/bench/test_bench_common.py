"""The benchmarks' own measuring tools: a figure they print is only as good as these."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bench.common import postgres_cpu_seconds
from tests.conftest import PG_RAW

psycopg = pytest.importorskip("psycopg")


def _own_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_session_that_ends_keeps_its_cpu_in_the_postgres_sum() -> None:
    """The timers benchmark once printed a negative allowance: a backend that exited mid-run
    took its CPU out of the sum. Its time must stay counted after the server reaps it."""
    try:
        conn = psycopg.connect(PG_RAW, connect_timeout=2)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL not answering on 127.0.0.1:5432")
    before = postgres_cpu_seconds()
    with conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        conn.execute("SELECT count(*) FROM generate_series(1, 4000000)").fetchone()
        if not Path(f"/proc/{pid}").exists():
            pytest.skip("the PostgreSQL server runs outside this machine's process table")
        burned = _own_cpu(pid)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "the backend did not exit"
    assert burned > 0.05, "the query burned too little CPU to tell"
    assert postgres_cpu_seconds() - before >= burned - 0.02
