"""The job loop: take due jobs (timers, webhook deliveries) and run them until told to stop.

Several loops may run against one PostgreSQL: ``Engine.run_due_jobs`` leases jobs with
``FOR UPDATE SKIP LOCKED``, and a dead loop's lease simply expires.
"""

from __future__ import annotations

import logging
import threading

from engine import Engine

log = logging.getLogger("jiebang.worker")


def run_worker(engine: Engine, stop: threading.Event, *, interval: float = 1.0, batch: int = 50) -> None:
    """Run due jobs until ``stop`` is set; sleeps ``interval`` seconds whenever nothing was due."""
    while not stop.is_set():
        try:
            ran = engine.run_due_jobs(limit=batch)
        except Exception:  # the database may be down for a moment; the loop must outlive it
            log.exception("worker: taking jobs failed")
            ran = 0
        if ran == 0:
            stop.wait(interval)


def start_worker_threads(
    engine: Engine, stop: threading.Event, *, count: int = 1, interval: float = 1.0
) -> list[threading.Thread]:
    """Start ``count`` daemon threads running ``run_worker``."""
    threads = []
    for i in range(count):
        t = threading.Thread(
            target=run_worker,
            args=(engine, stop),
            kwargs={"interval": interval},
            name=f"jiebang-worker-{i}",
            daemon=True,
        )
        t.start()
        threads.append(t)
    return threads
