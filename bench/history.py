#!/usr/bin/env python
"""Benchmark: does a long history slow the hot path? (PostgreSQL; issue 19, item 4)

Two private schemas of database ``test`` (127.0.0.1:5432, migrated by the project's own
``Store(url)``, dropped at the end): **empty**, and **history** holding ``--finished`` finished
claim-and-evaluate instances (default 1,000,000). The history is made the way the engine makes it:
a few instances are walked through the Engine (start → submit_problem → claim + complete
preliminary_review), then every row they left in a table with an ``instance_id`` (the instance,
its tasks, its audit events, carbon copies, …) is cloned with COPY under new ids and times spread
over the last two years, marked finished (instance ``completed``, tasks ``completed``; queue
rows, jobs and message subscriptions are not cloned, as a finished instance has none), plus one
score-ledger row per instance. The clones keep the walk's people, so the people the benchmark
asks for have a million instances behind them (the worst case for their indexes). The workflow
state of a clone is a placeholder (a real finished instance keeps its serialized workflow, a few
kB in TOAST that no hot-path statement reads).

Then, alternating between the two schemas round by round so they share the machine's noise, the
same people walk new instances: ``Engine.complete`` (submit_problem, then preliminary_review after
a claim) and ``Engine.list_tasks(scope="involved")`` for a task-force and a committee member are
timed. Ratio = history median / empty median. Last, ``Engine.history`` (what
``GET /process-instances/{id}/history`` pages) of one finished and one live instance in the
history schema, and the SQL of one completion and one inbox read under ``EXPLAIN ANALYZE``,
with any sequential scan named.

Last line: ``history: completion_ratio=… inbox_ratio=… audit_page_ms=… finished=N`` (audit page:
p95). Targets: both ratios ≤ 1.2, audit page ≤ 20 ms.

    .venv/bin/python bench/history.py                   # 1,000,000 finished instances (load ≈ 10 min)
    .venv/bin/python bench/history.py --finished 100000
    .venv/bin/python bench/history.py --quick           # 2,000 finished instances, smoke run
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path set-up above
    PG_DSN,
    PROBLEM,
    PgSchema,
    bulk_id,
    copy_rows,
    copy_time,
    loadavg,
    pct,
    pg_answers,
    table,
)

#: Open-only rows a finished instance no longer has.
NOT_CLONED = {"job", "message_subscription", "task_candidate"}
#: What "finished" means per table, as SELECT expressions over the walked rows.
FINISHED = {
    "instance": {
        "status": "'completed'",
        "ended_at": "updated_at",
        "state": "'{}'",
        "active_elements": "'[]'",
    },
    "human_task": {
        "status": "'completed'",
        "completed_at": "created_at",
        "completed_by": "coalesce(assignee, started_by_of_instance)",
        "assignee": "coalesce(assignee, 'tf0')",
    },
}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?(\+00(:00)?)?")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# ------------------------------------------------------------------------------------------
# the walk (the hot path) and the people who do it
# ------------------------------------------------------------------------------------------
def set_up_people(engine: Any) -> None:
    engine.upsert_user("sub0", display_name="申报人")
    engine.upsert_user("tf0", display_name="专班成员", groups=["taskforce"])
    engine.upsert_user("cm0", display_name="委员", groups=["committee"])


def walk(engine: Any, tag: str, timings: dict[str, list[float]] | None = None) -> str:
    """One instance to preliminary review approved; completions (and two inbox reads) timed."""
    inst = engine.start("claim_evaluate", actor="sub0", business_key=tag)
    tid = next(t.id for t in inst.open_tasks if t.element_id == "submit_problem")
    t0 = time.perf_counter()
    inst = engine.complete(tid, "sub0", PROBLEM)
    t1 = time.perf_counter()
    tid = next(t.id for t in inst.open_tasks if t.element_id == "preliminary_review")
    t2 = time.perf_counter()
    engine.list_tasks("tf0", scope="involved")
    t3 = time.perf_counter()
    engine.claim(tid, "tf0")
    t4 = time.perf_counter()
    engine.complete(tid, "tf0", {"decision": "approve", "comment": "ok"})
    t5 = time.perf_counter()
    engine.list_tasks("cm0", scope="involved")
    t6 = time.perf_counter()
    if timings is not None:
        timings["complete"] += [(t1 - t0) * 1000, (t5 - t4) * 1000]
        timings["inbox"] += [(t3 - t2) * 1000, (t6 - t5) * 1000]
    return inst.id


# ------------------------------------------------------------------------------------------
# cloning the walked rows as finished history
# ------------------------------------------------------------------------------------------
def tables_with_instances(cur: Any, schema: str) -> dict[str, list[tuple[str, bool]]]:
    """Table -> its columns (name, is generated by a sequence), for tables holding instance rows."""
    cur.execute(
        "SELECT table_name, column_name, coalesce(column_default LIKE 'nextval%%', false) FROM information_schema.columns "
        "WHERE table_schema = %s ORDER BY table_name, ordinal_position",
        (schema,),
    )
    cols: dict[str, list[tuple[str, bool]]] = {}
    for t, c, serial in cur.fetchall():
        cols.setdefault(t, []).append((c, serial))
    return {  # the instance first: the other rows refer to it
        t: cs
        for t, cs in sorted(cols.items(), key=lambda kv: kv[0] != "instance")
        if t not in NOT_CLONED and (t == "instance" or any(c == "instance_id" for c, _ in cs))
    }


def templates(cur: Any, schema: str, instance_ids: list[str]) -> dict[str, tuple[list[str], list[str]]]:
    """Table -> (columns, rows as COPY text with ``{i}``-style holes for ids and times)."""
    out = {}
    for t, cs in tables_with_instances(cur, schema).items():
        names = [c for c, serial in cs if not serial]
        key = "id" if t == "instance" else "instance_id"
        overrides = FINISHED.get(t, {})
        exprs = []
        for c in names:
            e = overrides.get(c)
            if e == "coalesce(assignee, started_by_of_instance)":
                e = f"coalesce(assignee, (SELECT started_by FROM instance i WHERE i.id = {t}.instance_id))"
            exprs.append(f'{e} AS "{c}"' if e else f'"{c}"')
        buf = io.BytesIO()
        ids = ",".join(f"'{i}'" for i in instance_ids)
        with cur.copy(f"COPY (SELECT {', '.join(exprs)} FROM {t} WHERE {key} IN ({ids})) TO STDOUT") as cp:
            for chunk in cp:
                buf.write(bytes(chunk))
        lines = buf.getvalue().decode().splitlines(keepends=True)
        if lines:
            out[t] = (names, lines)
    return out


def holes(
    rows: dict[str, tuple[list[str], list[str]]], instance_id: str, business_key: str
) -> tuple[dict[str, tuple[list[str], list[str]]], int]:
    """Every id, time and the business key in the template rows replaced by a format hole
    (``{u0}`` is the instance's id); returns the rows and the number of ids."""
    ids: dict[str, int] = {instance_id: 0}

    def hole(m: re.Match[str]) -> str:
        return "{u" + str(ids.setdefault(m.group(0), len(ids))) + "}"

    out = {}
    for t, (names, lines) in rows.items():
        fixed = []
        for line in lines:
            line = line.replace("{", "{{").replace("}", "}}").replace(business_key, "{bk}")
            line = UUID.sub(hole, line)
            fixed.append(TIMESTAMP.sub("{at}", line))
        out[t] = (names, fixed)
    return out, len(ids)


def fill_history(schema: str, rows: dict[str, tuple[list[str], list[str]]], n_ids: int, n: int) -> float:
    """COPY ``n`` clones of the template rows, and one ledger row each; returns the seconds taken."""
    import psycopg

    rnd = random.Random(20261201)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    with psycopg.connect(PG_DSN, options=f"-csearch_path={schema}") as conn, conn.cursor() as cur:
        batch = 100_000
        for start in range(0, n, batch):
            stop = min(n, start + batch)
            times = [
                copy_time(now - timedelta(seconds=rnd.randrange(730 * 86400))) for _ in range(start, stop)
            ]
            for t, (names, lines) in rows.items():
                cols = ", ".join(f'"{c}"' for c in names)
                out = []
                for k, i in enumerate(range(start, stop)):
                    ids = {f"u{j}": bulk_id(100 + j, i) for j in range(n_ids)}
                    for line in lines:
                        out.append(line.format(at=times[k], bk=f"H-{i}", **ids))
                copy_rows(cur, f"{t} ({cols})", out)
            copy_rows(
                cur,
                "score_entry (period, username, subject_kind, subject, points, instance_id, reason, awarded_at)",
                [
                    f"{times[k][:7]}\tsub0\tperson\tsub0\t{rnd.choice((5, 10, 20))}\t{bulk_id(100, i)}\t揭榜完成\t{times[k]}\n"
                    for k, i in enumerate(range(start, stop))
                ],
            )
            conn.commit()
            print(
                f"  {stop:>9,} finished instances loaded ({time.perf_counter() - t0:.0f} s, load {loadavg()})",
                flush=True,
            )
        conn.autocommit = True
        for t in [*rows, "score_entry"]:
            cur.execute(f"VACUUM ANALYZE {t}")
    return time.perf_counter() - t0


def clone_finished(schema: str, instance_id: str, business_key: str, n: int) -> float:
    """``n`` finished copies of walked instance ``instance_id`` (business key ``business_key``, used
    by no other) in ``schema``, the copy ``i`` with id ``bulk_id(100, i)``; returns the seconds taken."""
    import psycopg

    with psycopg.connect(PG_DSN, options=f"-csearch_path={schema}") as conn, conn.cursor() as cur:
        raw = templates(cur, schema, [instance_id])
        state_bytes = cur.execute(
            "SELECT length(state) FROM instance WHERE id = %s", (instance_id,)
        ).fetchone()[0]
    rows, n_ids = holes(raw, instance_id, business_key)
    print(
        f"one walked instance leaves {', '.join(f'{len(v[1])} {k}' for k, v in rows.items())} row(s) "
        f"({n_ids} ids; its workflow state {state_bytes:,} bytes); cloning {n:,} of it, finished"
    )
    return fill_history(schema, rows, n_ids, n)


def table_sizes(schema: str) -> list[list[str]]:
    import psycopg

    with psycopg.connect(PG_DSN, options=f"-csearch_path={schema}") as conn:
        return [
            [r[0], f"{r[1]:,}", f"{r[2] / 2**20:.0f}"]
            for r in conn.execute(
                "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r' "
                "AND c.reltuples > 0 ORDER BY 3 DESC LIMIT 8",
                (schema,),
            )
        ]


# ------------------------------------------------------------------------------------------
# plans
# ------------------------------------------------------------------------------------------
def explain_hot_path(engine: Any, tag: str, big: set[str]) -> list[str]:
    """The SELECTs of one completion and one inbox read, each under EXPLAIN ANALYZE: their times and
    any sequential scan of a ``big`` table (one that grows with history)."""
    from sqlalchemy import event

    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, params))

    sql_engine = engine.store.engine
    inst = engine.start("claim_evaluate", actor="sub0", business_key=tag)
    tid = next(t.id for t in inst.open_tasks if t.element_id == "submit_problem")
    event.listen(sql_engine, "before_cursor_execute", capture)
    try:
        engine.complete(tid, "sub0", PROBLEM)
        engine.list_tasks("tf0", scope="involved")
    finally:
        event.remove(sql_engine, "before_cursor_execute", capture)
    report = []
    with sql_engine.connect() as conn:
        for statement, params in captured:
            plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]
            total = next((p for p in reversed(plan) if p.startswith("Execution Time")), "")
            planning = next((p for p in plan if p.startswith("Planning Time")), "")
            seq = [
                p.strip()
                for p in plan
                if re.search(r"Seq Scan on (\w+)", p) and p.split("Seq Scan on ")[1].split()[0] in big
            ]
            first = " ".join(statement.split())[:110]
            report.append(f"{planning:<26} {total:<28} {first}")
            report += [f"    {s}" for s in seq]
        conn.rollback()
    return report


