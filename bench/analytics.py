#!/usr/bin/env python
"""Benchmark: where work waits (``Engine.analytics``) at 100,000 instances (PostgreSQL).

Bulk-loads with COPY, into a private schema of database ``test`` at 127.0.0.1:5432 migrated by the
project's own ``Store(url)`` and dropped at the end: ``--instances`` claim-and-evaluate instances
(default 100,000) of 10 user tasks each, started over the last 365 days; 90 % of the tasks completed
after a wait of minutes to weeks (each element its own typical wait), 10 % open with a due date,
some past it. Then times ``Engine.analytics`` over the last 30 and 365 days, five runs each, and
prints the statement plans. Thirty days read the completed tasks themselves; a year reads each
finished day's histogram (``task_wait_day``), which the first year-long call counts, timed apart.

Last line: ``analytics: instances=N tasks=N p95_30d_ms=… p95_365d_ms=… target_ms=1000``.

    .venv/bin/python bench/analytics.py            # 100,000 instances, 1,000,000 tasks (load ≈ 1 min)
    .venv/bin/python bench/analytics.py --quick    # 2,000 instances, smoke run
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import PG_DSN, PgSchema, bulk_id, copy_rows, copy_time, loadavg, pct, pg_answers, table  # noqa: E402 - after the path set-up above

NOW = datetime(2026, 11, 1, tzinfo=UTC)
ELEMENTS = [  # the shipped diagram's user tasks and a typical wait at each, in hours
    ("submit_problem", 2),
    ("preliminary_review", 30),
    ("committee_approval", 120),
    ("select_claim", 48),
    ("progress_report", 300),
    ("completion_report", 200),
    ("acceptance", 90),
    ("revise_problem", 24),
    ("year_end_assessment", 400),
    ("review_extension", 12),
]


def bulk_load(schema: str, n_instances: int, definition_id: int) -> tuple[int, float]:
    import psycopg

    rnd = random.Random(20261201)
    t0 = time.perf_counter()
    with psycopg.connect(PG_DSN, options=f"-csearch_path={schema}") as conn, conn.cursor() as cur:
        starts = [NOW - timedelta(seconds=rnd.randrange(365 * 86400)) for _ in range(n_instances)]
        copy_rows(
            cur,
            "instance (id, definition_id, process_key, version, business_key, status, state, data, active_elements, "
            "visited, started_by, created_at, updated_at, row_version)",
            [
                f"{bulk_id(1, i)}\t{definition_id}\tclaim_evaluate\t1\tB-{i}\trunning\t{{}}\t{{}}\t[]\t[]\tu\t{copy_time(at)}\t{copy_time(at)}\t1\n"
                for i, at in enumerate(starts)
            ],
        )
        lines = []
        for i, at in enumerate(starts):
            for k, (element, hours) in enumerate(ELEMENTS):
                arrived = at + timedelta(hours=k * 6)
                waited = timedelta(hours=rnd.expovariate(1 / hours))
                done = arrived + waited
                if done < NOW and rnd.random() < 0.9:
                    status, completed, due = "completed", copy_time(done), "\\N"
                else:
                    status, completed = "open", "\\N"
                    due = copy_time(arrived + timedelta(hours=hours * 2))
                lines.append(
                    f"{bulk_id(2, i * 10 + k)}\t{bulk_id(1, i)}\tclaim_evaluate\tB-{i}\t{element}\t{element}\t\t[]\tu\t"
                    f"{status}\t{copy_time(arrived)}\t{due}\t{completed}\ttask\tf\n"
                )
        copy_rows(
            cur,
            "human_task (id, instance_id, process_key, business_key, element_id, name, lane, candidate_groups, "
            "assignee, status, created_at, due_at, completed_at, kind, returned)",
            lines,
        )
        conn.commit()
        conn.autocommit = True
        for t in ("instance", "human_task"):
            cur.execute(f"VACUUM ANALYZE {t}")
    return len(lines), time.perf_counter() - t0


def timed(engine: Any, days: int, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        engine.analytics("claim_evaluate", since=NOW - timedelta(days=days), until=NOW, viewer="bench_admin")
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="2,000 instances")
    args = parser.parse_args()
    n = 2_000 if args.quick else args.instances
    if not pg_answers():
        print("analytics: PostgreSQL does not answer at 127.0.0.1:5432")
        print("analytics: instances=0 tasks=0 p95_30d_ms=na p95_365d_ms=na target_ms=1000")
        return 0
    from sqlalchemy import event, text

    from engine import Engine, ManualClock
    from engine.store import Store

    pg = PgSchema("bench_analytics")
    try:
        store = Store(pg.url)
        engine = Engine(store=store, clock=ManualClock(NOW))
        engine.upsert_user("bench_admin", roles=["admin"])
        with store.read() as s:
            definition_id = s.scalar(text("SELECT min(id) FROM definition WHERE key = 'claim_evaluate'"))
        tasks, load_s = bulk_load(pg.name, n, definition_id)
        print(f"loaded {n:,} instances, {tasks:,} tasks in {load_s:.1f} s; load average {loadavg()}")
        statements: list[str] = []

        def capture(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            statements.append(statement)

        event.listen(store.engine, "before_cursor_execute", capture)
        timed(engine, 30, 1)  # warm: parsed definition, pooled connections
        event.remove(store.engine, "before_cursor_execute", capture)
        (first,) = timed(engine, 365, 1)  # counts the year's finished days into their histograms, once
        print(f"first 365-day call, counting {365 - 1} days: {first:.0f} ms; load average {loadavg()}")
        month, year = timed(engine, 30, 5), timed(engine, 365, 5)
        table(
            "Engine.analytics (ms)",
            ["period", "p50", "p95", "max"],
            [
                [label, f"{pct(v, 0.5):.0f}", f"{pct(v, 0.95):.0f}", f"{max(v):.0f}"]
                for label, v in (("30 days", month), ("365 days", year))
            ],
        )
        print(f"statements per call: {len(statements)} (the first warm call)")
        print(
            f"analytics: instances={n} tasks={tasks} p95_30d_ms={pct(month, 0.95):.0f} p95_365d_ms={pct(year, 0.95):.0f} target_ms=1000"
        )
        engine.store.dispose()
    finally:
        pg.drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
