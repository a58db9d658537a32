#!/usr/bin/env python
"""Benchmark: Jiebang's persisted engine step vs raw SpiffWorkflow's persisted-step round trip.

For the same user-task completions of the shipped claim-and-evaluate process (parsed once with
``SpiffBpmnParser(validator=VALIDATOR)``), measure

(a) raw SpiffWorkflow 3.2, the way a naive service persists a step: ``deserialize_json(js)`` →
    set the script engine → find the READY user task → ``task.data.update(form)`` →
    ``task.run()`` → ``do_engine_steps()`` → ``serialize_json(wf)``, with the stock
    ``BpmnWorkflowSerializer(configure(SPIFF_CONFIG))`` (spec embedded). Scripts run on the same
    sandboxed script engine Jiebang uses (``make_script_engine``), so both sides pay the same for
    diagram code; a second raw row uses Spiff's default ``PythonScriptEngine`` for reference.
    Spiff's timers read the same manual clock (``engine.runtime.clock.running_on``);
(b) Jiebang's persisted step, ``Engine.complete(task_id, user, form)``: one transaction with
    state, task index, audit and jobs; on SQLite (a file in a temp dir) and on PostgreSQL when
    127.0.0.1:5432 answers (a private schema, created and dropped here);
(c) flatness: the cost of a ``progress_report`` completion after 5, 100 and 1,000 reports on
    one instance (raw Spiff dies near 245 reports; it is reported as "failed at N"). Each
    checkpoint is paired with a baseline measured at the same time: young instances at exactly
    5 reports, stepped interleaved with the old one, so a change in machine load between
    checkpoints does not show up as growth.

Raw and Jiebang steps are interleaved step by step (the side that goes first rotates), so
they share the machine's noise. Figures are medians and p90 over many instances × steps.
"Jiebang SQLite, 2 engines (cold)" alternates two Engine objects on one database, as two
worker processes would, so an in-process cache of warm workflows never hits.
The last line is ``engine_step: ratio_vs_raw=R flat_1000_vs_5=F`` where R = Jiebang SQLite
(one Engine object) median step / raw (sandbox engine) median step and F = Jiebang SQLite
median step after 1,000 reports / its paired 5-report baseline.

    .venv/bin/python bench/engine_step.py            # full run (about 2 minutes)
    .venv/bin/python bench/engine_step.py --quick    # smoke run (< 20 s; F then compares
                                                     # the largest quick checkpoint with 5)
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment  # noqa: E402
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.util.event import BpmnEvent  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from bench.common import PROBLEM, PgSchema, pct, pg_answers, table  # noqa: E402 - after the path set-up above
from bpmn import PATH as BPMN_DIR  # noqa: E402
from engine import Engine  # noqa: E402
from engine.runtime.clock import ManualClock, iso, running_on  # noqa: E402
from engine.runtime.runner import fire_timer  # noqa: E402
from engine.sandbox.environment import make_script_engine  # noqa: E402
from engine.sandbox.helpers import add_duration, to_utc  # noqa: E402

PROCESS_ID = "claim_evaluate"
CLAIM_MESSAGE = "claim_submitted"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

PEOPLE = {"wang": [], "zhao": ["taskforce"], "sun": ["committee"], "qian": ["evaluator"], "zhou": []}
CLAIM = {"kind": "individual", "plan": "逐户走访", "pledge": "不完成不收兵"}
CLAIMANT = "zhou"


def report_form(i: int, final: bool = False) -> dict[str, Any]:
    return {
        "progress_percent": 100 if final else min(99, i),
        "summary": f"第 {i} 次汇报",
        "issues": "",
        "status_self": ("on_track", "at_risk", "on_track", "blocked")[i % 4],
        "final": final,
    }


def happy_path(clock: ManualClock) -> list[tuple]:
    """The walk: ("task", element, user, form-factory) steps, plus an untimed-in-R claim and timer."""
    return [
        ("task", "submit_problem", "wang", lambda: dict(PROBLEM)),
        ("task", "preliminary_review", "zhao", lambda: {"decision": "return", "comment": "目标不够量化"}),
        ("task", "revise_problem", "wang", lambda: {**PROBLEM, "goals": "三个月内完成 37 户征迁协议签订"}),
        ("task", "preliminary_review", "zhao", lambda: {"decision": "approve", "comment": "符合条件"}),
        (
            "task",
            "committee_approval",
            "sun",
            lambda: {
                "decision": "approve",
                "points": 100,
                "deadline": iso(clock.now() + timedelta(days=400)),
                "claim_window": "P14D",
                "report_interval": "P30D",
                "milestones": ["摸排", "谈判", "签约"],
                "guarantees": "镇财政保障工作经费",
            },
        ),
        ("claim",),
        ("timer", 15),
        (
            "task",
            "select_claim",
            "sun",
            lambda: {"decision": "approve", "selected": 0, "comment": "唯一揭榜方"},
        ),
        ("task", "progress_report", CLAIMANT, lambda: report_form(1)),
        ("task", "progress_report", CLAIMANT, lambda: report_form(2)),
        ("task", "progress_report", CLAIMANT, lambda: report_form(3)),
        ("task", "progress_report", CLAIMANT, lambda: report_form(4, final=True)),
        (
            "task",
            "completion_report",
            CLAIMANT,
            lambda: {"summary": "征迁协议全部签订", "results": "37 户签约", "evidence_links": []},
        ),
        ("task", "acceptance", "qian", lambda: {"decision": "pass", "grade": "good", "comment": "成效明显"}),
    ]


# ------------------------------------------------------------------------------------------
# statistics and printing
# ------------------------------------------------------------------------------------------
def med(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def fmt(v: float) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"


# ------------------------------------------------------------------------------------------
# the spec, parsed once (as a service would cache it)
# ------------------------------------------------------------------------------------------
def parse_specs() -> tuple[Any, dict[str, Any]]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_DIR / "claim_evaluate.bpmn"))
    parser.add_dmn_file(str(BPMN_DIR / "claim_evaluate.dmn"))
    return parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID)


RAW_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def default_script_engine(clock: ManualClock) -> PythonScriptEngine:
    """Spiff's stock (unrestricted) engine with the same three helpers the diagram calls."""
    return PythonScriptEngine(
        environment=TaskDataEnvironment(
            {"now": lambda: iso(clock.now()), "add_duration": add_duration, "to_utc": to_utc}
        )
    )