# ------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--finished", type=int, default=1_000_000, help="finished instances in the history schema"
    )
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--walks", type=int, default=10, help="instances walked per round and schema")
    ap.add_argument("--quick", action="store_true", help="2,000 finished instances, 2 rounds of 3 walks")
    args = ap.parse_args()
    if args.quick:
        args.finished, args.rounds, args.walks = 2_000, 2, 3
    print(
        f"history benchmark, {datetime.now(UTC).isoformat(timespec='seconds')} load {loadavg()} cores {os.cpu_count()}; "
        f"{args.finished:,} finished instances, {args.rounds} rounds × {args.walks} walks per schema"
    )
    if not pg_answers():
        print("PostgreSQL does not answer at 127.0.0.1:5432: skipped")
        print("history: completion_ratio=na inbox_ratio=na audit_page_ms=na finished=0")
        return 0

    from engine import Engine

    empty, full = PgSchema("bench_hist_empty"), PgSchema("bench_hist_full")
    engines: dict[str, Any] = {}
    try:
        for name, pg in (("empty", empty), ("history", full)):
            engines[name] = Engine(pg.url)
            set_up_people(engines[name])
        walked = [walk(engines["history"], f"HISTORYKEY{k}") for k in range(3)]
        seconds = clone_finished(full.name, walked[0], "HISTORYKEY0", args.finished)
        print(f"history loaded in {seconds:.0f} s")
        sizes = table_sizes(full.name)
        table("largest tables of the history schema", ["table", "rows", "MB"], sizes)
        big = {r[0] for r in sizes if int(r[1].replace(",", "")) >= 1000}
        if full.autovacuum_off():
            print("this PostgreSQL runs with autovacuum = off: both schemas are ANALYZEd before the rounds")
        empty.analyze()

        for name in engines:  # warm: parsed specs, connection pools, prepared statements
            walk(engines[name], f"W-{name}")
        timings = {name: {"complete": [], "inbox": []} for name in engines}
        per_round = []
        for r in range(args.rounds):
            order = list(engines) if r % 2 == 0 else list(reversed(engines))
            for name in order:
                for w in range(args.walks):
                    walk(engines[name], f"R{r}-{w}", timings[name])
            per_round.append(loadavg())
        rows_out = []
        for what in ("complete", "inbox"):
            e, h = timings["empty"][what], timings["history"][what]
            rows_out.append(
                [
                    f"Engine.{'complete' if what == 'complete' else 'list_tasks involved'}",
                    f"{pct(e, 0.5):.2f}",
                    f"{pct(e, 0.95):.2f}",
                    f"{pct(h, 0.5):.2f}",
                    f"{pct(h, 0.95):.2f}",
                    f"{pct(h, 0.5) / pct(e, 0.5):.2f}",
                ]
            )
        table(
            f"hot path, empty vs {args.finished:,} finished instances ({len(e)} samples each; load per round: {', '.join(per_round)})",
            ["call", "empty p50 ms", "p95", "history p50 ms", "p95", "ratio p50"],
            rows_out,
        )
        completion_ratio = pct(timings["history"]["complete"], 0.5) / pct(timings["empty"]["complete"], 0.5)
        inbox_ratio = pct(timings["history"]["inbox"], 0.5) / pct(timings["empty"]["inbox"], 0.5)

        hist_engine = engines["history"]
        audit: dict[tuple[str, str], tuple[int, list[float], list[float]]] = {}
        finished_one = bulk_id(100, args.finished // 2)
        for label, iid, viewer in (
            ("finished (a clone)", finished_one, "sub0"),  # its starter
            ("finished (a clone)", finished_one, "tf0"),  # reviewed it
            ("live", walked[1], "sub0"),
            ("live", walked[1], "cm0"),  # a candidate of its open committee task: the full visibility check
        ):
            hist_engine.history(iid, viewer=viewer)
            times, cpu = [], []
            for _ in range(30):
                t0, c0 = time.perf_counter(), time.thread_time()
                events = hist_engine.history(iid, viewer=viewer)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.thread_time() - c0) * 1000)  # this process's own work, whatever the load
            audit[(label, viewer)] = (len(events), times, cpu)
        table(
            f"Engine.history of one instance in the history schema (what GET …/history pages; load {loadavg()})",
            ["instance", "viewer", "events", "p50 ms", "p95 ms", "CPU p50 ms"],
            [
                [label, viewer, str(n), f"{pct(v, 0.5):.2f}", f"{pct(v, 0.95):.2f}", f"{pct(c, 0.5):.2f}"]
                for (label, viewer), (n, v, c) in audit.items()
            ],
        )
        audit_ms = max(pct(v, 0.95) for _, v, _ in audit.values())

        # the instance list a person opens (page 1 and its total), empty schema against the history
        listed = []
        for viewer, who in (
            ("sub0", "started every clone"),
            ("tf0", "reviewed every clone"),
            ("cm0", "a candidate"),
        ):
            row = [viewer, who]
            for name in ("empty", "history"):
                engines[name].list_instances(viewer=viewer)
                times = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    total = engines[name].list_instances(viewer=viewer).total
                    times.append((time.perf_counter() - t0) * 1000)
                row += [f"{total:,}", f"{pct(times, 0.5):.2f}", f"{pct(times, 0.95):.2f}"]
            listed.append(row)
        table(
            f"Engine.list_instances page 1 with its total (GET /process-instances; load {loadavg()})",
            ["viewer", "who", "empty total", "p50 ms", "p95 ms", "history total", "p50 ms", "p95 ms"],
            listed,
        )

        for name in ("empty", "history"):
            print(
                f"\nSELECTs of one completion and one inbox read on the {name} schema, EXPLAIN ANALYZE "
                f"(sequential scans of {', '.join(sorted(big))} shown):"
            )
            for line in explain_hot_path(engines[name], "EXPLAIN", big):
                print("  " + line)
        for eng in engines.values():
            eng.store.dispose()
        print(
            f"history: completion_ratio={completion_ratio:.2f} inbox_ratio={inbox_ratio:.2f} "
            f"audit_page_ms={audit_ms:.2f} finished={args.finished}"
        )
    finally:
        for eng in engines.values():
            eng.store.dispose()
        empty.drop()
        full.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
