"""Smoke runs of bench/cli_start.py and bench/history.py: each ``--quick`` runs and ends with its one
summary line, whose figures are sane (positive, finite; timings are not judged, the machine is
shared). history.py needs PostgreSQL at 127.0.0.1:5432 and prints ``na`` figures without it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUM = r"(\d+\.\d+|na)"


def quick(name: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert sum(1 for line in lines if line.startswith(f"{name}: ")) == 1, proc.stdout[-2000:]
    return lines


def test_cli_start_times_help_and_validate_and_loads_no_web_framework() -> None:
    lines = quick("cli_start")
    found = re.fullmatch(rf"cli_start: help_s={NUM} validate_s={NUM}", lines[-1])
    assert found, f"last line is not the summary: {lines[-1]!r}"
    help_s, validate_s = float(found.group(1)), float(found.group(2))
    assert 0 < help_s < 60 and 0 < validate_s < 60
    help_row = next(line for line in lines if line.startswith("jiebang --help"))
    assert help_row.split()[-1] == "-"  # no heavy library loaded for --help
    assert "files the runs left in their working directory: none" in lines


def test_history_compares_an_empty_and_a_long_history() -> None:
    lines = quick("history")
    found = re.fullmatch(
        rf"history: completion_ratio={NUM} inbox_ratio={NUM} audit_page_ms={NUM} finished=(\d+)", lines[-1]
    )
    assert found, f"last line is not the summary: {lines[-1]!r}"
    if found.group(1) == "na":
        return  # no PostgreSQL here
    assert int(found.group(4)) == 2000
    ratios = [float(found.group(1)), float(found.group(2))]
    assert all(0.05 < r < 20 for r in ratios), ratios
    assert 0 < float(found.group(3)) < 5000
