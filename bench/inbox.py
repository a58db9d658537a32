#!/usr/bin/env python
"""Benchmark: the inbox at a million open tasks (PostgreSQL).

Bulk-loads, with COPY through psycopg straight into the projection tables (the schema itself comes
from the project's own migrations via ``engine.store.Store(url)``, in a private schema of database
``test`` at 127.0.0.1:5432, dropped at the end):

* ``--tasks`` open human tasks (default 1,000,000) in instances of 10 tasks each, created over the
  last 180 days; 70 % are group tasks nobody has claimed, 20 % group tasks someone claimed (their
  candidate rows stay, as the engine keeps them), 10 % lane-assigned to one person (no candidate
  row); one candidate group per group task, 10 % of them two;
* ``--users`` users (default 10,000) in ``--groups`` groups (default 500), each user in 1–3 groups;
  20 probe users are in exactly 3 groups.

Then a probe user asks for ``scope=involved`` page 1 (50 items) with its total:

1. in-process: ``Engine.list_tasks(user, scope="involved")`` timed (p50/p95/p99 over the probes);
2. over HTTP: ``GET /api/v1/tasks?scope=involved&page=1&per_page=50`` against a real
   ``jiebang serve --workers 2``, one client, sequential (loopback; includes auth and JSON);
3. the SQL the engine issues for one call, captured with SQLAlchemy's ``before_cursor_execute``
   event, each run under ``EXPLAIN (ANALYZE, BUFFERS)`` and printed;
4. PROPOSED (not the engine's code): the same page and total with a patched query shape and one
   extra index, timed in the same run on the same data, with its plans, so before/after compare
   like for like. The proposal is described in bench/README.md and printed below the table.

Last line: ``inbox: engine_p95_ms=… http_p95_ms=… proposed_p95_ms=… tasks=N index_only=yes|no``
where ``index_only`` says whether the engine's plans avoid sequential scans of human_task and
task_candidate. Target: p95 ≤ 20 ms server-side, an index in the plan.

    .venv/bin/python bench/inbox.py              # 1,000,000 tasks (load ≈ 2–3 min)
    .venv/bin/python bench/inbox.py --quick      # 10,000 tasks, smoke run (< 30 s)
"""

from __future__ import annotations

import argparse
import http.client
import io
import math
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import PG_DSN, PgSchema, loadavg, pct, pg_answers, start_serve, stop_serve, table  # noqa: E402 - after the path set-up above

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
def _uuid(prefix: int, i: int) -> str:
    h = f"{prefix:04x}{i:028x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def copy_rows(cur: Any, table_sql: str, lines: list[str]) -> None:
    with cur.copy(f"COPY {table_sql} FROM STDIN") as cp:
        buf = io.StringIO()
        for n, line in enumerate(lines, 1):
            buf.write(line)
            if n % 50_000 == 0:
                cp.write(buf.getvalue())
                buf = io.StringIO()
        cp.write(buf.getvalue())


def bulk_load(schema: str, n_tasks: int, n_users: int, n_groups: int, definition_id: int) -> dict[str, Any]:
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
    created = _ts(NOW - timedelta(days=400))
    with psycopg.connect(PG_DSN, options=f"-csearch_path={schema}") as conn, conn.cursor() as cur:
        copy_rows(cur, "app_user (username, display_name, roles, created_at)", [f"{u}\t{u}\t[]\t{created}\n" for u in users])
        copy_rows(cur, 'membership ("group", username)', [f"{g}\t{u}\n" for u, gs in member_of.items() for g in gs])
        n_inst = (n_tasks + 9) // 10
        span = 180 * 86400
        inst_lines = []
        inst_created = []
        for i in range(n_inst):
            at = NOW - timedelta(seconds=rnd.randrange(span))
            inst_created.append(at)
            inst_lines.append(f"{_uuid(1, i)}\t{definition_id}\tclaim_evaluate\t1\tB-{i}\trunning\t{{}}\t{{}}\t[]\t[]\t{rnd.choice(users)}\t{_ts(at)}\t{_ts(at)}\t1\n")
        copy_rows(cur, "instance (id, definition_id, process_key, version, business_key, status, state, data, active_elements, visited, "
                       "started_by, created_at, updated_at, row_version)", inst_lines)
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
            tid = _uuid(2, t)
            gjson = "[" + ", ".join(f'"{g}"' for g in gs) + "]"
            task_lines.append(f"{tid}\t{_uuid(1, i)}\tclaim_evaluate\tB-{i}\ttask_{t % 10}\t任务 {t % 10}\t{'Lane' if gs else ''}\t{gjson}\t"
                              f"{assignee or chr(92) + 'N'}\topen\t{_ts(at)}\ttask\tf\n")
            if assignee is None:  # the engine keeps queue rows only for open tasks nobody holds
                for g in gs:
                    cand_lines.append(f"{g}\t{_ts(at)}\t{tid}\n")
        copy_rows(cur, "human_task (id, instance_id, process_key, business_key, element_id, name, lane, candidate_groups, assignee, "
                       "status, created_at, kind, returned)", task_lines)
        copy_rows(cur, 'task_candidate ("group", created_at, task_id)', cand_lines)
        n_cand = len(cand_lines)
        del task_lines, cand_lines
        conn.commit()
        conn.autocommit = True
        for t in ("app_user", "membership", "instance", "human_task", "task_candidate"):
            cur.execute(f"VACUUM ANALYZE {t}")
    return {"probes": probes, "member_of": member_of, "seconds": time.perf_counter() - t0, "candidates": n_cand}


