"""Smoke runs of bench/api_load.py, inbox.py, timers.py, memory.py, campaign_import.py and analytics.py: each ``--quick`` runs and
ends with its one summary line (format only; figures are not judged). The four run side by side
so the whole file stays under a minute; the PostgreSQL-only ones are skipped when PostgreSQL does
not answer at 127.0.0.1:5432."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NUM = r"(\d+(\.\d+)?|na)"
SUMMARIES = {
    "api_load": re.compile(r"^api_load: (\w+=" + NUM + r" )+expected_409=\d+ errors=\d+$"),
    "inbox": re.compile(
        rf"^inbox: engine_p95_ms={NUM} http_p95_ms={NUM} tasks=\d+ open=\d+ index_only=(yes|no|na) mismatches=(\d+|na)$"
    ),
    "timers": re.compile(
        rf"^timers: n=\d+ fired={NUM} duplicates={NUM} missing={NUM} all_fired_s={NUM} fire_span_s={NUM} per_s={NUM} allowed_per_s={NUM} of_allowed={NUM}$"
    ),
    "memory": re.compile(
        rf"^memory: rss_mb={NUM} peak_mb={NUM} start_mb={NUM} instances=\d+ stepped=\d+ http_instances=\d+ errors=\d+$"
    ),
    "campaign_import": re.compile(rf"^campaign_import: rows=104 seconds={NUM}$"),
    "analytics": re.compile(
        rf"^analytics: instances=\d+ tasks=\d+ p95_30d_ms={NUM} p95_365d_ms={NUM} target_ms=1000$"
    ),
}
PG_ONLY = {"inbox", "timers", "analytics"}
# the runs are started once: the module's tests stay on one worker, or each worker would run all six
pytestmark = pytest.mark.xdist_group("bench_smoke")


def _pg_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(
    scope="session"
)  # not module: a worker may run other tests between these and would start them again
def runs() -> dict[str, subprocess.CompletedProcess]:
    """Start every quick run at once, then collect them."""
    names = [n for n in SUMMARIES if n not in PG_ONLY or _pg_answers()]
    procs = {
        n: subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / f"{n}.py"), "--quick"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in names
    }
    out = {}
    for n, p in procs.items():
        try:
            stdout, stderr = p.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, stderr = p.communicate()
        out[n] = subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)
    return out


@pytest.mark.parametrize("name", list(SUMMARIES))
def test_quick_run_prints_its_summary_line(name: str, runs: dict[str, subprocess.CompletedProcess]) -> None:
    if name not in runs:
        pytest.skip("PostgreSQL not answering on 127.0.0.1:5432")
    proc = runs[name]
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, "no output"
    assert SUMMARIES[name].match(lines[-1]), f"last line is not the summary: {lines[-1]!r}"
    assert sum(1 for line in lines if line.startswith(f"{name}: ") and "=" in line) == 1


def test_the_inbox_benchmark_finds_both_query_paths_agreeing(
    runs: dict[str, subprocess.CompletedProcess],
) -> None:
    if "inbox" not in runs:
        pytest.skip("PostgreSQL not answering on 127.0.0.1:5432")
    assert runs["inbox"].stdout.rstrip().endswith("mismatches=0"), runs["inbox"].stdout[-2000:]
