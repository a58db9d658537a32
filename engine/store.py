"""The database: engine creation per backend, sessions for reading and for writing, and
connections for reads that are a single statement (the inbox).

SQLite (the embedded default) runs in WAL mode and write transactions start with
``BEGIN IMMEDIATE`` so two writers queue instead of failing on a stale snapshot; reads stay
concurrent. PostgreSQL runs READ COMMITTED and the runner locks the instance row it steps.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Result,
    Select,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///jiebang.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@dataclass
class Join:
    """A write joined to an outer transaction; ``done`` once its block finished without error."""

    store: Store
    session: Session
    entered: bool = False
    done: bool = False


_joined: contextvars.ContextVar[Join | None] = contextvars.ContextVar("jiebang_joined_write", default=None)


class Store:
    """Owns the SQLAlchemy engine and hands out one session per unit of work."""

    def __init__(
        self,
        url: str | None = None,
        *,
        migrate: bool = True,
        pool_size: int | None = None,
        max_overflow: int | None = None,
    ) -> None:
        """``pool_size``/``max_overflow`` (PostgreSQL): default ``$JIEBANG_DB_POOL_SIZE`` (10) and
        ``$JIEBANG_DB_MAX_OVERFLOW`` (20); the test suite sets them low, as it builds many stores."""
        self.url = url or DEFAULT_URL
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = create_engine(self.url, connect_args={"timeout": 30, "check_same_thread": False})
            _tune_sqlite(self.engine)
        else:
            size = pool_size if pool_size is not None else int(os.environ.get("JIEBANG_DB_POOL_SIZE", "10"))
            overflow = (
                max_overflow
                if max_overflow is not None
                else int(os.environ.get("JIEBANG_DB_MAX_OVERFLOW", "20"))
            )
            # No pre-ping: it costs a round trip per transaction; connections are recycled instead.
            self.engine = create_engine(self.url, pool_size=size, max_overflow=overflow, pool_recycle=1800)
        # Shares the engine's pool (SQLAlchemy's option engines do), so ``dispose`` closes its connections too.
        self._autocommit = (
            None if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        writer_bind = self.engine.execution_options(jiebang_write=True) if self.is_sqlite else self.engine
        self._writer = sessionmaker(writer_bind, expire_on_commit=False)
        # Told what each committed write did (observe.py installs the counting once per store).
        self.observers: list[Callable[[Any], None]] = []
        self.observed = False
        if migrate:
            self.upgrade()

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision.

        A database already at the newest revision costs one query: every worker and every
        command starts a store, and running Alembic's environment to learn there is nothing to
        do would cost more than the rest of start-up.
        """
        if self._revision() == head_revision():
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection_url"] = self.url
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def _revision(self) -> str | None:
        """The schema's Alembic revision; None for an empty database (or more than one head)."""
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except DBAPIError:  # no alembic_version table yet
            return None
        return rows[0] if len(rows) == 1 else None

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits on success, rolls back on any exception.

        Inside ``joining(session)``, the first write runs in that session's transaction instead,
        so an outer record (an idempotency key) commits or rolls back with the work it guards.
        """
        join = _joined.get()
        if join is not None and join.store is self and not join.entered:
            join.entered = True
            yield join.session
            join.done = True
            return
        with self._writer() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def joining(self, session: Session) -> Iterator[Join]:
        """Make the next ``write()`` in this context part of ``session``'s transaction."""
        join = Join(self, session)
        token = _joined.set(join)
        try:
            yield join
        finally:
            _joined.reset(token)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def statement(self) -> Iterator[Connection]:
        """A connection for reads that are one statement each, hence consistent on their own.

        On PostgreSQL it runs in autocommit, which saves the BEGIN and COMMIT round trips of a
        transaction; SQLite's are function calls, so it keeps its ordinary read transaction.
        """
        if self._autocommit is None:  # SQLite
            with self.engine.begin() as conn:
                yield conn
        else:
            with self._autocommit.connect() as conn:
                yield conn

    @property
    def writer(self) -> sessionmaker[Session]:
        """The factory of write sessions (for session events that watch every write)."""
        return self._writer

    def dispose(self) -> None:
        """Close every pooled connection (the autocommit reads share the pool); the store reconnects if used again."""
        self.engine.dispose()


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (``Session.execute`` types its result as a plain ``Result``)."""
    return result.rowcount if isinstance(result, CursorResult) else 0


def counted_page(
    s: Session, stmt: Select[*tuple[Any, ...]], *order_by: Any, offset: int, limit: int
) -> tuple[Result[*tuple[Any, ...]], int]:
    """One page of ``stmt`` in ``order_by`` order, and how many rows it has in all."""
    total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return s.execute(stmt.order_by(*order_by).offset(offset).limit(limit)), total


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:  # DBAPI objects
        dbapi_conn.isolation_level = None  # let the begin hook below issue BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("jiebang_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@functools.cache
def head_revision() -> str:
    """The newest revision the shipped migrations define (read once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""
