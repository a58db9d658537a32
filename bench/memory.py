#!/usr/bin/env python
"""Benchmark: ``jiebang serve`` resident memory with 100,000 instances behind it.

A real ``jiebang serve`` (one process, the built-in threaded server and its in-process worker;
``--workers 2`` for gunicorn, then every worker is measured) runs on PostgreSQL (a private schema
of ``test``, dropped at the end) or SQLite (``--db``). ``--instances`` claim-and-evaluate
instances are then started and stepped (start → submit_problem → claim + complete
preliminary_review): a share ``--http-share`` of them over HTTP through the server by 4 client
threads, which also read their inboxes (``GET /tasks?scope=involved``, two reads per step)
and the instance list, and the rest in-process by an ``Engine`` against the same database at the
same time — so the server's caches, pools and inbox queries see the whole database grow.
On PostgreSQL, ``--history`` finished instances (default 90,000) are first cloned into the
database with COPY (as ``bench/history.py`` makes its history: one instance walked through the
Engine, its rows copied under new ids, finished), so the server answers with 100,000 instances in
all; the HTTP clients also page through the instance list (deep pages too) and read the history of
cloned instances, so per-instance caches would show.
``VmRSS`` and ``VmHWM`` (peak) are read from ``/proc/<pid>/status`` every 500 instances.
On a PostgreSQL with ``autovacuum = off`` (this test server) the schema is ANALYZEd every 10 s,
as autovacuum would on a production server (see ``Autoanalyze``).

Last line: ``memory: rss_mb=… peak_mb=… start_mb=… instances=N stepped=N http_instances=N errors=N``
(``instances``: in the database, stepped and cloned; the largest process when gunicorn runs
several). Target: RSS ≤ 200 MB after 100,000 instances.

    .venv/bin/python bench/memory.py                 # 10,000 stepped + 90,000 finished (≈ 10 min at load 2)
    .venv/bin/python bench/memory.py --quick         # 100 stepped + 1,000 finished, smoke run
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path set-up above
    PROBLEM,
    PgSchema,
    bulk_id,
    child_pids,
    loadavg,
    pg_answers,
    start_serve,
    stop_serve,
    table,
)


def status_kb(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"process {pid} has no {field}: it exited")


class Autoanalyze:
    """What autovacuum's ANALYZE would do on a production server, when this one has it off.

    With ``autovacuum = off`` (this test server) the growing tables are never analysed, the
    planner keeps estimating one row, and the inbox count picks a nested loop that is quadratic
    in the group's open tasks (seconds per read at 8,000 tasks). Production runs autovacuum, so
    the benchmark analyses the schema every ``every`` seconds instead.
    """

    def __init__(self, schema: PgSchema, every: float = 10.0) -> None:
        self.schema, self.every = schema, every
        self.needed = schema.autovacuum_off()
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        if self.needed:
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.schema.analyze()
            self.runs += 1

    def stop(self) -> None:
        self._stop.set()


def server_pids(root: int) -> list[int]:
    """The serve process, or gunicorn's workers when it has children."""
    return child_pids(root) or [root]


