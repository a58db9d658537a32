"""PostgreSQL connections an engine holds: few while it works, none once disposed, so the suite
(and a server beside another client) never runs into ``too many clients``."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from engine import Engine, ManualClock
from tests.conftest import PG, PG_URL
from tests.walk import PROBLEM, Walk

pytestmark = pytest.mark.skipif(not PG, reason="PostgreSQL not answering on 127.0.0.1:5432")

RAW = PG_URL.replace("postgresql+psycopg", "postgresql")


class Connections:
    """Counts the server's connections carrying one application name, and the most seen at once."""

    def __init__(self, application_name: str) -> None:
        import psycopg

        self.name = application_name
        self.monitor = psycopg.connect(RAW, autocommit=True)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def now(self) -> int:
        return self.monitor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (self.name,)
        ).fetchone()[0]

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.002)

    @contextmanager
    def watching(self) -> Iterator[Connections]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


@pytest.fixture
def labelled_url() -> Iterator[tuple[str, Connections]]:
    """A private schema whose connections carry their own ``application_name``."""
    import psycopg

    schema, name = f"t_{uuid.uuid4().hex[:12]}", f"jiebang_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(RAW, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    counter = Connections(name)
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}&application_name={name}", counter
    counter.monitor.close()
    with psycopg.connect(RAW, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _settled(count: Callable[[], int], want: int) -> int:
    deadline = time.monotonic() + 5
    while (
        count() != want and time.monotonic() < deadline
    ):  # the server notices a closed socket a moment later
        time.sleep(0.05)
    return count()


def test_a_fresh_engine_holds_few_connections_and_none_after_dispose(
    labelled_url: tuple[str, Connections], clock: ManualClock
) -> None:
    url, connections = labelled_url
    with connections.watching():
        engine = Engine(url, clock=clock)  # migrations, shipped diagrams
        engine.upsert_user("wang")
        token = engine.create_token("wang")
        engine.start("claim_evaluate", actor="wang")
        task = engine.list_tasks("wang", scope="mine").items[
            0
        ]  # the inbox reads through the autocommit connection
        engine.complete(task.id, "wang", dict(PROBLEM))
        assert engine.authenticate(token) is not None
        engine.store.dispose()
        after = _settled(connections.now, 0)
    assert after == 0, "connections left open after dispose"
    assert connections.peak <= 2, connections.peak


def test_a_walk_with_a_fresh_engine_per_step_stays_at_one_connection(
    labelled_url: tuple[str, Connections], clock: ManualClock
) -> None:
    url, connections = labelled_url
    built: list[Engine] = []

    def make() -> Engine:
        built.append(Engine(url, clock=clock, deploy_shipped=not built))
        return built[-1]

    with connections.watching():
        walk = Walk(make, clock, fresh=True)
        walk.submit()
        walk.review()
        walk.approve()
        walk.claim_team()
        walk.close_claim_window()
        for engine in built:
            engine.store.dispose()
        after = _settled(connections.now, 0)
    assert len(built) > 5 and after == 0
    assert connections.peak <= 2, connections.peak