class RawRun:
    """One instance on raw SpiffWorkflow, persisted as JSON (spec embedded) between steps."""

    def __init__(self, specs: tuple[Any, dict[str, Any]], script_engine: Any, clock: ManualClock) -> None:
        self.script_engine = script_engine
        self.clock = clock
        wf = BpmnWorkflow(specs[0], specs[1], script_engine=script_engine)
        with running_on(clock):
            wf.do_engine_steps()
        self.js = RAW_SERIALIZER.serialize_json(wf)

    def _load(self) -> BpmnWorkflow:
        wf = RAW_SERIALIZER.deserialize_json(self.js)
        wf.script_engine = self.script_engine
        return wf

    def complete(self, element: str, user: str, form: dict[str, Any]) -> dict[str, float]:
        c0 = time.process_time()
        t0 = time.perf_counter()
        wf = self._load()
        t1 = time.perf_counter()
        with running_on(self.clock):
            task = next(
                (
                    t
                    for t in wf.get_tasks(state=TaskState.READY, manual=True)
                    if t.task_spec.bpmn_id == element
                ),
                None,
            )
            if task is None:
                raise RuntimeError(f"raw: no READY {element}")
            task.data.update(form)
            task.run()
            wf.do_engine_steps()
        t2 = time.perf_counter()
        self.js = RAW_SERIALIZER.serialize_json(wf)
        t3 = time.perf_counter()
        return {
            "total": t3 - t0,
            "load": t1 - t0,
            "run": t2 - t1,
            "save": t3 - t2,
            "cpu": time.process_time() - c0,
        }

    def claim(self, actor: str) -> float:
        payload = {
            **CLAIM,
            "leader": actor,
            "members": [{"username": actor, "share": 100}],
            "filed_at": iso(self.clock.now()),
        }
        t0 = time.perf_counter()
        wf = self._load()
        with running_on(self.clock):
            wf.send_event(BpmnEvent(MessageEventDefinition(CLAIM_MESSAGE), payload=payload))
            wf.do_engine_steps()
        self.js = RAW_SERIALIZER.serialize_json(wf)
        return time.perf_counter() - t0

    def fire_timers(self) -> float:
        t0 = time.perf_counter()
        wf = self._load()
        with running_on(self.clock):
            wf.refresh_timers()
            wf.do_engine_steps()
        self.js = RAW_SERIALIZER.serialize_json(wf)
        return time.perf_counter() - t0

    def close_window(self) -> None:
        """Fire the earliest waiting timer now (the claim window), without moving the clock."""
        wf = self._load()
        now = self.clock.now()
        waiting = [t for t in wf.get_tasks(state=TaskState.WAITING) if "event_value" in t.internal_data]
        first = min(waiting, key=lambda t: str(t.internal_data.get("event_value")))
        fire_timer(wf, str(first.id), now)
        with running_on(self.clock):
            wf.refresh_timers()
            wf.do_engine_steps()
        self.js = RAW_SERIALIZER.serialize_json(wf)


