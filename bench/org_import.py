#!/usr/bin/env python
"""Benchmark: importing a county's organisation (issue 13) — 2,000 units and 20,000 people.

Builds an .xlsx the way a county's organisation department would fill the template: one county,
30 towns and 20 county departments, the rest villages, communities and offices under the towns
(rows shuffled, so children often come before their parents), and 20,000 people, each in one or
two posts. Then ``Engine.import_org`` is timed: a dry run (reading and checking only) and the
import itself, on SQLite and, when 127.0.0.1:5432 answers, on PostgreSQL (a private schema of
``test``, dropped afterwards). The database is checked afterwards (units, people, posts counted).

Last line: ``org_import: units=… people=… seconds=…`` (the slowest backend's import, the dry run
excluded). Target: under 60 s.

    .venv/bin/python bench/org_import.py            # 2,000 units, 20,000 people
    .venv/bin/python bench/org_import.py --quick    # 200 units, 2,000 people
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import PgSchema, pg_answers, table  # noqa: E402


def workbook(units: int, people: int, seed: int = 13) -> bytes:
    import openpyxl

    rng = random.Random(seed)
    rows = [["county0", "示范县", "县", "", ""]]
    towns = [f"town{i:02d}" for i in range(30)]
    rows += [[t, f"第{i}镇", "乡镇", "county0", ""] for i, t in enumerate(towns)]
    rows += [[f"dept{i:02d}", f"县直部门{i}", "部门", "county0", ""] for i in range(20)]
    kinds = [("村", "深度贫困村"), ("村", "一般贫困村"), ("村", "非贫困村"), ("社区", ""), ("科室", "")]
    for i in range(units - len(rows)):
        kind, cls = rng.choice(kinds)
        rows.append([f"u{i:05d}", f"单位{i}", kind, rng.choice(towns), cls])
    body = rows[1:]
    rng.shuffle(body)
    rows = [rows[0], *body]
    rng.shuffle(rows)  # the county row may come anywhere too
    codes = [r[0] for r in rows]
    posts = ["书记", "主任", "委员", "驻村第一书记", "专干"]
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("单位")
    ws.append(["编码", "名称", "类型", "上级编码", "村类别"])
    for r in rows:
        ws.append(r)
    wp = book.create_sheet("人员")
    wp.append(["用户名", "姓名", "单位编码", "职务", "职级", "分组"])
    for i in range(people):
        unit = rng.choice(codes)
        wp.append([f"p{i:06d}", f"干部{i}", unit, rng.choice(posts), rng.choice(["科级", "股级", ""]), ""])
        if i % 5 == 0:
            wp.append([f"p{i:06d}", f"干部{i}", rng.choice(codes), "专班成员", "", "taskforce"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(url: str, content: bytes) -> tuple[float, float, dict[str, int]]:
    from sqlalchemy import func, select

    from engine import Engine
    from engine.tables import Unit, User, UserPost

    engine = Engine(url, deploy_shipped=False)
    t0 = time.perf_counter()
    report = engine.import_org(content, "county.xlsx", dry_run=True)
    dry = time.perf_counter() - t0
    assert report.errors == [], report.errors[:5]
    t0 = time.perf_counter()
    engine.import_org(content, "county.xlsx")
    seconds = time.perf_counter() - t0
    with engine.store.read() as s:
        counts = {
            "units": s.scalar(select(func.count()).select_from(Unit)) or 0,
            "people": s.scalar(select(func.count()).select_from(User)) or 0,
            "posts": s.scalar(select(func.count()).select_from(UserPost)) or 0,
        }
    engine.store.dispose()
    return dry, seconds, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    units, people = (200, 2_000) if args.quick else (2_000, 20_000)
    t0 = time.perf_counter()
    content = workbook(units, people)
    print(f"workbook: {len(content) / 1024:.0f} KiB, built in {time.perf_counter() - t0:.1f} s", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(("sqlite", *run(f"sqlite:///{tmp}/org.sqlite3", content)))
    if not args.no_pg and pg_answers():
        schema = PgSchema("bench_org")
        try:
            results.append(("postgresql", *run(schema.url, content)))
        finally:
            schema.drop()
    table(
        "org import",
        ["database", "dry run s", "import s", "units", "people", "posts"],
        [
            [db, f"{dry:.1f}", f"{secs:.1f}", str(c["units"]), str(c["people"]), str(c["posts"])]
            for db, dry, secs, c in results
        ],
    )
    slowest = max(secs for _, _, secs, _ in results)
    print(f"org_import: units={units} people={people} seconds={slowest:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
