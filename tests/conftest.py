"""Shared fixtures: a database per test (SQLite always, PostgreSQL when it answers), a clock
that moves only when told, and engines built on them."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.runtime.clock import ManualClock
from engine.store import Store, head_revision

PG_URL = os.environ.get("JIEBANG_TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
PG_RAW = PG_URL.replace("postgresql+psycopg", "postgresql")
# Tests build many engines, some at once: small pools keep the suite's peak connections low
# (servers the tests start inherit these too).
os.environ.setdefault("JIEBANG_DB_POOL_SIZE", "2")
os.environ.setdefault("JIEBANG_DB_MAX_OVERFLOW", "6")


def _pg_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_RAW, connect_timeout=2):
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


class _Templates:
    """Migrating costs more than most tests, so each worker process migrates once per backend: a
    SQLite file it copies for each test, and PostgreSQL schemas it empties after a test (every row deleted, every sequence restarted) and hands to the next one. A schema a test
    changed (a migration test moves the revision) is dropped, not reused."""

    def __init__(self) -> None:
        self._sqlite: Path | None = None
        self._free: list[str] = []
        self._tables: list[str] | None = None

    def sqlite(self, target: Path) -> None:
        if self._sqlite is None:
            folder = Path(tempfile.mkdtemp(prefix="jiebang-template-"))
            Store(f"sqlite:///{folder}/template.sqlite3").dispose()  # the close folds the log into the file
            self._sqlite = folder / "template.sqlite3"
        shutil.copyfile(self._sqlite, target)

    def take_schema(self) -> str:
        if self._free:
            return self._free.pop()
        import psycopg

        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_RAW, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        if not self._tables:
            atexit.register(self.drop_all)
        Store(pg_schema_url(schema)).dispose()
        if self._tables is None:
            self._tables = self._tables_of(schema)
        return schema

    def give_back(self, schema: str) -> None:
        import psycopg

        with psycopg.connect(PG_RAW, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '5s'")
            try:
                revision = conn.execute(f'SELECT version_num FROM "{schema}".alembic_version').fetchall()
                reusable = revision == [(head_revision(),)] and self._tables_of(schema, conn) == self._tables
                if reusable:
                    with conn.transaction():
                        conn.execute("SET LOCAL session_replication_role = replica")  # no key checks
                        for table in self._tables or []:
                            conn.execute(f'DELETE FROM "{schema}"."{table}"')
                        conn.execute(
                            "SELECT setval(c.oid, 1, false) FROM pg_class c"
                            " JOIN pg_namespace n ON n.oid = c.relnamespace"
                            " WHERE c.relkind = 'S' AND n.nspname = %s",
                            (schema,),
                        )
                    self._free.append(schema)
                    return
            except psycopg.Error:
                pass
            conn.execute("SET lock_timeout = 0")
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    @staticmethod
    def _tables_of(schema: str, conn: Any = None) -> list[str]:
        import psycopg

        query = "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'alembic_version'"
        if conn is None:
            with psycopg.connect(PG_RAW, autocommit=True) as own:
                return sorted(r[0] for r in own.execute(query, (schema,)))
        return sorted(r[0] for r in conn.execute(query, (schema,)))

    def drop_all(self) -> None:
        import psycopg

        with contextlib.suppress(psycopg.Error), psycopg.connect(PG_RAW, autocommit=True) as conn:
            for schema in self._free:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        self._free.clear()


TEMPLATES = _Templates()


def migrated_sqlite(tmp_path: Path) -> str:
    """A SQLite database at the newest schema, for fixtures that pin the backend to SQLite."""
    TEMPLATES.sqlite(tmp_path / "jiebang.sqlite3")
    return f"sqlite:///{tmp_path}/jiebang.sqlite3"


def pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    # Commits need not wait for the disk: a test database is thrown away.
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database at the newest schema with no rows: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        TEMPLATES.sqlite(tmp_path / "jiebang.sqlite3")
        yield f"sqlite:///{tmp_path}/jiebang.sqlite3"
        return
    schema = TEMPLATES.take_schema()
    yield pg_schema_url(schema)
    TEMPLATES.give_back(schema)


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database with nothing in it, not even the schema (for tests of the migrations)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/jiebang.sqlite3"
        return
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_RAW, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield pg_schema_url(schema)
    with psycopg.connect(PG_RAW, autocommit=True) as conn:
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