class JbRun:
    """One instance on a Jiebang engine; only the façade call is timed.

    With ``alt`` (a second Engine object on the same database) successive steps alternate
    between the two, like two worker processes serving one instance: an in-process cache of
    recently stepped workflows then never hits, so every step loads the state from the row.
    """

    def __init__(self, engine: Engine, alt: Engine | None = None) -> None:
        self._engines = [engine, alt] if alt is not None else [engine]
        self._turn = 0
        rec = engine.start(PROCESS_ID, actor="wang", business_key=f"B-{uuid.uuid4().hex[:8]}")
        self.instance_id = rec.id
        self.open = {t.element_id: t.id for t in rec.open_tasks}

    @property
    def engine(self) -> Engine:
        self._turn += 1
        return self._engines[self._turn % len(self._engines)]

    def complete(self, element: str, user: str, form: dict[str, Any]) -> dict[str, float]:
        task_id = self.open[element]
        c0 = time.process_time()
        t0 = time.perf_counter()
        engine = self.engine
        rec = engine.complete(task_id, user, form)
        t1 = time.perf_counter()
        cpu = time.process_time() - c0
        self.open = {t.element_id: t.id for t in rec.open_tasks}
        return {"total": t1 - t0, "cpu": cpu}

    def claim(self, actor: str) -> float:
        engine = self.engine
        t0 = time.perf_counter()
        engine.file_claim(self.instance_id, actor, dict(CLAIM))
        t1 = time.perf_counter()
        rec = engine.get_instance(self.instance_id)
        self.open = {t.element_id: t.id for t in rec.open_tasks}
        return t1 - t0

    def fire_timers(self) -> float:
        engine = self.engine
        t0 = time.perf_counter()
        engine.run_due_jobs()
        t1 = time.perf_counter()
        self.open = {t.element_id: t.id for t in engine.get_instance(self.instance_id).open_tasks}
        return t1 - t0

    def close_window(self) -> None:
        """Run the earliest timer job now (close the claim window early), without moving the clock."""
        engine = self.engine
        first = min(
            engine.list_jobs(instance_id=self.instance_id, kind="timer").items, key=lambda j: j.due_at
        )
        engine.execute_job(first.id, actor="sun")
        self.open = {t.element_id: t.id for t in engine.get_instance(self.instance_id).open_tasks}


# ------------------------------------------------------------------------------------------
# databases
# ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    schema = PgSchema("bench_step")
    try:
        yield schema.url
    finally:
        schema.drop()


def make_engine(url: str, clock: ManualClock) -> Engine:
    engine = Engine(url, clock=clock)
    for username, groups in PEOPLE.items():
        engine.upsert_user(username, groups=groups)
    return engine


# ------------------------------------------------------------------------------------------
# (a)+(b): the walk, interleaved
# ------------------------------------------------------------------------------------------
def run_walks(sides: dict[str, Callable[[], Any]], clock: ManualClock, instances: int) -> dict[str, Any]:
    """Walk ``instances`` instances on every side in lockstep; returns per-side samples."""
    steps_per = defaultdict(lambda: defaultdict(list))  # side -> element label -> [s]
    all_steps = defaultdict(list)  # side -> [s] (user-task completions only)
    all_cpu = defaultdict(list)  # side -> [CPU s of this process] for the same steps
    phases = defaultdict(lambda: defaultdict(list))  # raw side -> phase -> [s]
    extra = defaultdict(lambda: defaultdict(list))  # side -> "claim message"/"timer fire" -> [s]
    names = list(sides)
    for n in range(instances):
        runs = {name: make() for name, make in sides.items()}
        order = names[n % len(names) :] + names[: n % len(names)]
        seen: dict[str, int] = defaultdict(int)
        for step in happy_path(clock):
            if step[0] == "timer":
                clock.advance(days=step[1])
                for name in order:
                    extra[name]["timer fire (15 d)"].append(runs[name].fire_timers())
                continue
            if step[0] == "claim":
                for name in order:
                    extra[name]["claim message"].append(runs[name].claim(CLAIMANT))
                continue
            _, element, user, form_of = step
            seen[element] += 1
            label = (
                element
                if element not in ("preliminary_review", "progress_report")
                else f"{element} #{seen[element]}"
            )
            form = form_of()
            for name in order:
                sample = runs[name].complete(element, user, dict(form))
                steps_per[name][label].append(sample["total"])
                all_steps[name].append(sample["total"])
                all_cpu[name].append(sample["cpu"])
                for phase, v in sample.items():
                    if phase not in ("total", "cpu"):
                        phases[name][phase].append(v)
        order = order[1:] + order[:1]
    return {"steps": steps_per, "all": all_steps, "cpu": all_cpu, "phases": phases, "extra": extra}


