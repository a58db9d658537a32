#!/usr/bin/env python
"""Benchmark: 10,000 timers due at once, fired by 2 ``jiebang worker`` processes (PostgreSQL).

In a private schema of database ``test`` at 127.0.0.1:5432 (dropped at the end), a tiny diagram
(start → one-hour timer → user task → end) is deployed and ``--timers`` instances are started
through ``Engine.start`` on a clock set two hours back, so every timer is already due when the
workers come up. Then ``--workers`` ``jiebang worker --concurrency C`` processes are started
(``JIEBANG_WORKER_INTERVAL=0.1``) and the script watches the job table until no timer job is
left (or ``--limit`` seconds pass).

Checked from the audit log: ``audit_event.event = 'timer.fired'`` grouped by ``task_id`` — every
timer has exactly one row, and every instance then has its user task open exactly once.
Printed: time from the workers' launch to the last fire, from the first fire to the last,
fires per second (overall and per 5-second bucket), fires per worker process, and the load.

Before the workers start, ``--probe`` timers are fired by one in-process loop (the workers' own,
``Engine.run_due_jobs``) while nothing else runs: its CPU and PostgreSQL's per fire are what one
fire costs, and the cores the workers use can fire at most ``cores / cost`` per second.

Last line: ``timers: n=N fired=N duplicates=D missing=M all_fired_s=S fire_span_s=S per_s=R
allowed_per_s=A of_allowed=F`` (``all_fired_s`` from the workers' launch, including their
start-up). Targets: all fired within 60 s, each exactly once; ``of_allowed`` ≥ 0.70.

    .venv/bin/python bench/timers.py             # 10,000 timers (setup ≈ 2 min on 2 cores)
    .venv/bin/python bench/timers.py --quick     # 300 timers, smoke run
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path set-up above
    PgSchema,
    jiebang_cmd,
    loadavg,
    pg_answers,
    postgres_cpu_seconds,
    table,
)

TIMER_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_bench_timer" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bench_timer" name="Bench timer" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="Wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_timer"><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="answer" />
    <bpmn:userTask id="answer" name="Answer"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="answer" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def fmt_rate(v: float) -> str:
    return "—" if math.isnan(v) else f"{v:.0f}"


def step_cost(past_engine: Any, url: str, n: int) -> dict[str, Any]:
    """What one fire costs when nothing competes: ``n`` due timers fired by one in-process loop.

    The loop is the workers' own (``Engine.run_due_jobs``: lease a batch, one transaction per fire);
    CPU is this process's and PostgreSQL's, per fire. The cores can at most fire
    ``cores / (cpu + pg)`` per second, which is what the workers' rate is compared with."""
    from engine import Engine

    probe = [past_engine.start("bench_timer", actor="bench").id for _ in range(n)]
    now = Engine(url)  # the real clock: the timers set two hours back are due
    now.run_due_jobs(limit=1)  # warm: the definition parsed, the statements compiled
    cpu0, pg0, wall0 = time.process_time(), postgres_cpu_seconds(), time.perf_counter()
    fired = 0
    while True:
        done = now.run_due_jobs(limit=50, kinds=["timer"])
        if not done:
            break
        fired += done
    wall, cpu, pg = time.perf_counter() - wall0, time.process_time() - cpu0, postgres_cpu_seconds() - pg0
    now.store.dispose()
    fired = max(fired, 1)
    return {"wall_s": wall, "cpu_ms": cpu * 1000 / fired, "pg_ms": pg * 1000 / fired, "instances": probe}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timers", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2, help="jiebang worker processes")
    ap.add_argument("--concurrency", type=int, default=2, help="job loops per worker process")
    ap.add_argument("--limit", type=float, default=300.0, help="give up after this many seconds")
    ap.add_argument("--start-threads", type=int, default=8)
    ap.add_argument("--probe", type=int, default=500, help="timers fired in-process first, to price one fire")
    ap.add_argument("--quick", action="store_true", help="300 timers")
    args = ap.parse_args()
    if args.quick:
        args.timers, args.limit, args.probe = 300, 60.0, 50
    print(
        f"timers benchmark, {datetime.now(UTC).isoformat(timespec='seconds')} load {loadavg()} cores {os.cpu_count()}; "
        f"{args.timers:,} timers, {args.workers} worker processes × {args.concurrency} loops"
    )
    if not pg_answers():
        print("PostgreSQL does not answer at 127.0.0.1:5432: skipped")
        print(
            "timers: n=0 fired=na duplicates=na missing=na all_fired_s=na fire_span_s=na per_s=na "
            "allowed_per_s=na of_allowed=na"
        )
        return 0

    from sqlalchemy import text

    from engine import Engine, ManualClock

    schema = PgSchema("bench_timers")
    url = schema.url
    workers: list[subprocess.Popen] = []
    try:
        past = ManualClock(
            datetime.now(UTC) - timedelta(hours=2)
        )  # started two hours ago: the 1 h timers are due
        engine = Engine(url, clock=past)
        engine.deploy({"bench_timer.bpmn": TIMER_BPMN})
        engine.upsert_user("bench")
        cost = step_cost(engine, url, args.probe)
        print(
            f"step cost: {args.probe} timers fired in-process by one loop in {cost['wall_s']:.2f} s: "
            f"{cost['cpu_ms']:.2f} ms of this process's CPU and {cost['pg_ms']:.2f} ms of PostgreSQL's per fire; load {loadavg()}"
        )
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.start_threads) as pool:
            ids = list(pool.map(lambda _: engine.start("bench_timer", actor="bench").id, range(args.timers)))
        setup_s = time.perf_counter() - t0
        jobs_total = engine.list_jobs(kind="timer").total
        with engine.store.read() as s:
            mark = s.scalar(
                text("SELECT coalesce(max(id), 0) FROM audit_event")
            )  # the probe's fires come before
        print(
            f"started {len(ids):,} instances in {setup_s:.1f} s ({len(ids) / setup_s:.0f}/s); {jobs_total:,} timer jobs due; load {loadavg()}"
        )

        with tempfile.TemporaryDirectory(prefix="jiebang-timers-") as tmp:
            env = {
                **os.environ,
                "JIEBANG_DATABASE_URL": url,
                "JIEBANG_WORKER_INTERVAL": "0.1",
                "JIEBANG_LOG_LEVEL": "WARNING",
            }
            launch_wall = datetime.now(UTC)
            launch = time.perf_counter()
            logs = []
            for i in range(args.workers):
                log = (Path(tmp) / f"worker-{i}.log").open("w")
                logs.append(log)
                workers.append(
                    subprocess.Popen(
                        jiebang_cmd("worker", "--concurrency", str(args.concurrency)),
                        env=env,
                        cwd=tmp,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            left = jobs_total
            samples = []
            while True:
                with engine.store.read() as s:
                    left = s.scalar(text("SELECT count(*) FROM job WHERE kind = 'timer'"))
                samples.append((time.perf_counter() - launch, left))
                if left == 0 or time.perf_counter() - launch > args.limit:
                    break
                if any(w.poll() is not None for w in workers):
                    raise RuntimeError(
                        "a worker died: "
                        + " | ".join(
                            (Path(tmp) / f"worker-{i}.log").read_text()[-1500:] for i in range(args.workers)
                        )
                    )
                time.sleep(0.25)
            done_s = time.perf_counter() - launch
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                try:
                    w.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    w.kill()
            for log in logs:
                log.close()
            worker_errors = sum(
                (Path(tmp) / f"worker-{i}.log").read_text().count("ERROR") for i in range(args.workers)
            )

        with engine.store.read() as s:
            fired = dict(
                s.execute(
                    text(
                        "SELECT task_id, count(*) FROM audit_event WHERE event = 'timer.fired' AND id > :mark GROUP BY task_id"
                    ),
                    {"mark": mark},
                ).all()
            )
            by_instance = dict(
                s.execute(
                    text(
                        "SELECT instance_id, count(*) FROM audit_event WHERE event = 'timer.fired' AND id > :mark GROUP BY instance_id"
                    ),
                    {"mark": mark},
                ).all()
            )
            first, last = s.execute(
                text("SELECT min(at), max(at) FROM audit_event WHERE event = 'timer.fired' AND id > :mark"),
                {"mark": mark},
            ).one()
            answers = s.execute(
                text(
                    "SELECT count(*), count(DISTINCT instance_id) FROM human_task WHERE element_id = 'answer' AND instance_id <> ALL(:probe)"
                ),
                {"probe": cost["instances"]},
            ).one()
            ats = [
                r[0]
                for r in s.execute(
                    text("SELECT at FROM audit_event WHERE event = 'timer.fired' AND id > :mark"),
                    {"mark": mark},
                )
            ]
            failed_jobs = s.scalar(text("SELECT count(*) FROM job WHERE kind = 'timer' AND attempts > 0"))
        engine.store.dispose()

        duplicates = sum(n - 1 for n in fired.values() if n > 1)
        missing = len(set(ids) - set(by_instance))
        n_fired = len(fired)

        # audit ``at`` is naive UTC in the column; compare with the launch time
        def secs(dt: datetime) -> float:
            return (
                (dt.replace(tzinfo=UTC) - launch_wall).total_seconds()
                if dt.tzinfo is None
                else (dt - launch_wall).total_seconds()
            )

        first_s = secs(first) if first else math.nan
        last_s = secs(last) if last else math.nan
        span = last_s - first_s
        buckets = Counter(int(secs(a) // 5) for a in ats)
        rows = [[f"{b * 5:>3}–{b * 5 + 5:<3} s", str(n), f"{n / 5:.0f}"] for b, n in sorted(buckets.items())]
        table(
            "timer fires per 5-second bucket after the workers' launch (from audit_event.at)",
            ["window", "fires", "per s"],
            rows,
        )
        table(
            "result",
            ["what", "value"],
            [
                ["timers due", f"{jobs_total:,}"],
                ["fired (distinct task_id with timer.fired)", f"{n_fired:,}"],
                ["duplicate fires", str(duplicates)],
                ["instances never fired", str(missing)],
                ["user task 'answer' rows / distinct instances", f"{answers[0]:,} / {answers[1]:,}"],
                ["timer jobs left / retried", f"{left} / {failed_jobs}"],
                ["ERROR lines in worker logs", str(worker_errors)],
                ["workers' launch → first fire, s", f"{first_s:.1f}"],
                ["workers' launch → last fire, s", f"{last_s:.1f}"],
                ["first fire → last fire, s", f"{span:.1f}"],
                ["fires per second (first → last)", f"{n_fired / span:.0f}" if span > 0 else "—"],
                ["job table empty after, s (polled)", f"{done_s:.1f}"],
                ["load average now", loadavg()],
            ],
        )
        cores = min(os.cpu_count() or 1, args.workers * args.concurrency)
        allows = cores * 1000 / (cost["cpu_ms"] + cost["pg_ms"])
        rate = n_fired / span if span > 0 else math.nan
        table(
            "fires per second against what one fire's cost allows",
            ["what", "value"],
            [
                [
                    "one fire, in-process: Jiebang CPU + PostgreSQL CPU, ms",
                    f"{cost['cpu_ms']:.2f} + {cost['pg_ms']:.2f}",
                ],
                [
                    f"cores used ({args.workers} workers × {args.concurrency} loops on {os.cpu_count()} cores)",
                    str(cores),
                ],
                ["fires per second the cores allow at that cost", f"{allows:.0f}"],
                ["fires per second measured (first → last)", fmt_rate(rate)],
                ["measured / allowed (target ≥ 0.70)", f"{rate / allows:.2f}" if span > 0 else "—"],
            ],
        )
        per_s = f"{rate:.1f}" if span > 0 else "na"
        of_allowed = f"{rate / allows:.2f}" if span > 0 else "na"
        print(
            f"timers: n={args.timers} fired={n_fired} duplicates={duplicates} missing={missing} all_fired_s={last_s:.1f} "
            f"fire_span_s={span:.1f} per_s={per_s} allowed_per_s={allows:.1f} of_allowed={of_allowed}"
        )
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        schema.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
