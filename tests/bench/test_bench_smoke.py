"""Smoke run of bench/engine_step.py: it runs and ends with its summary line (figures not judged)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^engine_step: ratio_vs_raw=\d+(\.\d+)? flat_1000_vs_5=\d+(\.\d+)?$")


def test_engine_step_quick_prints_summary_line() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "engine_step.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, "no output"
    assert SUMMARY.match(lines[-1]), f"last line is not the summary: {lines[-1]!r}"
    assert sum(1 for line in lines if line.startswith("engine_step:")) == 1