# ------------------------------------------------------------------------------------------
# the proposed query (NOT the engine's): per-group top-N merge for the page, a cheaper count
# ------------------------------------------------------------------------------------------
PROPOSED_DDL = [
    # P1: the candidate half's join checks "open and unassigned" from a small partial index
    "CREATE INDEX IF NOT EXISTS ix_human_task_open_unassigned ON human_task (id) WHERE status = 'open' AND assignee IS NULL",
]
# P2: task_candidate keeps rows only while the task is open AND unassigned (claim deletes the
# task's rows, unclaim/transfer back to the queue re-inserts them). Simulated here by a copy of
# task_candidate holding exactly those rows, with the same primary key.
P2_TABLE = "proposed_candidate_open"
P2_DDL = [
    f"CREATE TABLE {P2_TABLE} (LIKE task_candidate INCLUDING ALL)",
    f"INSERT INTO {P2_TABLE} SELECT tc.* FROM task_candidate tc JOIN human_task ht ON ht.id = tc.task_id "
    "WHERE ht.assignee IS NULL AND ht.status = 'open'",
    f"VACUUM ANALYZE {P2_TABLE}",
]


def proposed2_sql(n_groups: int) -> tuple[str, str]:
    """P2: no join at all for the default status=open (candidate rows imply open and unassigned)."""
    gs = ", ".join(f"%(g{i})s" for i in range(n_groups))
    per_group = " UNION ".join(
        f"(SELECT task_id AS id, created_at FROM {P2_TABLE} WHERE \"group\" = %(g{i})s ORDER BY created_at DESC, task_id LIMIT %(lim)s)"
        for i in range(n_groups))
    page = (
        "SELECT id FROM ("
        "(SELECT id, created_at FROM human_task WHERE assignee = %(u)s AND status = 'open' ORDER BY created_at DESC, id LIMIT %(lim)s)"
        f" UNION {per_group}) AS ids ORDER BY created_at DESC, id LIMIT %(limit)s OFFSET %(offset)s"
    )
    total = (
        "SELECT (SELECT count(*) FROM human_task WHERE assignee = %(u)s AND status = 'open') + "
        f"(SELECT count(DISTINCT task_id) FROM {P2_TABLE} WHERE \"group\" IN ({gs}))"
    )
    return page, total


def proposed_sql(n_groups: int) -> tuple[str, str]:
    """Page and total for scope=involved, status=open (the shape proposed for Engine.list_tasks)."""
    gs = ", ".join(f"%(g{i})s" for i in range(n_groups))
    per_group = " UNION ".join(
        f"(SELECT tc.task_id AS id, tc.created_at FROM task_candidate tc JOIN human_task ht ON ht.id = tc.task_id "
        f"WHERE tc.\"group\" = %(g{i})s AND ht.assignee IS NULL AND ht.status = 'open' "
        f"ORDER BY tc.created_at DESC, tc.task_id LIMIT %(lim)s)" for i in range(n_groups))
    page = (
        "SELECT id FROM ("
        "(SELECT id, created_at FROM human_task WHERE assignee = %(u)s AND status = 'open' ORDER BY created_at DESC, id LIMIT %(lim)s)"
        f" UNION {per_group}) AS ids ORDER BY created_at DESC, id LIMIT %(limit)s OFFSET %(offset)s"
    )
    total = (
        "SELECT (SELECT count(*) FROM human_task WHERE assignee = %(u)s AND status = 'open') + "
        f"(SELECT count(DISTINCT tc.task_id) FROM task_candidate tc JOIN human_task ht ON ht.id = tc.task_id "
        f"WHERE tc.\"group\" IN ({gs}) AND ht.assignee IS NULL AND ht.status = 'open')"
    )
    return page, total