# ------------------------------------------------------------------------------------------
# (c): flatness
# ------------------------------------------------------------------------------------------
def advance_to_reports(run: Any, clock: ManualClock, reports: int) -> None:
    """Walk one fresh run (untimed) through publication and selection, then ``reports`` reports.

    The claim window is closed by firing its timer early, so the clock never moves during the
    flatness runs and no other timer (report overdue, deadline) fires on any instance.
    """
    for step in happy_path(clock)[:8]:  # up to and including select_claim
        if step[0] == "timer":
            run.close_window()
        elif step[0] == "claim":
            run.claim(CLAIMANT)
        else:
            run.complete(step[1], step[2], step[3]())
    for i in range(1, reports + 1):
        run.complete("progress_report", CLAIMANT, report_form(i))


def run_flat(
    sides: dict[str, Callable[[], Any]], clock: ManualClock, checkpoints: list[int], window: int, pool: int
) -> tuple[dict, dict, dict]:
    """Flatness, with a baseline measured at the same time as each checkpoint.

    One long-lived instance per side steps its reports; at each checkpoint c its next ``window``
    report steps are timed (``old[side][c]``). Interleaved with them, step by step, young
    instances of the same side that have exactly 5..5+window/pool reports are stepped too
    (``young[side][c]``), so each checkpoint has a paired 5-report baseline that saw the same
    machine load. Raw Spiff's failure in the long loop is recorded as ``failed[side] = report``.
    """
    base = checkpoints[0]
    runs = {name: make() for name, make in sides.items()}
    for run in runs.values():
        advance_to_reports(run, clock, 0)
    old: dict[str, dict[int, list[float]]] = {name: defaultdict(list) for name in runs}
    young: dict[str, dict[int, list[float]]] = {name: defaultdict(list) for name in runs}
    failed: dict[str, int] = {}
    names = list(runs)
    done = 0
    for c in checkpoints:
        for i in range(done + 1, c + 1):  # untimed progress to the checkpoint
            for name in names:
                if name not in failed:
                    try:
                        runs[name].complete("progress_report", CLAIMANT, report_form(i))
                    except (Exception, RecursionError):  # raw Spiff's long-loop failure is a result
                        failed[name] = i
        done = c
        live = [n for n in names if n not in failed]
        if not live:
            continue
        pools: dict[str, list[Any]] = {n: [] for n in live}
        for _ in range(pool):
            for n in live:
                young_run = sides[n]()
                advance_to_reports(young_run, clock, base)
                pools[n].append(young_run)
        per_young = math.ceil(window / pool)
        for k in range(window):
            i = c + k + 1
            order = live[k % len(live) :] + live[: k % len(live)]
            for n in order:
                pair = [("old", runs[n], i), ("young", pools[n][k // per_young], base + k % per_young + 1)]
                if k % 2:
                    pair.reverse()
                for kind, run, number in pair:
                    if kind == "old" and n in failed:
                        continue
                    try:
                        t = run.complete("progress_report", CLAIMANT, report_form(number))["total"]
                    except (Exception, RecursionError):
                        if kind == "old":
                            failed[n] = i
                            continue
                        raise
                    (old if kind == "old" else young)[n][c].append(t)
        done = c + window
    return old, young, failed


# ------------------------------------------------------------------------------------------
# Jiebang phase breakdown (exclusive wall time per instrumented function, a separate pass)
# ------------------------------------------------------------------------------------------
class PhaseTimer:
    def __init__(self) -> None:
        self.stack: list[list[float]] = []
        self.totals: dict[str, float] = defaultdict(float)
        self.undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr)
        timer = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            frame = [0.0]
            timer.stack.append(frame)
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                timer.stack.pop()
                timer.totals[label] += elapsed - frame[0]
                if timer.stack:
                    timer.stack[-1][0] += elapsed

        setattr(owner, attr, wrapper)
        self.undo.append(lambda: setattr(owner, attr, original))

    def restore(self) -> None:
        for u in reversed(self.undo):
            u()


def jiebang_phases(url: str, clock: ManualClock, instances: int, cold: bool) -> tuple[dict[str, float], int]:
    """Mean exclusive ms per step of each part of Engine.complete, over happy-path task steps."""
    from sqlalchemy.orm import Session, SessionTransaction

    from engine.definitions import forms as formlib
    from engine.runtime import runner
    from engine.runtime import step as step_mod
    from engine.runtime.serializer import StateSerializer

    eng = make_engine(url, clock)
    alt = Engine(url, clock=clock) if cold else None
    pt = PhaseTimer()
    pt.wrap(StateSerializer, "loads", "load: json + restore (StateSerializer.loads)")
    pt.wrap(runner, "_run_engine_tasks", "run: Spiff engine steps (_run_engine_tasks)")
    pt.wrap(runner, "_open_user_tasks", "scan: READY user tasks (_open_user_tasks)")
    pt.wrap(runner, "_waiting_events", "scan: waiting events (_waiting_events)")
    pt.wrap(runner, "compact", "compact history (compaction.compact)")
    pt.wrap(runner, "_visible_data", "visible data (_visible_data)")
    pt.wrap(StateSerializer, "dumps", "save: convert + json (StateSerializer.dumps)")
    pt.wrap(StateSerializer, "data", "data to JSON-native (StateSerializer.data)")
    pt.wrap(runner.Runner, "_sync_tasks", "projection: task index (_sync_tasks)")
    pt.wrap(runner.Runner, "_sync_waits", "projection: jobs/subscriptions (_sync_waits)")
    pt.wrap(formlib, "validate", "form validation (forms.validate)")
    pt.wrap(step_mod, "instance_record", "result record (step.instance_record)")
    pt.wrap(Session, "flush", "SQL: flush (INSERT/UPDATE)")
    pt.wrap(SessionTransaction, "commit", "SQL: commit")
    pt.wrap(Session, "execute", "SQL: other statements (execute)")
    pt.wrap(Session, "get", "SQL: get by key (Session.get)")
    pt.wrap(Session, "refresh", "SQL: refresh")
    pt.wrap(Engine, "complete", "other (façade glue, audit rows, session)")
    n = 0
    try:
        for _ in range(instances):
            run = JbRun(eng, alt)
            for step in happy_path(clock):
                if step[0] == "timer":
                    clock.advance(days=step[1])
                    saved = dict(pt.totals)
                    run.fire_timers()
                    pt.totals.clear()
                    pt.totals.update(saved)
                elif step[0] == "claim":
                    saved = dict(pt.totals)
                    run.claim(CLAIMANT)
                    pt.totals.clear()
                    pt.totals.update(saved)
                else:
                    run.complete(step[1], step[2], step[3]())
                    n += 1
    finally:
        pt.restore()
        eng.store.dispose()
        if alt is not None:
            alt.store.dispose()
    return {k: v / n * 1000 for k, v in pt.totals.items()}, n


# ------------------------------------------------------------------------------------------
def sandbox_round_trips(isolated: Any, in_process: Any, n: int) -> dict[str, list[float]]:
    """Per-call cost of running diagram code in a worker process, next to the in-process sandbox."""

    class Task:
        id, task_spec = "bench", None

        def __init__(self) -> None:
            self.data = {"problem": dict(PROBLEM), "reports_count": 3, "points": 72.5, "grade": "good"}

    calls = {
        "script 'reports_count = reports_count + 1'": lambda engine: engine.execute(
            Task(), "reports_count = reports_count + 1"
        ),
        "expression 'round(points * 0.8, 1)'": lambda engine: engine.evaluate(
            Task(), "round(points * 0.8, 1)"
        ),
        "plain condition 'points >= 60 and grade == \"good\"'": lambda engine: engine.evaluate(
            Task(), 'points >= 60 and grade == "good"'
        ),
    }
    times: dict[str, list[float]] = {}
    for label, call in calls.items():
        for side, engine in (("worker", isolated), ("in-process", in_process)):
            if side == "worker" and label.startswith("plain"):
                continue
            call(engine)  # warm: the pool starts, the source is compiled
            samples = []
            for _ in range(n):
                start = time.perf_counter()
                call(engine)
                samples.append(time.perf_counter() - start)
            times[f"{label}, {side}"] = samples
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run (< 20 s)")
    ap.add_argument("--instances", type=int, help="happy-path instances per side (default 30; quick 2)")
    ap.add_argument(
        "--window", type=int, help="report steps measured per flatness checkpoint (default 40; quick 5)"
    )
    ap.add_argument(
        "--pool",
        type=int,
        help="young instances per flatness checkpoint for the paired 5-report baseline (default 8; quick 1)",
    )
    ap.add_argument("--no-pg", action="store_true", help="skip PostgreSQL even when it answers")
    args = ap.parse_args(argv)

    quick = args.quick
    instances = args.instances or (2 if quick else 30)
    window = args.window or (5 if quick else 40)
    checkpoints = [5, 30, 60] if quick else [5, 100, 1000]
    pool = args.pool or (1 if quick else 8)
    use_pg = not args.no_pg and not quick and pg_answers()

    started = time.perf_counter()
    specs = parse_specs()
    clock = ManualClock(T0)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="jiebang-bench-"))
        sqlite_engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3", clock)
        stack.callback(sqlite_engine.store.dispose)
        # the cold side gets its own database: run_due_jobs fires every due job of a database
        cold_a = make_engine(f"sqlite:///{tmp}/bench-cold.sqlite3", clock)
        stack.callback(cold_a.store.dispose)
        cold_b = Engine(f"sqlite:///{tmp}/bench-cold.sqlite3", clock=clock)
        stack.callback(cold_b.store.dispose)
        pg_engine = None
        if use_pg:
            pg_url = stack.enter_context(pg_schema())
            pg_engine = make_engine(pg_url, clock)
            stack.callback(pg_engine.store.dispose)
        sandbox = make_script_engine(clock.now)
        in_process = make_script_engine(clock.now, isolated=False)
        default = default_script_engine(clock)

        sides: dict[str, Callable[[], Any]] = {
            "raw Spiff (sandbox engine)": lambda: RawRun(specs, sandbox, clock),
            "raw Spiff (in-process sandbox)": lambda: RawRun(specs, in_process, clock),
            "raw Spiff (default engine)": lambda: RawRun(specs, default, clock),
            "Jiebang SQLite": lambda: JbRun(sqlite_engine),
            "Jiebang SQLite, 2 engines (cold)": lambda: JbRun(cold_a, cold_b),
        }
        if pg_engine is not None:
            sides["Jiebang PostgreSQL"] = lambda: JbRun(pg_engine)
        raw_name, jb_name = "raw Spiff (sandbox engine)", "Jiebang SQLite"

        # warm-up: one untimed instance per side (imports, caches, statement compilation)
        run_walks(sides, clock, 1)
        walks = run_walks(sides, clock, instances)

        flat_sides = {
            k: v
            for k, v in sides.items()
            if k
            not in (
                "raw Spiff (default engine)",
                "raw Spiff (in-process sandbox)",
                "Jiebang SQLite, 2 engines (cold)",
            )
        }
        flat, young, failed = run_flat(flat_sides, clock, checkpoints, window, pool)

        round_trips = sandbox_round_trips(sandbox, in_process, 50 if quick else 500)
        phase_ms, phase_steps = jiebang_phases(
            f"sqlite:///{tmp}/phases.sqlite3", clock, 1 if quick else 10, cold=False
        )
        phase_cold, _ = jiebang_phases(
            f"sqlite:///{tmp}/phases-cold.sqlite3", clock, 1 if quick else 10, cold=True
        )

    # ---- report --------------------------------------------------------------------------
    ms = 1000.0
    names = list(sides)
    n_steps = len(walks["all"][raw_name])
    print(
        f"engine_step benchmark: claim_evaluate happy path, {instances} instances × {n_steps // max(instances, 1)} user-task steps per side"
        f"{'' if use_pg else ' (PostgreSQL not measured: ' + ('--quick' if quick else 'not answering / --no-pg') + ')'}; times in ms"
    )
    rows = []
    for name in names:
        v = walks["all"][name]
        c = walks["cpu"][name]
        rows.append(
            [
                name,
                len(v),
                fmt(med(v) * ms),
                fmt(pct(v, 0.9) * ms),
                fmt(min(v) * ms),
                fmt(med(v) / med(walks["all"][raw_name])),
                fmt(med(c) * ms),
                fmt(med(c) / med(walks["cpu"][raw_name])),
            ]
        )
    table(
        "(a)/(b) persisted user-task step, all steps (wall time; CPU = this process's CPU time, robust to a busy machine)",
        ["side", "n", "median", "p90", "min", "× raw", "CPU median", "CPU × raw"],
        rows,
    )

    labels = list(walks["steps"][raw_name])
    rows = [
        [
            label,
            *(
                f"{fmt(med(walks['steps'][n][label]) * ms)}/{fmt(pct(walks['steps'][n][label], 0.9) * ms)}"
                for n in names
            ),
        ]
        for label in labels
    ]
    table("per step, median/p90", ["step", *names], rows)

    rows = [
        [
            phase,
            fmt(med(walks["phases"][raw_name][phase]) * ms),
            fmt(med(walks["phases"]["raw Spiff (default engine)"][phase]) * ms),
        ]
        for phase in ("load", "run", "save")
    ]
    table("raw Spiff phases, median", ["phase", "sandbox engine", "default engine"], rows)

    parts = sorted(
        set(phase_ms) | set(phase_cold), key=lambda k: -(phase_ms.get(k, 0) + phase_cold.get(k, 0))
    )
    rows = [[k, fmt(phase_ms.get(k, 0.0)), fmt(phase_cold.get(k, 0.0))] for k in parts]
    rows.append(
        [
            "sum (instrumented pass; wrappers add a little)",
            fmt(sum(phase_ms.values())),
            fmt(sum(phase_cold.values())),
        ]
    )
    table(
        f"Jiebang SQLite step, exclusive time per part, mean ms over {phase_steps} steps (separate instrumented pass)",
        ["part", "one engine", "2 engines (cold)"],
        rows,
    )

    rows = [[what, fmt(med(v) * ms), fmt(pct(v, 0.9) * ms)] for what, v in round_trips.items()]
    table(
        "diagram code: worker-process round trip vs in-process sandbox (a script task's script, a non-trivial "
        "expression; plain conditions never leave the process)",
        ["call", "median", "p90"],
        rows,
    )

    kinds = list(walks["extra"][raw_name])
    rows = [
        [
            k,
            *(
                f"{fmt(med(walks['extra'][n][k]) * ms)}/{fmt(pct(walks['extra'][n][k], 0.9) * ms)}"
                for n in names
            ),
        ]
        for k in kinds
    ]
    table("other steps (not in R), median/p90", ["step", *names], rows)

    rows = []
    for name in flat_sides:
        cells, pairs = [], []
        for c in checkpoints:
            v, y = flat[name].get(c) or [], young[name].get(c) or []
            if len(v) == window:
                cells.append(f"{fmt(med(v) * ms)}/{fmt(pct(v, 0.9) * ms)}")
                pairs.append(f"{fmt(med(y) * ms)} → {fmt(med(v) / med(y))}")
            else:
                cells.append(f"failed at {failed[name]}" if name in failed else "—")
                pairs.append("—")
        rows.append([name, *cells])
        rows.append(["  paired 5-report baseline → ratio", *pairs])
    table(
        f"(c) progress_report step after N reports: median/p90 over the next {window} reports of one instance;\n"
        f"    paired baseline = median of 5-report instances ({pool} per checkpoint) stepped interleaved with it",
        ["side", *(f"N={c}" for c in checkpoints)],
        rows,
    )

    r = med(walks["all"][jb_name]) / med(walks["all"][raw_name])
    f = med(flat[jb_name][checkpoints[-1]]) / med(young[jb_name][checkpoints[-1]])
    print(
        f"\ntargets: ratio_vs_raw <= 1.3 ({'met' if r <= 1.3 else 'MISSED'}), flat_1000_vs_5 <= 1.2 ({'met' if f <= 1.2 else 'MISSED'})"
        f"{'; quick run: F compares ' + str(checkpoints[-1]) + ' with 5 reports' if quick else ''}; wall {time.perf_counter() - started:.1f} s"
    )
    print(f"engine_step: ratio_vs_raw={r:.2f} flat_1000_vs_5={f:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