class Http:
    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        try:
            self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0, None
        return resp.status, (json.loads(raw) if raw else None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--db", choices=["pg", "sqlite"], default=None, help="default: pg when it answers, else sqlite"
    )
    ap.add_argument("--instances", type=int, default=10_000)
    ap.add_argument("--http-share", type=float, default=0.25, help="share of instances stepped over HTTP")
    ap.add_argument(
        "--workers", type=int, default=1, help="serve --workers (1: the built-in threaded server)"
    )
    ap.add_argument(
        "--history", type=int, default=90_000, help="finished instances cloned in first (PostgreSQL only)"
    )
    ap.add_argument("--quick", action="store_true", help="100 instances stepped, 1,000 finished")
    args = ap.parse_args()
    if args.quick:
        args.instances, args.history = 100, 1_000
    db = args.db or ("pg" if pg_answers() else "sqlite")
    if db != "pg":
        args.history = 0
    print(
        f"memory benchmark, {datetime.now(UTC).isoformat(timespec='seconds')} load {loadavg()} cores {os.cpu_count()}; {db}, "
        f"{args.instances:,} instances stepped ({args.http_share:.0%} over HTTP) after {args.history:,} finished ones, "
        f"serve --workers {args.workers}"
    )

    from engine import Engine

    tmp = tempfile.TemporaryDirectory(prefix="jiebang-memory-")
    schema = None
    if db == "pg":
        schema = PgSchema("bench_mem")
        url = schema.url
    else:
        url = f"sqlite:///{tmp.name}/memory.sqlite3"
    proc = None
    try:
        engine = Engine(url)
        people = {"sub": [], "tf": ["taskforce"], "cm": ["committee"]}
        tokens = {}
        for c in range(4):
            for p, groups in people.items():
                engine.upsert_user(f"{p}{c}", groups=groups)
                tokens[f"{p}{c}"] = engine.create_token(f"{p}{c}")
        engine.upsert_user("local", groups=["taskforce"])
        if args.history:
            from bench.history import clone_finished

            inst = engine.start("claim_evaluate", actor="sub0", business_key="HISTORYKEY")
            tid = next(t.id for t in inst.open_tasks if t.element_id == "submit_problem")
            inst = engine.complete(tid, "sub0", PROBLEM)
            tid = next(t.id for t in inst.open_tasks if t.element_id == "preliminary_review")
            engine.claim(tid, "tf0")
            engine.complete(tid, "tf0", {"decision": "approve", "comment": "ok"})
            assert schema is not None
            seconds = clone_finished(schema.name, inst.id, "HISTORYKEY", args.history)
            print(f"{args.history:,} finished instances loaded in {seconds:.0f} s")
            schema.analyze()

        proc, port, log = start_serve(url, Path(tmp.name), workers=args.workers)
        # one request of each kind first, so the start figure is a warm, idle server
        warm = Http(port)
        warm.call("GET", "/tasks?scope=involved", tokens["tf0"])
        warm.call("GET", "/process-instances?per_page=50", tokens["sub0"])
        pids = server_pids(proc.pid)
        start_kb = max(status_kb(p, "VmRSS") for p in pids)

        analyzer = Autoanalyze(schema) if schema else None
        if analyzer and analyzer.needed:
            print(
                "this PostgreSQL runs with autovacuum = off: the benchmark ANALYZEs its schema every 10 s, as autovacuum would"
            )
        n_http = int(round(args.instances * args.http_share))
        n_local = args.instances - n_http
        done = {"http": 0, "local": 0}
        errors = {"n": 0}
        lock = threading.Lock()
        samples: list[list[str]] = []
        next_mark = [500]

        def sample(force: bool = False) -> None:
            with lock:
                total = done["http"] + done["local"]
                if not force and total < next_mark[0]:
                    return
                next_mark[0] = (total // 500 + 1) * 500
            rss = [status_kb(p, "VmRSS") for p in pids]
            hwm = [status_kb(p, "VmHWM") for p in pids]
            samples.append(
                [
                    f"{total:,}",
                    f"{done['http']:,}",
                    f"{max(rss) / 1024:.1f}",
                    f"{max(hwm) / 1024:.1f}",
                    loadavg(),
                ]
            )

        def over_http(c: int, count: int) -> None:
            h = Http(port)
            sub, tf = tokens[f"sub{c}"], tokens[f"tf{c}"]
            for i in range(count):
                st, inst = h.call(
                    "POST",
                    "/process-instances",
                    sub,
                    {"process_key": "claim_evaluate", "business_key": f"M-{c}-{i}"},
                )
                ok = st == 201
                if ok:
                    tid = next(t["id"] for t in inst["open_tasks"] if t["element_id"] == "submit_problem")
                    st, inst = h.call("POST", f"/tasks/{tid}/complete", sub, {"data": PROBLEM})
                    ok = st == 200
                if ok:
                    tid = next(t["id"] for t in inst["open_tasks"] if t["element_id"] == "preliminary_review")
                    for _ in range(2):
                        h.call("GET", "/tasks?scope=involved", tf)
                    ok = h.call("POST", f"/tasks/{tid}/claim", tf)[0] == 200
                    ok = (
                        ok
                        and h.call(
                            "POST",
                            f"/tasks/{tid}/complete",
                            tf,
                            {"data": {"decision": "approve", "comment": "ok"}},
                        )[0]
                        == 200
                    )
                    for _ in range(2):
                        h.call("GET", "/tasks?scope=involved", tokens[f"cm{c}"])
                    if i % 10 == 0:
                        h.call("GET", "/process-instances?per_page=50", sub)
                    if (
                        args.history and i % 5 == 0
                    ):  # deep pages and old instances: per-instance caches would grow
                        owner = tokens["sub0"]  # who started the cloned instances: sees them all
                        if (
                            i % 50 == 0
                        ):  # a page with its total: seconds at 100,000 instances (bench/README.md)
                            pages = max(1, args.history // 50)
                            page = 1 + (i * 37 + c) % pages
                            h.call("GET", f"/process-instances?per_page=50&page={page}", owner)
                        old = bulk_id(100, (i * 7919 + c * 104729) % args.history)
                        if h.call("GET", f"/process-instances/{old}/history", owner)[0] != 200:
                            with lock:
                                errors["n"] += 1
                with lock:
                    done["http"] += 1
                    errors["n"] += 0 if ok else 1
                if proc.poll() is not None:
                    raise RuntimeError("jiebang serve exited")
                sample()

        def in_process(count: int) -> None:
            for i in range(count):
                inst = engine.start("claim_evaluate", actor="local", business_key=f"L-{i}")
                tid = next(t.id for t in inst.open_tasks if t.element_id == "submit_problem")
                inst = engine.complete(tid, "local", PROBLEM)
                tid = next(t.id for t in inst.open_tasks if t.element_id == "preliminary_review")
                engine.claim(tid, "local")
                engine.complete(tid, "local", {"decision": "approve", "comment": "ok"})
                with lock:
                    done["local"] += 1
                sample()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(6) as pool:
            futs = [pool.submit(over_http, c, n_http // 4 + (1 if c < n_http % 4 else 0)) for c in range(4)]
            futs += [pool.submit(in_process, n_local // 2 + (1 if k < n_local % 2 else 0)) for k in range(2)]
            for f in futs:
                f.result()
        elapsed = time.perf_counter() - t0
        if analyzer:
            analyzer.stop()
        sample(force=True)
        time.sleep(2)  # let the in-process worker loop settle
        end_rss = [status_kb(p, "VmRSS") for p in pids]
        end_hwm = [status_kb(p, "VmHWM") for p in pids]
        samples.append(
            [
                "after 2 s idle",
                f"{done['http']:,}",
                f"{max(end_rss) / 1024:.1f}",
                f"{max(end_hwm) / 1024:.1f}",
                loadavg(),
            ]
        )
        table(
            f"jiebang serve RSS while {args.instances:,} instances are stepped ({elapsed:.0f} s; pids {pids})",
            ["instances stepped", "of which over HTTP", "VmRSS MB", "VmHWM MB", "load 1/5/15"],
            [["idle, warm", "0", f"{start_kb / 1024:.1f}", "", loadavg()], *samples],
        )
        engine.store.dispose()
        print(
            f"memory: rss_mb={max(end_rss) / 1024:.1f} peak_mb={max(end_hwm) / 1024:.1f} start_mb={start_kb / 1024:.1f} "
            f"instances={done['http'] + done['local'] + args.history} stepped={done['http'] + done['local']} "
            f"http_instances={done['http']} errors={errors['n']}"
        )
    finally:
        if proc is not None:
            stop_serve(proc, log)
        if schema:
            schema.drop()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
