#!/usr/bin/env python
"""Benchmark: how long the ``jiebang`` command takes to answer (issue 19, item 6).

Runs ``jiebang --help`` and ``jiebang validate`` (the shipped claim-and-evaluate diagram and its
DMN) as fresh processes, the way an operator or a modeler's script runs them, alternating the two
so they share the machine's noise; prints median and p90 wall times, what each run loaded of the
heavy libraries, and the load average. Targets: help ≤ 0.3 s, validate ≤ 0.6 s.

Last line: ``cli_start: help_s=… validate_s=…`` (medians).

    .venv/bin/python bench/cli_start.py            # 15 runs of each
    .venv/bin/python bench/cli_start.py --quick    # 3 runs of each, smoke run
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import jiebang_cmd, loadavg, pct, table  # noqa: E402 - after the path set-up above

DIAGRAM = [str(ROOT / "bpmn" / "claim_evaluate.bpmn"), str(ROOT / "bpmn" / "claim_evaluate.dmn")]
HEAVY = ("flask", "sqlalchemy", "alembic", "SpiffWorkflow", "gunicorn")
#: Prints which heavy libraries a run of the CLI loaded (the command itself, in this interpreter).
PROBE = (
    "import sys\nfrom api.cli import main\n"
    "try:\n    code = main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
    f"print('LOADED', ','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))) or '-')\n"
)


def wall(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def loaded(args: list[str], cwd: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    ).stdout
    return out.strip().splitlines()[-1].removeprefix("LOADED ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 runs of each")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    runs = 3 if args.quick else args.runs
    with tempfile.TemporaryDirectory(prefix="jiebang-cli-") as tmp:
        work = Path(tmp)  # validate must not need a database; one here would show up as a file
        commands = {"help": jiebang_cmd("--help"), "validate": jiebang_cmd("validate", *DIAGRAM)}
        print(f"load average before: {loadavg()}")
        wall(commands["help"], work)  # warm the page cache once, not measured
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, cmd in commands.items():
                times[name].append(wall(cmd, work))
        heavy = {"help": loaded(["--help"], work), "validate": loaded(["validate", *DIAGRAM], work)}
        left = sorted(p.name for p in work.iterdir())
    table(
        f"jiebang wall time over {runs} runs each (load average after: {loadavg()})",
        ["command", "p50 s", "p90 s", "min s", "target s", "heavy libraries loaded"],
        [
            [
                label,
                f"{pct(t, 0.5):.3f}",
                f"{pct(t, 0.9):.3f}",
                f"{min(t):.3f}",
                target,
                heavy[name],
            ]
            for name, label, target in (
                ("help", "jiebang --help", "0.3"),
                ("validate", "jiebang validate claim_evaluate.bpmn .dmn", "0.6"),
            )
            for t in [times[name]]
        ],
    )
    print(f"\nfiles the runs left in their working directory: {left or 'none'}")
    print(f"cli_start: help_s={pct(times['help'], 0.5):.3f} validate_s={pct(times['validate'], 0.5):.3f}")


if __name__ == "__main__":
    main()
