#!/usr/bin/env python
"""Benchmark: the inbox at ten million task rows, a million of them open (PostgreSQL).

Bulk-loads, with COPY through psycopg straight into the projection tables (the schema itself comes
from the project's own migrations via ``engine.store.Store(url)``, in a private schema of database
``test`` at 127.0.0.1:5432, dropped at the end):

* ``--tasks`` open human tasks (default 1,000,000) in instances of 10 tasks each, created over the
  last 180 days; 70 % are group tasks nobody has claimed (a candidate row per group), 20 % group
  tasks someone claimed and 10 % lane-assigned to one person (no candidate rows, as the engine
  keeps them); one candidate group per group task, 10 % of them two;
* ``--finished`` finished tasks (default 9,000,000) in finished instances over the two years
  before: each with the person who did it, no queue rows;
* ``--users`` users (default 10,000) in ``--groups`` groups (default 500), each user in 1–3 groups;
  20 probe users are in exactly 3 groups.

Then a probe user asks for ``scope=involved`` page 1 (50 items) with its total:

1. in-process: ``Engine.list_tasks(user, scope="involved")`` timed (p50/p95/p99 over the probes);
2. over HTTP: ``GET /api/v1/tasks?scope=involved&page=1&per_page=50`` against a real
   ``jiebang serve --workers 2``, one client, sequential (loopback; includes auth and JSON);
3. the SQL the engine issues for one call, captured with SQLAlchemy's ``before_cursor_execute``
   event, each run under ``EXPLAIN (ANALYZE, BUFFERS)`` and printed;
4. the same page and total through the engine's general query (a filter that matches every task):
   both paths must agree for every probe user.

Last line: ``inbox: engine_p95_ms=… http_p95_ms=… tasks=N open=N index_only=yes|no mismatches=N``
where ``index_only`` says whether the engine's plans avoid sequential scans of human_task and
task_candidate. Target: p95 ≤ 10 ms in-process and over HTTP, plans index-only.

    .venv/bin/python bench/inbox.py              # 10,000,000 task rows (load ≈ 10 min)
    .venv/bin/python bench/inbox.py --quick      # 30,000 task rows, smoke run (< 30 s)
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path set-up above
    PG_DSN,
    PgSchema,
    bulk_id,
    copy_rows,
    copy_time,
    loadavg,
    pct,
    pg_answers,
    start_serve,
    stop_serve,
    table,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PROBES = 20


# ------------------------------------------------------------------------------------------
# statistics and printing (house style)
# ------------------------------------------------------------------------------------------
def fmt(v: float | None, digits: int = 2) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


# ------------------------------------------------------------------------------------------
# bulk load
# ------------------------------------------------------------------------------------------
def load_finished(
    cur: Any,
    rnd: random.Random,
    users: list[str],
    definition_id: int,
    n: int,
    first_instance: int,
    first_task: int,
) -> None:
    """COPY ``n`` finished tasks, ten to a finished instance, over the two years before the open ones.

    They stay in ``human_task`` (history, analytics) with their assignee and ``completed`` status and
    have no queue rows, as the engine leaves them. Generated as streams: ten million rows never sit
    in memory at once."""
    span = 730 * 86400
    n_inst = (n + 9) // 10
    at = [NOW - timedelta(days=180, seconds=rnd.randrange(span)) for _ in range(n_inst)]
    copy_rows(
        cur,
        "instance (id, definition_id, process_key, version, business_key, status, state, data, active_elements, visited, "
        "started_by, created_at, updated_at, row_version)",
        (
            f"{bulk_id(1, first_instance + i)}\t{definition_id}\tclaim_evaluate\t1\tF-{i}\tcompleted\t{{}}\t{{}}\t[]\t[]\t"
            f"{rnd.choice(users)}\t{copy_time(at[i])}\t{copy_time(at[i] + timedelta(days=30))}\t1\n"
            for i in range(n_inst)
        ),
    )

    def tasks() -> Iterator[str]:
        for t in range(n):
            i = t // 10
            created = at[i] + timedelta(days=3 * (t % 10), seconds=rnd.randrange(86400))
            who = rnd.choice(users)
            yield (
                f"{bulk_id(2, first_task + t)}\t{bulk_id(1, first_instance + i)}\tclaim_evaluate\tF-{i}\ttask_{t % 10}\t"
                f"任务 {t % 10}\tLane\t[]\t{who}\tcompleted\t{copy_time(created)}\t"
                f"{copy_time(created + timedelta(hours=rnd.randint(1, 72)))}\t{who}\ttask\tf\n"
            )

    copy_rows(
        cur,
        "human_task (id, instance_id, process_key, business_key, element_id, name, lane, candidate_groups, assignee, "
        "status, created_at, completed_at, completed_by, kind, returned)",
        tasks(),
    )


def bulk_load(
    schema: str, n_tasks: int, n_users: int, n_groups: int, definition_id: int, n_finished: int = 0
) -> dict[str, Any]:
    """COPY users, memberships, instances, human tasks and candidate rows; returns the probe users."""
    import psycopg

    rnd = random.Random(20261123)
    groups = [f"g{g:04d}" for g in range(n_groups)]
    users = [f"u{u:05d}" for u in range(n_users)]
    member_of: dict[str, list[str]] = {}
    probes = users[:PROBES]
    for u in users:
        member_of[u] = rnd.sample(groups, 3 if u in probes else rnd.randint(1, 3))
    t0 = time.perf_counter()
    created = copy_time(NOW - timedelta(days=400))
    with psycopg.connect(PG_DSN, options=f"-csearch_path={schema}") as conn, conn.cursor() as cur:
        copy_rows(
            cur,
            "app_user (username, display_name, roles, created_at)",
            [f"{u}\t{u}\t[]\t{created}\n" for u in users],
        )
        copy_rows(
            cur, 'membership ("group", username)', [f"{g}\t{u}\n" for u, gs in member_of.items() for g in gs]
        )
        n_inst = (n_tasks + 9) // 10
        span = 180 * 86400
        inst_lines = []
        inst_created = []
        for i in range(n_inst):
            at = NOW - timedelta(seconds=rnd.randrange(span))
            inst_created.append(at)
            inst_lines.append(
                f"{bulk_id(1, i)}\t{definition_id}\tclaim_evaluate\t1\tB-{i}\trunning\t{{}}\t{{}}\t[]\t[]\t{rnd.choice(users)}\t{copy_time(at)}\t{copy_time(at)}\t1\n"
            )
        copy_rows(
            cur,
            "instance (id, definition_id, process_key, version, business_key, status, state, data, active_elements, visited, "
            "started_by, created_at, updated_at, row_version)",
            inst_lines,
        )
        del inst_lines
        task_lines, cand_lines = [], []
        for t in range(n_tasks):
            i = t // 10
            at = inst_created[i] + timedelta(seconds=rnd.randrange(86400 * 3))
            kind = rnd.random()
            if kind < 0.9:
                gs = [rnd.choice(groups)] if rnd.random() < 0.9 else rnd.sample(groups, 2)
                assignee = rnd.choice(users) if kind >= 0.7 else None
            else:
                gs, assignee = [], rnd.choice(users)
            tid = bulk_id(2, t)
            gjson = "[" + ", ".join(f'"{g}"' for g in gs) + "]"
            task_lines.append(
                f"{tid}\t{bulk_id(1, i)}\tclaim_evaluate\tB-{i}\ttask_{t % 10}\t任务 {t % 10}\t{'Lane' if gs else ''}\t{gjson}\t"
                f"{assignee or chr(92) + 'N'}\topen\t{copy_time(at)}\ttask\tf\n"
            )
            if assignee is None:  # the engine keeps queue rows only for open tasks nobody holds
                for g in gs:
                    cand_lines.append(f"{g}\t{copy_time(at)}\t{tid}\n")
        copy_rows(
            cur,
            "human_task (id, instance_id, process_key, business_key, element_id, name, lane, candidate_groups, assignee, "
            "status, created_at, kind, returned)",
            task_lines,
        )
        copy_rows(cur, 'task_candidate ("group", created_at, task_id)', cand_lines)
        n_cand = len(cand_lines)
        del task_lines, cand_lines
        if n_finished:
            load_finished(
                cur, rnd, users, definition_id, n_finished, first_instance=n_inst, first_task=n_tasks
            )
        conn.commit()
        conn.autocommit = True
        for t in ("app_user", "membership", "instance", "human_task", "task_candidate"):
            cur.execute(f"VACUUM ANALYZE {t}")
    return {
        "probes": probes,
        "member_of": member_of,
        "seconds": time.perf_counter() - t0,
        "candidates": n_cand,
    }


def explain(conn: Any, statement: str, params: Any) -> list[str]:
    return [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--groups", type=int, default=500)
    ap.add_argument(
        "--finished", type=int, default=9_000_000, help="finished tasks beside the open ones (history rows)"
    )
    ap.add_argument("--repeat", type=int, default=10, help="calls per probe user and method")
    ap.add_argument(
        "--quick", action="store_true", help="10,000 tasks, 500 users, 50 groups, 1 call per probe"
    )
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument(
        "--profile", action="store_true", help="pyinstrument profile of Engine.list_tasks calls, printed"
    )
    args = ap.parse_args()
    if args.quick:
        args.tasks, args.users, args.groups, args.repeat, args.finished = 10_000, 500, 50, 1, 20_000
    print(
        f"inbox benchmark, {datetime.now(UTC).isoformat(timespec='seconds')} load {loadavg()} cores {os.cpu_count()}; "
        f"{args.tasks:,} open tasks and {args.finished:,} finished, {args.users:,} users, {args.groups} groups"
    )
    if not pg_answers():
        print("PostgreSQL does not answer at 127.0.0.1:5432: skipped")
        print("inbox: engine_p95_ms=na http_p95_ms=na tasks=0 open=0 index_only=na mismatches=na")
        return 0

    from sqlalchemy import event, text
    from sqlalchemy.engine import Engine as SqlEngine

    from engine import Engine
    from engine.store import Store

    pg = PgSchema("bench_inbox")
    schema, url = pg.name, pg.url
    proc = None
    try:
        store = Store(url)  # the project's own migrations
        engine = Engine(store=store)  # deploys the shipped definition (instances reference it)
        with store.read() as s:
            definition_id = s.scalar(text("SELECT min(id) FROM definition"))
        loaded = bulk_load(schema, args.tasks, args.users, args.groups, definition_id, args.finished)
        probes = loaded["probes"]
        print(
            f"loaded in {loaded['seconds']:.1f} s: {args.tasks + args.finished:,} task rows ({args.tasks:,} open), "
            f"{loaded['candidates']:,} candidate rows; load {loadavg()}"
        )

        # expected sizes for the probe users
        with store.read() as s:
            sizes = []
            for u in probes[:3]:
                mine = s.scalar(
                    text("SELECT count(*) FROM human_task WHERE assignee = :u AND status = 'open'"), {"u": u}
                )
                cand = s.scalar(
                    text(
                        "SELECT count(*) FROM task_candidate tc JOIN human_task ht ON ht.id = tc.task_id "
                        'WHERE tc."group" = ANY(:g) AND ht.assignee IS NULL'
                    ),
                    {"g": loaded["member_of"][u]},
                )
                sizes.append(f"{u}: mine {mine}, candidate rows {cand}")
        print("probe users (3 groups each): " + "; ".join(sizes))

        # 1. in-process Engine.list_tasks (warm: one call per probe first)
        for u in probes:
            engine.list_tasks(u, scope="involved")
        engine_ms, totals = [], {}
        for _ in range(args.repeat):
            for u in probes:
                t0 = time.perf_counter()
                page = engine.list_tasks(u, scope="involved", limit=50)
                engine_ms.append((time.perf_counter() - t0) * 1000)
                totals[u] = page.total

        if args.profile:
            from pyinstrument import Profiler

            prof = Profiler(interval=0.0005)
            prof.start()
            for _ in range(3):
                for u in probes:
                    engine.list_tasks(u, scope="involved", limit=50)
            prof.stop()
            print("\npyinstrument, Engine.list_tasks(scope='involved') × " + str(3 * len(probes)) + ":")
            print(prof.output_text(unicode=False, color=False))

        # 3. the engine's SQL under EXPLAIN (ANALYZE, BUFFERS)
        captured: list[tuple[str, Any]] = []

        def capture(
            _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
        ) -> None:
            captured.append((statement, parameters))

        event.listen(SqlEngine, "before_cursor_execute", capture)  # every pool the store keeps
        engine.list_tasks(probes[0], scope="involved", limit=50)
        event.remove(SqlEngine, "before_cursor_execute", capture)
        plans: list[tuple[str, list[str]]] = []
        with store.engine.connect() as conn:
            for statement, params in captured:
                if statement.strip().upper().startswith("SELECT"):
                    plans.append((statement, explain(conn, statement, params)))
            conn.rollback()

        # 4. the general query path (any filter) must agree with the default one, page and total
        mismatches = 0
        for u in probes:
            default = engine.list_tasks(u, scope="involved", limit=50)
            general = engine.list_tasks(u, scope="involved", limit=50, process_key="claim_evaluate")
            if default.total != general.total or [t.id for t in default.items] != [
                t.id for t in general.items
            ]:
                mismatches += 1

        # 2. HTTP against a real jiebang serve
        http_ms: list[float] = []
        if not args.no_http:
            tokens = {u: engine.create_token(u) for u in probes}
            with tempfile.TemporaryDirectory(prefix="jiebang-inbox-") as tmp:
                proc, port, log = start_serve(url, Path(tmp))
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                for rep in range(args.repeat + 1):
                    for u in probes:
                        t0 = time.perf_counter()
                        conn.request(
                            "GET",
                            "/api/v1/tasks?scope=involved&page=1&per_page=50",
                            headers={"Authorization": f"Bearer {tokens[u]}"},
                        )
                        resp = conn.getresponse()
                        resp.read()
                        if resp.status != 200:
                            raise RuntimeError(f"HTTP {resp.status}")
                        if rep:  # the first round warms both gunicorn workers
                            http_ms.append((time.perf_counter() - t0) * 1000)
                conn.close()
                stop_serve(proc, log)
                proc = None

        engine.store.dispose()

        print("\nThe engine's queries for one list_tasks(scope='involved') call, EXPLAIN (ANALYZE, BUFFERS):")
        for statement, plan in plans:
            print("\n  SQL: " + " ".join(statement.split()))
            for line in plan:
                print("    " + line)

        rows = [
            [
                "Engine.list_tasks (in-process)",
                str(len(engine_ms)),
                fmt(pct(engine_ms, 0.5)),
                fmt(pct(engine_ms, 0.95)),
                fmt(pct(engine_ms, 0.99)),
            ],
            [
                "GET /api/v1/tasks?scope=involved (HTTP, serve)",
                str(len(http_ms)),
                fmt(pct(http_ms, 0.5)),
                fmt(pct(http_ms, 0.95)),
                fmt(pct(http_ms, 0.99)),
            ],
        ]
        table(
            f"scope=involved page 1 (50) with total, {len(probes)} probe users × {args.repeat}; ms",
            ["what", "n", "p50", "p95", "p99"],
            rows,
        )
        print(
            f"totals of the probe users: {sorted(set(totals.values()))[:5]} …; default vs general query mismatches: {mismatches}"
        )
        seq = [
            line
            for _, plan in plans
            for line in plan
            if "Seq Scan on human_task" in line or "Seq Scan on task_candidate" in line
        ]
        index_only = "no" if seq else "yes"
        print(
            f"sequential scans of human_task/task_candidate in the engine's plans: {len(seq)}; load {loadavg()}"
        )
        print(
            f"inbox: engine_p95_ms={pct(engine_ms, 0.95):.2f} http_p95_ms={fmt(pct(http_ms, 0.95))} "
            f"tasks={args.tasks + args.finished} open={args.tasks} index_only={index_only} mismatches={mismatches}".replace(
                "=—", "=na"
            )
        )
    finally:
        if proc is not None:
            stop_serve(proc)
        pg.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
