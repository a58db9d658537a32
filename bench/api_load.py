#!/usr/bin/env python
"""Benchmark: ``jiebang serve --workers 2`` (gunicorn) under concurrent HTTP clients.

For each database (``--db pg|sqlite|both``; PostgreSQL in a private schema of ``test`` at
127.0.0.1:5432, created and dropped here; SQLite in a temp file) one real ``jiebang serve
--workers 2`` process is started on loopback, users and tokens are created with the Engine
(what ``jiebang user add`` / ``jiebang token create`` do), a tiny two-user-task diagram is
deployed over ``POST /process-definitions``, then these phases run, each ``--rounds`` times
(the phases alternate, so they share the machine's noise):

``walk``      16 clients (``--clients``), each walking whole claim-and-evaluate instances over HTTP
              with bearer tokens: start → submit_problem → claim + complete preliminary_review →
              claim + complete committee_approval → a claim filed on the board → the claim-window
              timer executed (admin) → claim + complete select_claim → progress_report →
              completion_report → claim + complete acceptance; after every completion ten inbox
              reads ``GET /tasks?scope=involved`` (page 1 with total) by the client's people.
``floor``     the same 16 clients on ``GET /users/me``, Jiebang's cheapest authenticated route (token
              check, two indexed reads since tokens are checked live, and a small schema dump): what gunicorn, Flask and the client cost per
              request before Jiebang does any work. With the walk's requests per completion it gives
              the completions/s this machine's cores would allow if everything else were free.
``two1``      the SpiffArena comparison shape: a two-user-task process (start, complete, complete),
              one client.
``two4``      the same with 4 clients.

Clients are threads spread over ``--client-procs`` processes, each with one keep-alive
``http.client`` connection; the client processes' CPU is measured (``getrusage``) and printed
next to the server's (gunicorn master + workers, from /proc), so one can see the client is not
the bottleneck. Requests finishing in the first ``--warmup`` seconds of a phase are not counted.

Printed: throughput (task completions/s, whole lifecycles/s, requests/s), p50/p95/p99 per route,
errors by route and status (409s on claim/complete are counted apart as expected conflicts),
the load average, and the server's CPU per completion against the **floor** the stack sets, all
measured in the same run: the floor phase's server CPU per request × the walk's requests per
completion, plus raw SpiffWorkflow's step (deserialize → complete → serialize of the same process
with the same sandboxed script engine, median CPU, measured in this process before the servers
start) × the walk's persisted steps per completion (starts, completions, board claims, timer
executions). The last line is::

    api_load: cpu_vs_floor=R completions_per_s=N complete_p95_ms=P pg_completions_per_s=… pg_complete_p95_ms=…
              pg_inbox_p95_ms=… pg_lifecycles_per_s=… pg_two1_submit_p50_ms=… pg_two4_lifecycles_per_s=…
              pg_floor_ceiling_completions_per_s=… pg_cpu_vs_floor=… sqlite_… errors=N

(one line; the first three are PostgreSQL's when it was measured, else SQLite's; ``na`` for a
database not measured). Target: ``cpu_vs_floor`` ≤ 1.5 on PostgreSQL. SpiffArena (same machine
class, SQLite): ~30 ms per submission single-client, ~10 two-task lifecycles/s with 2 workers and
4 clients.

``--variant both`` also starts a PROPOSED server (the fixes in ``PROPOSED_FIXES``, monkeypatched
inside that server process only; not Jiebang's code) and alternates it with the stock one phase by
phase; its figures appear as ``pg_proposed_…`` in the summary line. ``--profile`` runs py-spy on the
gunicorn workers during the first round and prints where their threads spend wall time.

    .venv/bin/python bench/api_load.py                 # both databases, 3 × 20 s per phase (~9 min)
    .venv/bin/python bench/api_load.py --db pg --variant both       # stock vs PROPOSED, interleaved
    .venv/bin/python bench/api_load.py --db pg --seconds 30 --rounds 3
    .venv/bin/python bench/api_load.py --quick         # smoke run (SQLite, tiny, < 30 s)
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path set-up above
    PROBLEM,
    PgSchema,
    child_pids,
    loadavg,
    pct,
    pg_answers,
    postgres_cpu_seconds,
    start_serve,
    stop_serve,
    table,
)

TWO_TASK_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_two" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bench_two_task" name="Bench two tasks" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="startVariables" value="n" /></spiffworkflow:properties></bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:userTask id="first" name="First"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
    <bpmn:userTask id="second" name="Second"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

INBOX_READS_PER_COMPLETION = 10
ROUTE_ORDER = [
    "POST /process-instances",
    "POST /tasks/{id}/claim",
    "POST /tasks/{id}/complete",
    "GET /tasks?scope=involved",
    "POST /board/{id}/claims",
    "GET /jobs",
    "POST /jobs/{id}/execute",
    "GET /process-instances/{id}",
    "GET /users/me",
]


# ------------------------------------------------------------------------------------------
# statistics and printing (the house style of bench/engine_step.py)
# ------------------------------------------------------------------------------------------
def fmt(v: float | None, digits: int = 1) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


# ------------------------------------------------------------------------------------------
# databases and the server
# ------------------------------------------------------------------------------------------
class Server:
    """``jiebang serve`` (or the PROPOSED variant of it) with its CPU read from /proc."""

    def __init__(
        self, url: str, workdir: Path, workers: int, proposed: bool = False, threads: int | None = None
    ) -> None:
        self.proc, self.port, self._log = start_serve(
            url,
            workdir,
            workers=workers,
            extra=("--threads", str(threads)) if threads else (),
            command=[sys.executable, str(Path(__file__).resolve()), "--serve-proposed"] if proposed else None,
            env={"PYTHONPATH": str(ROOT)},
        )

    def pids(self) -> list[int]:
        """The gunicorn master and its children (the workers)."""
        return [self.proc.pid, *child_pids(self.proc.pid)]

    def cpu_seconds(self) -> float:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        return total

    def stop(self) -> None:
        stop_serve(self.proc, self._log)


def setup_people(url: str, clients: int) -> dict[str, str]:
    """Users and tokens, as ``jiebang user add`` / ``token create`` make them; returns username → token."""
    from engine import Engine

    engine = Engine(url)  # migrates and deploys the shipped process
    tokens = {}
    engine.upsert_user("bench_admin", groups=[], roles=["admin"])
    tokens["bench_admin"] = engine.create_token("bench_admin")
    for c in range(clients):
        for prefix, groups in (
            ("sub", []),
            ("tf", ["taskforce"]),
            ("cm", ["committee"]),
            ("ev", ["evaluator"]),
            ("cl", []),
            ("two", []),
        ):
            name = f"{prefix}{c}"
            engine.upsert_user(name, display_name=name, groups=groups)
            tokens[name] = engine.create_token(name)
    engine.store.dispose()
    return tokens


def deploy_two_task(port: int, admin_token: str) -> None:
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench_two_task.bpmn"\r\n'
        f"Content-Type: application/xml\r\n\r\n{TWO_TASK_BPMN}\r\n--{boundary}--\r\n"
    ).encode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(
        "POST",
        "/api/v1/process-definitions",
        body=body,
        headers={
            "Authorization": f"Bearer {admin_token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    resp = c.getresponse()
    raw = resp.read()
    if resp.status != 201:
        raise RuntimeError(f"deploy failed: {resp.status} {raw[:500]!r}")
    c.close()


# ------------------------------------------------------------------------------------------
# PROPOSED (not Jiebang's code): a serve with the fixes this benchmark proposes, applied as
# monkeypatches inside this script's own server process, so before/after run on the same machine
# at the same time. ``--variant both`` alternates the stock and the patched server phase by phase.
# ------------------------------------------------------------------------------------------
PROPOSED_FIXES = [
    "outbox._subscribers: active webhooks cached for 5 s per process (saves 1 SELECT per step; a webhook "
    "registered in another process would miss up to 5 s of events, which is why Jiebang reads them per step)",
]


def install_proposed_patches() -> None:
    import collections

    import engine.integration.outbox as outbox

    Hook = collections.namedtuple("Hook", "id events")
    real_subscribers = outbox._subscribers
    hooks_cache: list[Any] = [0.0, []]

    def subscribers(session: Any) -> list[Any]:
        now = time.monotonic()
        if hooks_cache[0] <= now:
            hooks_cache[1] = [Hook(h.id, list(h.events or [])) for h in real_subscribers(session)]
            hooks_cache[0] = now + 5.0
        return hooks_cache[1]

    outbox._subscribers = subscribers


def serve_proposed(argv: list[str]) -> int:
    install_proposed_patches()
    from api.cli import main as cli_main

    return cli_main(argv)


# ------------------------------------------------------------------------------------------
# the clients
# ------------------------------------------------------------------------------------------
class Failed(Exception):
    pass


class Client:
    """One person-group at one keep-alive connection; records (route, status, ms, t_end)."""

    def __init__(self, port: int, tokens: dict[str, str], idx: int, samples: list) -> None:
        self.port, self.tokens, self.idx, self.samples = port, tokens, idx, samples
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.completions = 0
        self.lifecycles: list[float] = []
        self.inbox_users = [f"{p}{idx}" for p in ("sub", "tf", "cm", "ev", "cl")]
        self._inbox_turn = 0

    def call(
        self,
        method: str,
        path: str,
        route: str,
        user: str,
        body: Any = None,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            t0 = time.perf_counter()
            try:
                self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                status = resp.status
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    self.samples.append((route, 0, (time.perf_counter() - t0) * 1000, time.time()))
                    raise Failed(f"{route}: connection failed") from None
        self.samples.append((route, status, (time.perf_counter() - t0) * 1000, time.time()))
        if status not in ok:
            raise Failed(f"{route}: {status} {raw[:300]!r}")
        return json.loads(raw) if raw else None

    def inbox(self, n: int = INBOX_READS_PER_COMPLETION) -> None:
        for _ in range(n):
            user = self.inbox_users[self._inbox_turn % len(self.inbox_users)]
            self._inbox_turn += 1
            self.call("GET", "/tasks?scope=involved&page=1&per_page=20", "GET /tasks?scope=involved", user)

    def complete(self, task_id: str, user: str, data: dict[str, Any], inbox: bool = True) -> dict[str, Any]:
        out = self.call(
            "POST", f"/tasks/{task_id}/complete", "POST /tasks/{id}/complete", user, {"data": data}
        )
        self.completions += 1
        if inbox:
            self.inbox()
        return out

    def claim(self, task_id: str, user: str) -> None:
        self.call("POST", f"/tasks/{task_id}/claim", "POST /tasks/{id}/claim", user)

    @staticmethod
    def task(inst: dict[str, Any], element_id: str) -> str:
        for t in inst["open_tasks"]:
            if t["element_id"] == element_id:
                return t["id"]
        raise Failed(f"no open {element_id}: {[t['element_id'] for t in inst['open_tasks']]}")

    def walk(self, n: int) -> None:
        """One whole claim-and-evaluate instance."""
        c = self.idx
        sub, tf, cm, ev, cl = (f"{p}{c}" for p in ("sub", "tf", "cm", "ev", "cl"))
        t_start = time.time()
        inst = self.call(
            "POST",
            "/process-instances",
            "POST /process-instances",
            sub,
            {"process_key": "claim_evaluate", "business_key": f"L-{c}-{n}-{uuid.uuid4().hex[:6]}"},
        )
        iid = inst["id"]
        inst = self.complete(self.task(inst, "submit_problem"), sub, PROBLEM)
        tid = self.task(inst, "preliminary_review")
        self.claim(tid, tf)
        inst = self.complete(tid, tf, {"decision": "approve", "comment": "符合条件"})
        tid = self.task(inst, "committee_approval")
        self.claim(tid, cm)
        deadline = (datetime.now(UTC) + timedelta(days=120)).isoformat()
        inst = self.complete(
            tid,
            cm,
            {
                "decision": "approve",
                "points": 100,
                "deadline": deadline,
                "claim_window": "P14D",
                "report_interval": "P30D",
                "milestones": ["摸排", "签约"],
                "guarantees": "经费",
            },
        )
        self.call(
            "POST",
            f"/board/{iid}/claims",
            "POST /board/{id}/claims",
            cl,
            {"kind": "individual", "plan": "逐户走访", "pledge": "不完成不收兵"},
        )
        job = self.call("GET", f"/jobs?instance_id={iid}&kind=timer", "GET /jobs", "bench_admin")["items"][0]
        self.call("POST", f"/jobs/{job['id']}/execute", "POST /jobs/{id}/execute", "bench_admin")
        inst = self.call("GET", f"/process-instances/{iid}", "GET /process-instances/{id}", cm)
        tid = self.task(inst, "select_claim")
        self.claim(tid, cm)
        inst = self.complete(tid, cm, {"selected": 0, "decision": "approve"})
        inst = self.complete(
            self.task(inst, "progress_report"),
            cl,
            {"progress_percent": 100, "summary": "完成", "status_self": "on_track", "final": True},
        )
        inst = self.complete(
            self.task(inst, "completion_report"),
            cl,
            {"summary": "全部签订", "results": "37 户", "evidence_links": []},
        )
        tid = self.task(inst, "acceptance")
        self.claim(tid, ev)
        done = self.complete(tid, ev, {"decision": "pass", "grade": "good"})
        if done["status"] != "completed":
            raise Failed(f"instance ended {done['status']}")
        self.lifecycles.append(time.time())
        del t_start

    def floor(self, n: int) -> None:
        """The cheapest authenticated route (live token check, one small schema dump): what the
        HTTP server, Flask and this client cost per request before Jiebang does any work."""
        for _ in range(INBOX_READS_PER_COMPLETION):
            self.call(
                "GET",
                "/users/me",
                "GET /users/me",
                self.inbox_users[self._inbox_turn % len(self.inbox_users)],
            )
            self._inbox_turn += 1

    def two_task(self, n: int) -> None:
        user = f"two{self.idx}"
        inst = self.call(
            "POST",
            "/process-instances",
            "POST /process-instances",
            user,
            {"process_key": "bench_two_task", "data": {"n": n}},
        )
        inst = self.complete(self.task(inst, "first"), user, {"note": "first"}, inbox=False)
        done = self.complete(self.task(inst, "second"), user, {"note": "second"}, inbox=False)
        if done["status"] != "completed":
            raise Failed(f"instance ended {done['status']}")
        self.lifecycles.append(time.time())


def client_proc(
    port: int, tokens: dict[str, str], idxs: list[int], shape: str, t_begin: float, t_end: float, out: Any
) -> None:
    """A client process: one thread per client index; sends back samples, lifecycles and its CPU."""
    samples: list = []
    lifecycles: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def run(idx: int) -> None:
        local: list = []
        client = Client(port, tokens, idx, local)
        n = 0
        while time.time() < t_begin:
            time.sleep(0.005)
        while time.time() < t_end:
            n += 1
            try:
                {"walk": client.walk, "floor": client.floor, "two": client.two_task}[shape](n)
            except Failed as exc:
                with lock:
                    failures.append(str(exc)[:300])
        with lock:
            samples.extend(local)
            lifecycles.extend(client.lifecycles)

    r0 = resource.getrusage(resource.RUSAGE_SELF)
    threads = [threading.Thread(target=run, args=(i,)) for i in idxs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    out.put({"samples": samples, "lifecycles": lifecycles, "failures": failures, "cpu": cpu})


def start_profiler(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """py-spy on the gunicorn master and its workers (``pip install py-spy`` into the venv)."""
    exe = Path(sys.executable).with_name("py-spy")
    if not exe.exists():
        print("  (py-spy not installed in the venv: no profile)")
        return None
    return subprocess.Popen(
        [
            str(exe),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "200",
            "--duration",
            str(max(1, int(seconds))),
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


CATEGORIES = [  # leaf frame's file → where the server's CPU goes
    ("SpiffWorkflow", "SpiffWorkflow"),
    ("jsonschema", "jsonschema"),
    ("psycopg (driver, wire)", "psycopg"),
    ("sqlite3", "sqlite3"),
    ("SQLAlchemy", "sqlalchemy"),
    ("marshmallow/smorest/webargs/apispec", "marshmallow|flask_smorest|webargs|apispec"),
    ("Flask/Werkzeug/Jinja", "flask/|werkzeug|jinja2|flask_babel|babel"),
    ("gunicorn", "gunicorn"),
    ("json", "json/"),
    ("Jiebang engine/", r"\(engine/"),
    ("Jiebang api/", r"\(api/"),
    ("hashlib/secrets", "hashlib|secrets|hmac"),
]


def summarize_profile(path: Path, top: int = 25) -> None:
    import re

    if not path.exists():
        print("  (no profile written)")
        return
    selfc: Counter = Counter()
    incl: Counter = Counter()
    cats: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        n = int(n)
        frames = [f for f in stack.split(";") if "(" in f and ".py" in f]
        if not frames:
            continue
        total += n
        selfc[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
        leaf_file = frames[-1]
        for name, pat in CATEGORIES:
            if re.search(pat, leaf_file):
                cats[name] += n
                break
        else:
            cats["other (stdlib, …)"] += n
    if not total:
        print("  (empty profile)")
        return
    table(
        f"server CPU by the leaf frame's library (py-spy, {total} samples, gunicorn workers)",
        ["library", "% of samples"],
        [[k, f"{100 * v / total:.1f}"] for k, v in cats.most_common()],
    )
    ours = [(f, v) for f, v in incl.most_common() if re.search(r"\((engine|api)/", f)][:top]
    table(
        "inclusive share of Jiebang's own functions (engine/, api/)",
        ["function (file:line)", "% of samples"],
        [[f.strip()[:110], f"{100 * v / total:.1f}"] for f, v in ours],
    )
    table(
        "self time, hottest leaf functions",
        ["function (file:line)", "% of samples"],
        [[f.strip()[:110], f"{100 * v / total:.1f}"] for f, v in selfc.most_common(top)],
    )


PHASES = {
    "walk": "claim-and-evaluate walk",
    "two1": "two-task lifecycle, 1 client",
    "two4": "two-task lifecycle, 4 clients",
    "floor": "stack floor: GET /users/me",
}


def run_phase(
    server: Server,
    tokens: dict[str, str],
    phase: str,
    clients: int,
    seconds: float,
    warmup: float,
    client_procs: int,
    profile: Path | None = None,
) -> dict[str, Any]:
    shape = {"walk": "walk", "floor": "floor"}.get(phase, "two")
    n = {"walk": clients, "floor": clients, "two1": 1, "two4": 4}[phase]
    procs_n = max(1, min(client_procs, n))
    groups = [list(range(i, n, procs_n)) for i in range(procs_n)]
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    t_begin = time.time() + 1.5  # let the spawned processes import first
    t_end = t_begin + warmup + seconds
    procs = [
        ctx.Process(target=client_proc, args=(server.port, tokens, g, shape, t_begin, t_end, out))
        for g in groups
    ]
    for p in procs:
        p.start()
    time.sleep(max(0.0, t_begin - time.time()))
    cpu0, pg0 = server.cpu_seconds(), postgres_cpu_seconds()
    spy = None
    if profile is not None:
        time.sleep(warmup)
        spy = start_profiler(server.proc.pid, seconds, profile)
    results = [out.get(timeout=seconds + warmup + 300) for _ in procs]
    if spy is not None:
        spy.wait(timeout=120)
    cpu1, pg1 = server.cpu_seconds(), postgres_cpu_seconds()
    wall_total = time.time() - t_begin
    for p in procs:
        p.join()
    w0 = t_begin + warmup
    samples = [s for r in results for s in r["samples"] if s[3] >= w0 and s[3] <= t_end]
    lifecycles = [t for r in results for t in r["lifecycles"] if w0 <= t <= t_end]
    window = t_end - w0
    completions = sum(1 for s in samples if s[0] == "POST /tasks/{id}/complete" and s[1] == 200)
    client_cpu = sum(r["cpu"] for r in results)
    return {
        "phase": phase,
        "clients": n,
        "samples": samples,
        "window": window,
        "completions": completions,
        "lifecycles": len(lifecycles),
        "failures": [f for r in results for f in r["failures"]],
        "client_cores": client_cpu / wall_total,
        "server_cores": (cpu1 - cpu0) / wall_total,
        "load": loadavg(),
        "pg_cores": (pg1 - pg0) / wall_total,
        "server_ms_per_req": 1000 * (cpu1 - cpu0) / max(1, sum(len(r["samples"]) for r in results)),
        "client_ms_per_req": 1000 * client_cpu / max(1, sum(len(r["samples"]) for r in results)),
        "pg_ms_per_req": 1000 * (pg1 - pg0) / max(1, sum(len(r["samples"]) for r in results)),
    }


# ------------------------------------------------------------------------------------------
# reporting
# ------------------------------------------------------------------------------------------
def is_expected_409(route: str, status: int) -> bool:
    return status == 409 and route in ("POST /tasks/{id}/claim", "POST /tasks/{id}/complete")


def report_db(db: str, runs: list[dict[str, Any]], raw_step_ms: float) -> dict[str, Any]:
    by_phase: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_phase[r["phase"]].append(r)
    rows = []
    for phase, rs in by_phase.items():
        for i, r in enumerate(rs, 1):
            reqs = len(r["samples"])
            rows.append(
                [
                    f"{phase} #{i}",
                    str(r["clients"]),
                    fmt(r["window"], 1),
                    fmt(r["completions"] / r["window"]),
                    fmt(r["lifecycles"] / r["window"], 2),
                    fmt(reqs / r["window"]),
                    fmt(r["client_cores"], 2),
                    fmt(r["server_cores"], 2),
                    fmt(r["server_ms_per_req"], 2),
                    fmt(r["pg_cores"], 2),
                    r["load"],
                ]
            )
    table(
        f"[{db}] throughput per run (window = counted seconds after warm-up; cores = CPU seconds per wall second)",
        [
            "phase / round",
            "clients",
            "window s",
            "completions/s",
            "lifecycles/s",
            "requests/s",
            "client cores",
            "server cores",
            "server CPU ms/req",
            "all postgres cores",
            "load 1/5/15",
        ],
        rows,
    )

    summary: dict[str, Any] = {}
    for phase, rs in by_phase.items():
        lat: dict[str, list[float]] = defaultdict(list)
        for r in rs:
            for route, status, ms, _ in r["samples"]:
                if 200 <= status < 300:
                    lat[route].append(ms)
        rrows = []
        for route in [r for r in ROUTE_ORDER if r in lat]:
            v = lat[route]
            rrows.append(
                [route, str(len(v)), fmt(pct(v, 0.5)), fmt(pct(v, 0.95)), fmt(pct(v, 0.99)), fmt(max(v))]
            )
        table(
            f"[{db}] {PHASES[phase]}: latency per route, ms (successful requests, all rounds pooled)",
            ["route", "n", "p50", "p95", "p99", "max"],
            rrows,
        )
        med_rate = sorted(r["completions"] / r["window"] for r in rs)[len(rs) // 2]
        med_life = sorted(r["lifecycles"] / r["window"] for r in rs)[len(rs) // 2]
        summary[phase] = {
            "completions_per_s": med_rate,
            "lifecycles_per_s": med_life,
            "complete_p50": pct(lat["POST /tasks/{id}/complete"], 0.5),
            "complete_p95": pct(lat["POST /tasks/{id}/complete"], 0.95),
            "inbox_p95": pct(lat["GET /tasks?scope=involved"], 0.95),
        }
    if "walk" in by_phase and "floor" in by_phase:
        summary.update(report_ceiling(db, by_phase["walk"], by_phase["floor"], raw_step_ms))
    errs: Counter = Counter()
    expected: Counter = Counter()
    for r in runs:
        for route, status, _, _ in r["samples"]:
            if not 200 <= status < 300:
                (expected if is_expected_409(route, status) else errs)[(r["phase"], route, status)] += 1
    erows = [
        [f"{ph}: {route}", str(st), str(n), "expected 409" if (ph, route, st) in expected else "error"]
        for (ph, route, st), n in sorted({**errs, **expected}.items())
    ]
    if erows:
        table(
            f"[{db}] non-2xx responses by route and status",
            ["phase: route", "status", "count", "kind"],
            erows,
        )
    else:
        print(f"\n[{db}] no non-2xx responses")
    fails = [f for r in runs for f in r["failures"]]
    if fails:
        print(f"[{db}] {len(fails)} lifecycle(s) broke off; first: {fails[0]}")
    summary["errors"] = sum(errs.values())
    summary["expected_409"] = sum(expected.values())
    return summary


STEPPING_ROUTES = {  # requests that run a persisted engine step
    "POST /process-instances",
    "POST /tasks/{id}/complete",
    "POST /board/{id}/claims",
    "POST /jobs/{id}/execute",
}


def raw_spiff_step_cpu_ms(instances: int) -> float:
    """Raw SpiffWorkflow's step on this machine, now: deserialize → complete → serialize of the
    claim-and-evaluate walk's user tasks with the same sandboxed script engine
    (``bench/engine_step.py``'s raw side), median CPU ms of this process per step."""
    from bench.engine_step import T0, RawRun, happy_path, parse_specs
    from engine.runtime.clock import ManualClock
    from engine.sandbox.environment import make_script_engine

    specs = parse_specs()
    clock = ManualClock(T0)
    sandbox = make_script_engine(clock.now)
    cpu: list[float] = []
    for n in range(instances + 1):  # the first walks warm the caches and the sandbox workers
        run = RawRun(specs, sandbox, clock)
        for step in happy_path(clock):
            if step[0] == "timer":
                clock.advance(days=step[1])
                run.fire_timers()
            elif step[0] == "claim":
                run.claim("zhou")
            else:
                _, element, user, form_of = step
                sample = run.complete(element, user, form_of())
                if n:
                    cpu.append(sample["cpu"] * 1000)
    return sorted(cpu)[len(cpu) // 2]


def report_ceiling(
    db: str, walks: list[dict[str, Any]], floors: list[dict[str, Any]], raw_step_ms: float
) -> dict[str, float]:
    """How many completions/s this machine allows if Jiebang's own work cost nothing.

    Every request of the walk costs at least what the floor phase's request costs: the HTTP
    server, Flask and the token check on the server, and this client's own request. The walk
    needs ``requests per completion`` of them; the machine's cores bound the rest.
    """

    def med(rs: list[dict[str, Any]], key: str) -> float:
        return sorted(r[key] for r in rs)[len(rs) // 2]

    per_completion = med([{"x": len(r["samples"]) / max(1, r["completions"])} for r in walks], "x")
    steps_per_completion = med(
        [
            {
                "x": sum(
                    1 for route, st, _, _ in r["samples"] if route in STEPPING_ROUTES and 200 <= st < 300
                )
                / max(1, r["completions"])
            }
            for r in walks
        ],
        "x",
    )
    floor_server, floor_client = med(floors, "server_ms_per_req"), med(floors, "client_ms_per_req")
    walk_server, walk_client = med(walks, "server_ms_per_req"), med(walks, "client_ms_per_req")
    on_pg = db.startswith("pg")
    walk_pg = med(walks, "pg_ms_per_req") if on_pg else 0.0  # SQLite runs inside the server process
    cores = os.cpu_count() or 1
    ceiling = 1000 * cores / (per_completion * (floor_server + floor_client))
    table(
        f"[{db}] CPU per request: the stack floor against the walk (ms; medians over rounds)",
        ["phase", "server", "client", "postgres", "requests/completion", "completions/s the cores allow"],
        [
            [
                "floor (GET /users/me)",
                fmt(floor_server, 2),
                fmt(floor_client, 2),
                fmt(med(floors, "pg_ms_per_req"), 2) if on_pg else "—",
                "—",
                f"{fmt(ceiling)} if all else were free",
            ],
            [
                "walk",
                fmt(walk_server, 2),
                fmt(walk_client, 2),
                fmt(walk_pg, 2) if on_pg else "—",
                fmt(per_completion, 1),
                fmt(1000 * cores / (per_completion * (walk_server + walk_client + walk_pg))),
            ],
        ],
    )
    server_per_completion = walk_server * per_completion
    floor_per_completion = floor_server * per_completion + raw_step_ms * steps_per_completion
    ratio = server_per_completion / floor_per_completion
    table(
        f"[{db}] server CPU per completion against the stack's floor (ms; target ≤ 1.5×)",
        ["part", "per unit", "units per completion", "ms per completion"],
        [
            [
                "HTTP floor (GET /users/me), per request",
                fmt(floor_server, 2),
                fmt(per_completion, 1),
                fmt(floor_server * per_completion, 1),
            ],
            [
                "raw SpiffWorkflow step (CPU, this run)",
                fmt(raw_step_ms, 2),
                fmt(steps_per_completion, 2),
                fmt(raw_step_ms * steps_per_completion, 1),
            ],
            ["floor", "", "", fmt(floor_per_completion, 1)],
            [
                "Jiebang server, walk",
                fmt(walk_server, 2),
                fmt(per_completion, 1),
                fmt(server_per_completion, 1),
            ],
            ["ratio (Jiebang / floor)", "", "", fmt(ratio, 2)],
        ],
    )
    return {"ceiling": ceiling, "cpu_vs_floor": ratio}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-proposed":
        return serve_proposed(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--db", choices=["pg", "sqlite", "both"], default=None, help="default: both (sqlite with --quick)"
    )
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20.0, help="counted seconds per phase and round")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument(
        "--threads", type=int, default=None, help="gunicorn threads per worker (default: serve's own)"
    )
    ap.add_argument("--client-procs", type=int, default=4)
    ap.add_argument("--phases", default="walk,floor,two1,two4")
    ap.add_argument(
        "--variant",
        choices=["stock", "proposed", "both"],
        default="stock",
        help="proposed: a serve with the fixes this script proposes (monkeypatched, labelled PROPOSED); both: alternate them",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the server during the first round of each phase; print where its CPU goes",
    )
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: SQLite, 4 clients, 1 round of 1.5 s per phase"
    )
    args = ap.parse_args()
    if args.quick:
        args.db = args.db or "sqlite"
        args.clients, args.seconds, args.warmup, args.rounds, args.client_procs = (
            min(args.clients, 4),
            1.5,
            0.5,
            1,
            2,
        )
    dbs = {"pg": ["pg"], "sqlite": ["sqlite"], "both": ["pg", "sqlite"], None: ["pg", "sqlite"]}[args.db]
    if "pg" in dbs and not pg_answers():
        print("PostgreSQL does not answer at 127.0.0.1:5432: skipped")
        dbs = [d for d in dbs if d != "pg"]
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    print(
        f"api_load benchmark, {datetime.now(UTC).isoformat(timespec='seconds')} load {loadavg()} cores {os.cpu_count()}; "
        f"gunicorn workers {args.workers}, walk clients {args.clients} over {args.client_procs} processes, "
        f"{args.rounds} × {args.seconds:g} s (+{args.warmup:g} s warm-up) per phase"
    )

    variants = {"stock": ["stock"], "proposed": ["proposed"], "both": ["stock", "proposed"]}[args.variant]
    if "proposed" in variants:
        print("PROPOSED server (not Jiebang's code; monkeypatched in this script's server process):")
        for fix in PROPOSED_FIXES:
            print(f"  - {fix}")
    raw_step_ms = raw_spiff_step_cpu_ms(1 if args.quick else 5)
    print(
        f"raw SpiffWorkflow step (deserialize → complete → serialize), median CPU: {raw_step_ms:.2f} ms; load {loadavg()}"
    )
    summaries: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="jiebang-api-load-") as tmp:
        for db in dbs:
            schema = PgSchema("bench_api") if db == "pg" else None
            url = schema.url if schema else f"sqlite:///{tmp}/api_load.sqlite3"
            servers: dict[str, Server] = {}
            try:
                tokens = setup_people(url, max(args.clients, 4))
                for v in variants:
                    servers[v] = Server(
                        url, Path(tmp), args.workers, proposed=(v == "proposed"), threads=args.threads
                    )
                deploy_two_task(servers[variants[0]].port, tokens["bench_admin"])
                runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
                profiles = []
                analyze = schema is not None and schema.autovacuum_off()
                if analyze:
                    print(
                        f"  [{db}] this PostgreSQL runs with autovacuum = off: the schema is ANALYZEd before each phase, as autovacuum would"
                    )
                for rnd in range(args.rounds):
                    for phase in phases:
                        for v in variants if rnd % 2 == 0 else variants[::-1]:
                            if analyze:
                                schema.analyze()
                            prof = (
                                Path(tmp) / f"pyspy-{db}-{v}-{phase}.txt"
                                if args.profile and rnd == 0
                                else None
                            )
                            runs[v].append(
                                run_phase(
                                    servers[v],
                                    tokens,
                                    phase,
                                    args.clients,
                                    args.seconds,
                                    args.warmup,
                                    args.client_procs,
                                    prof,
                                )
                            )
                            if prof is not None:
                                profiles.append((v, phase, prof))
                            r = runs[v][-1]
                            print(
                                f"  [{db}{'' if v == 'stock' else ' PROPOSED'}] {phase}: {r['completions'] / r['window']:.1f} completions/s, "
                                f"load {loadavg()}",
                                flush=True,
                            )
                for v in variants:
                    key = db if v == "stock" else f"{db}_proposed"
                    summaries[key] = report_db(db if v == "stock" else f"{db} PROPOSED", runs[v], raw_step_ms)
                for v, phase, prof in profiles:
                    print(
                        f"\n[{db}{'' if v == 'stock' else ' PROPOSED'}] {PHASES[phase]}: profile of the first round "
                        "(py-spy --subprocesses --nonblocking: wall-time samples of the workers' threads, waits included)"
                    )
                    summarize_profile(prof)
            finally:
                for server in servers.values():
                    server.stop()
                if schema:
                    schema.drop()

    primary = summaries.get("pg") or summaries.get("sqlite") or {}

    def num(x: Any, digits: int) -> str:
        return "na" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"

    parts = [
        f"cpu_vs_floor={num(primary.get('cpu_vs_floor'), 2)}",
        f"completions_per_s={num(primary.get('walk', {}).get('completions_per_s'), 1)}",
        f"complete_p95_ms={num(primary.get('walk', {}).get('complete_p95'), 1)}",
    ]
    keys = ["pg", "sqlite"] + [k for k in ("pg_proposed", "sqlite_proposed") if k in summaries]
    for db in keys:
        s = summaries.get(db, {})
        walk, two1, two4 = s.get("walk", {}), s.get("two1", {}), s.get("two4", {})
        ceiling = s.get("ceiling")
        ratio = s.get("cpu_vs_floor")

        def v(d: dict[str, Any], k: str, digits: int = 1) -> str:
            x = d.get(k)
            return "na" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"

        parts += [
            f"{db}_completions_per_s={v(walk, 'completions_per_s')}",
            f"{db}_complete_p95_ms={v(walk, 'complete_p95')}",
            f"{db}_inbox_p95_ms={v(walk, 'inbox_p95')}",
            f"{db}_lifecycles_per_s={v(walk, 'lifecycles_per_s', 2)}",
            f"{db}_two1_submit_p50_ms={v(two1, 'complete_p50')}",
            f"{db}_two4_lifecycles_per_s={v(two4, 'lifecycles_per_s')}",
            f"{db}_floor_ceiling_completions_per_s={v({'c': ceiling}, 'c')}",
            f"{db}_cpu_vs_floor={v({'r': ratio}, 'r', 2)}",
        ]
    errors = sum(s.get("errors", 0) for s in summaries.values())
    expected = sum(s.get("expected_409", 0) for s in summaries.values())
    print(f"\nload at the end: {loadavg()}")
    print("api_load: " + " ".join(parts) + f" expected_409={expected} errors={errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
