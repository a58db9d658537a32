"""Shared fixtures: a database per test (SQLite always, PostgreSQL when it answers), a clock
that moves only when told, and engines built on them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from engine import Engine
from engine.runtime.clock import ManualClock

PG_URL = os.environ.get("JIEBANG_TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
# Tests build many engines, some at once: small pools keep the suite's peak connections low
# (servers the tests start inherit these too).
os.environ.setdefault("JIEBANG_DB_POOL_SIZE", "2")
os.environ.setdefault("JIEBANG_DB_MAX_OVERFLOW", "6")


def _pg_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=2):
            return True
    except Exception:
        return False


PG = _pg_answers()
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql", marks=pytest.mark.skipif(not PG, reason="PostgreSQL not answering on 127.0.0.1:5432")
    ),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/jiebang.sqlite3"
        return
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/jiebang.sqlite3"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


@pytest.fixture
def make_engine(database_url: str, clock: ManualClock) -> Iterator[Callable[..., Engine]]:
    """Build engines on the test's database; every one is disposed at the end."""
    built: list[Engine] = []

    def make(**kwargs) -> Engine:
        engine = Engine(database_url, clock=clock, **kwargs)
        built.append(engine)
        return engine

    yield make
    for engine in built:
        engine.store.dispose()


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()
