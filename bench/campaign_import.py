#!/usr/bin/env python
"""Benchmark: importing 滦南's list of 104 problems from one .xlsx into a campaign.

Builds a county (units, an organisation department whose deputy head runs the campaign), writes
a 104-row list in the template's layout, and times ``Engine.import_problems``: reading the sheet,
checking every cell, and starting 104 claim-and-evaluate instances, each filed through its
``submit_problem`` task, in one transaction. It runs on SQLite (a file in a temp dir) and on
PostgreSQL when 127.0.0.1:5432 answers, for a list still to be reviewed (each problem waits in
preliminary review) and an approved list (each also passes the review and waits for publication).
Target: under 5 s for the 104 rows. The last line is ``campaign_import: rows=104 seconds=S``,
S being the slowest of the SQLite runs of the list to be reviewed (the default campaign).

    .venv/bin/python bench/campaign_import.py            # SQLite and PostgreSQL, both kinds of list
    .venv/bin/python bench/campaign_import.py --quick    # SQLite, the list to be reviewed, once
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import PgSchema, pg_answers, table  # noqa: E402 - after the path set-up above
from engine import Engine  # noqa: E402
from engine.runtime.clock import ManualClock  # noqa: E402
from tests.campaigns import campaign_body, county, problem_list  # noqa: E402

ROWS = 104


def run_once(url: str, *, approved: bool) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds of one import (CPU: what a loaded machine hides)."""
    engine = Engine(url, clock=ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)))
    try:
        county(engine)
        campaign = engine.create_campaign("zzb_admin", campaign_body(list_approved=approved))
        content = problem_list(ROWS)
        began, cpu = time.perf_counter(), time.process_time()
        result = engine.import_problems(campaign.id, "zzb_admin", content)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        if result.imported != ROWS or result.errors:
            raise SystemExit(f"import failed: {result.imported} imported, errors {result.errors[:3]}")
        return seconds, cpu
    finally:
        engine.store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="SQLite, the list to be reviewed, once")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    kinds = [False] if args.quick else [False, True]
    rows: list[list[str]] = []
    default_sqlite: list[float] = []

    def line(database: str, approved: bool, runs: list[tuple[float, float]]) -> list[str]:
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        kind = "approved list" if approved else "to be reviewed"
        return [database, kind, f"{min(walls):.2f}", f"{max(walls):.2f}", f"{min(cpus):.2f}"]

    with tempfile.TemporaryDirectory() as tmp:
        for approved in kinds:
            runs = [
                run_once(f"sqlite:///{tmp}/import-{approved}-{i}.sqlite3", approved=approved)
                for i in range(rounds)
            ]
            if not approved:
                default_sqlite = [w for w, _ in runs]
            rows.append(line("sqlite", approved, runs))
    if not args.quick and not args.no_pg and pg_answers():
        for approved in kinds:
            times: list[tuple[float, float]] = []
            for _ in range(rounds):
                schema = PgSchema("campaign_import")
                try:
                    times.append(run_once(schema.url, approved=approved))
                finally:
                    schema.drop()
            rows.append(line("postgresql", approved, times))
    table(
        f"import of {ROWS} rows, {rounds} round(s)",
        ["database", "list", "best s", "worst s", "best cpu s"],
        rows,
    )
    print(f"campaign_import: rows={ROWS} seconds={max(default_sqlite):.2f}")


if __name__ == "__main__":
    main()