def proposed_list(conn: Any, username: str, offset: int = 0, limit: int = 50, variant: int = 1) -> tuple[list[tuple], int]:
    """The proposed list_tasks body as raw SQL on a psycopg connection (groups, total, page, rows)."""
    groups = [r[0] for r in conn.execute("SELECT \"group\" FROM membership WHERE username = %s ORDER BY \"group\"", (username,))]
    page_sql, total_sql = (proposed_sql if variant == 1 else proposed2_sql)(len(groups))
    params = {"u": username, "lim": offset + limit, "limit": limit, "offset": offset, **{f"g{i}": g for i, g in enumerate(groups)}}
    total = conn.execute(total_sql, params).fetchone()[0]
    ids = [r[0] for r in conn.execute(page_sql, params)]
    rows = conn.execute("SELECT * FROM human_task WHERE id = ANY(%s)", (ids,)).fetchall() if ids else []
    return rows, total


# ------------------------------------------------------------------------------------------
# the server
# ------------------------------------------------------------------------------------------



# ------------------------------------------------------------------------------------------
def explain(conn: Any, statement: str, params: Any) -> list[str]:
    return [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--groups", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=10, help="calls per probe user and method")
    ap.add_argument("--quick", action="store_true", help="10,000 tasks, 500 users, 50 groups, 1 call per probe")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--profile", action="store_true", help="pyinstrument profile of Engine.list_tasks calls, printed")
    args = ap.parse_args()
    if args.quick:
        args.tasks, args.users, args.groups, args.repeat = 10_000, 500, 50, 1
    print(f"inbox benchmark, {datetime.now(UTC).isoformat(timespec='seconds')} load {loadavg()} cores {os.cpu_count()}; "
          f"{args.tasks:,} open tasks, {args.users:,} users, {args.groups} groups")
    if not pg_answers():
        print("PostgreSQL does not answer at 127.0.0.1:5432: skipped")
        print("inbox: engine_p95_ms=na http_p95_ms=na proposed_p95_ms=na proposed_p1_p95_ms=na tasks=0 index_only=na")
        return 0

    import psycopg
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
        loaded = bulk_load(schema, args.tasks, args.users, args.groups, definition_id)
        probes = loaded["probes"]
        print(f"loaded in {loaded['seconds']:.1f} s: {args.tasks:,} tasks, {loaded['candidates']:,} candidate rows; load {loadavg()}")

        # expected sizes for the probe users
        with store.read() as s:
            sizes = []
            for u in probes[:3]:
                mine = s.scalar(text("SELECT count(*) FROM human_task WHERE assignee = :u AND status = 'open'"), {"u": u})
                cand = s.scalar(text("SELECT count(*) FROM task_candidate tc JOIN human_task ht ON ht.id = tc.task_id "
                                     "WHERE tc.\"group\" = ANY(:g) AND ht.assignee IS NULL"), {"g": loaded["member_of"][u]})
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

        def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
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

        # 4. proposed shape, raw SQL on one psycopg connection, interleaved with the engine
        with psycopg.connect(PG_DSN, options=f"-csearch_path={schema}", autocommit=True) as pc:
            for ddl in [*PROPOSED_DDL, *P2_DDL]:
                pc.execute(ddl)
            pc.execute("ANALYZE human_task")
            for u in probes:
                proposed_list(pc, u)
                proposed_list(pc, u, variant=2)
            proposed_ms, proposed2_ms, engine_after_ms = [], [], []
            mismatches = 0
            for _ in range(args.repeat):
                for u in probes:
                    t0 = time.perf_counter()
                    rows, total = proposed_list(pc, u)
                    proposed_ms.append((time.perf_counter() - t0) * 1000)
                    t0 = time.perf_counter()
                    rows2, total2 = proposed_list(pc, u, variant=2)
                    proposed2_ms.append((time.perf_counter() - t0) * 1000)
                    t0 = time.perf_counter()
                    page = engine.list_tasks(u, scope="involved", limit=50)
                    engine_after_ms.append((time.perf_counter() - t0) * 1000)
                    want = sorted(t.id for t in page.items)
                    for got_rows, got_total in ((rows, total), (rows2, total2)):
                        if got_total != page.total or sorted(r[0] for r in got_rows) != want:
                            mismatches += 1
                            if mismatches == 1:
                                got = {r[0] for r in got_rows}
                                print(f"first mismatch ({u}): total {got_total} vs engine {page.total}; "
                                      f"ids only proposed {len(got - set(want))}, only engine {len(set(want) - got)}")

        with store.engine.connect() as conn:
            page_sql, total_sql = proposed_sql(len(loaded["member_of"][probes[0]]))
            pparams = {"u": probes[0], "lim": 50, "limit": 50, "offset": 0, **{f"g{i}": g for i, g in enumerate(loaded["member_of"][probes[0]])}}
            proposed_plans = [(total_sql, explain(conn, total_sql, pparams)), (page_sql, explain(conn, page_sql, pparams))]
            page2_sql, total2_sql = proposed2_sql(len(loaded["member_of"][probes[0]]))
            proposed2_plans = [(total2_sql, explain(conn, total2_sql, pparams)), (page2_sql, explain(conn, page2_sql, pparams))]

            conn.rollback()

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
                        conn.request("GET", "/api/v1/tasks?scope=involved&page=1&per_page=50", headers={"Authorization": f"Bearer {tokens[u]}"})
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
        for title, pplans in (
            ("PROPOSED P1 (not the engine's code) — page as per-group top-N merge, total without the ORDER BY pass, plus "
             + "; ".join(PROPOSED_DDL), proposed_plans),
            (f"PROPOSED P2 (not the engine's code) — P1's shape on candidate rows kept only while a task is open and unassigned "
             f"(simulated by table {P2_TABLE}), no join to human_task", proposed2_plans),
        ):
            print(f"\n{title}:")
            for statement, plan in pplans:
                print("\n  SQL: " + " ".join(statement.split())[:600] + (" …" if len(statement) > 600 else ""))
                for line in plan:
                    print("    " + line)

        rows = [
            ["Engine.list_tasks (in-process)", str(len(engine_ms)), fmt(pct(engine_ms, .5)), fmt(pct(engine_ms, .95)), fmt(pct(engine_ms, .99))],
            ["Engine.list_tasks, interleaved with proposed (P1 index present)", str(len(engine_after_ms)), fmt(pct(engine_after_ms, .5)), fmt(pct(engine_after_ms, .95)), fmt(pct(engine_after_ms, .99))],
            ["PROPOSED P1: query shape + partial index (raw psycopg)", str(len(proposed_ms)), fmt(pct(proposed_ms, .5)), fmt(pct(proposed_ms, .95)), fmt(pct(proposed_ms, .99))],
            ["PROPOSED P2: P1 + candidate rows only while unassigned", str(len(proposed2_ms)), fmt(pct(proposed2_ms, .5)), fmt(pct(proposed2_ms, .95)), fmt(pct(proposed2_ms, .99))],
            ["GET /api/v1/tasks?scope=involved (HTTP, serve)", str(len(http_ms)), fmt(pct(http_ms, .5)), fmt(pct(http_ms, .95)), fmt(pct(http_ms, .99))],
        ]
        table(f"scope=involved page 1 (50) with total, {len(probes)} probe users × {args.repeat}; ms", ["what", "n", "p50", "p95", "p99"], rows)
        print(f"totals of the probe users: {sorted(set(totals.values()))[:5]} …; proposed vs engine mismatches: {mismatches}")
        seq = [line for _, plan in plans for line in plan if "Seq Scan on human_task" in line or "Seq Scan on task_candidate" in line]
        index_only = "no" if seq else "yes"
        print(f"sequential scans of human_task/task_candidate in the engine's plans: {len(seq)}; load {loadavg()}")
        print(f"inbox: engine_p95_ms={pct(engine_ms, .95):.2f} http_p95_ms={fmt(pct(http_ms, .95))} "
              f"proposed_p95_ms={pct(proposed2_ms, .95):.2f} proposed_p1_p95_ms={pct(proposed_ms, .95):.2f} "
              f"tasks={args.tasks} index_only={index_only}".replace("=—", "=na"))
    finally:
        if proc is not None:
            stop_serve(proc)
        pg.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
