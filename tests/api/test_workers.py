"""``jiebang worker`` processes sharing one database: 1,000 due timers each fired exactly once
by two racing workers (PostgreSQL, SKIP LOCKED), and a worker killed mid-job whose job another
worker finishes once the lease expires."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text

from engine import Engine, ManualClock
from tests.server import jiebang

pytestmark = [pytest.mark.slow]
PING = Path(__file__).parent / "data" / "ping.bpmn"
N = 1000


def start_workers(database_url: str, count: int, tmp_path: Path, **env: str) -> list[subprocess.Popen]:
    environ = {**os.environ, "JIEBANG_DATABASE_URL": database_url, "JIEBANG_WORKER_INTERVAL": "0.1", **env}
    procs = []
    for _ in range(count):
        log = (tmp_path / f"worker-{len(list(tmp_path.glob('worker-*.log')))}.log").open(
            "w"
        )  # a file, never a pipe nobody reads
        procs.append(
            subprocess.Popen(
                jiebang("worker", "--concurrency", "2"),
                env=environ,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.mark.xdist_group("workers")
def test_two_workers_fire_a_thousand_timers_exactly_once(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("the race is about SKIP LOCKED on PostgreSQL")
    past = ManualClock(
        datetime.now(UTC) - timedelta(hours=2)
    )  # started two hours ago: the 1 h timers are due
    engine = Engine(database_url, clock=past)
    engine.deploy({"ping.bpmn": PING.read_bytes()})
    engine.upsert_user("u")
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: engine.start("ping", actor="u").id, range(N)))
    assert engine.list_jobs(kind="timer").total == N

    workers = start_workers(database_url, 2, tmp_path)
    try:
        deadline = time.monotonic() + 240
        while engine.list_jobs(kind="timer").total and time.monotonic() < deadline:
            assert all(w.poll() is None for w in workers), [
                p.read_text() for p in tmp_path.glob("worker-*.log")
            ]
            time.sleep(0.5)
    finally:
        stop(workers)
    assert engine.list_jobs(kind="timer").total == 0
    with engine.store.read() as s:
        fired = dict(
            s.execute(
                text(
                    "SELECT instance_id, count(*) FROM audit_event WHERE event = 'timer.fired' GROUP BY instance_id"
                )
            ).all()
        )
        answers = s.execute(
            text("SELECT count(*), count(DISTINCT instance_id) FROM human_task WHERE element_id = 'answer'")
        ).one()
    assert set(fired) == set(ids) and set(fired.values()) == {1}
    assert tuple(answers) == (N, N)
    assert all(w.returncode == 0 for w in workers)  # SIGTERM: a graceful stop
    engine.store.dispose()


class SlowReceiver:
    """Holds the first request open (its worker gets killed meanwhile); answers later ones at once."""

    def __init__(self) -> None:
        self.hits: list[float] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.hits.append(time.monotonic())
                if len(outer.hits) == 1:
                    outer.first_arrived.set()
                    outer.release.wait(20)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def slow_receiver() -> Iterator[SlowReceiver]:
    r = SlowReceiver()
    yield r
    r.release.set()
    r.server.shutdown()


@pytest.mark.xdist_group("workers")
def test_a_killed_workers_job_is_finished_by_another(
    database_url: str, tmp_path: Path, slow_receiver: SlowReceiver
) -> None:
    engine = Engine(database_url)
    engine.configure_integration(allow_private_webhooks=True)
    hook = engine.create_webhook(slow_receiver.url, ["task.created"], "secret", actor="test")
    engine.upsert_user("wang")
    engine.start("claim_evaluate", actor="wang")
    env = {"JIEBANG_WEBHOOK_ALLOW_LOOPBACK": "1", "JIEBANG_JOB_LEASE_SECONDS": "3"}

    [first] = start_workers(database_url, 1, tmp_path, **env)
    try:
        assert slow_receiver.first_arrived.wait(60), "the first worker never took the job"
        first.send_signal(signal.SIGKILL)  # mid-job: the post is in flight, nothing recorded
        first.wait(10)
        [deliveries], _ = engine.list_deliveries(hook.id)
        assert deliveries.status == "pending" and deliveries.attempts == []
        killed_at = time.monotonic()
        second = start_workers(database_url, 1, tmp_path, **env)
        try:
            deadline = time.monotonic() + 60
            while engine.list_deliveries(hook.id)[0][0].status != "delivered" and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stop(second)
    finally:
        stop([first])
    [delivery], _ = engine.list_deliveries(hook.id)
    assert delivery.status == "delivered" and [a["status_code"] for a in delivery.attempts] == [200]
    assert (
        len(slow_receiver.hits) == 2 and slow_receiver.hits[1] - killed_at >= 0
    )  # taken again only after the lease ran out
    assert engine.list_jobs(kind="webhook").total == 0
    engine.store.dispose()
