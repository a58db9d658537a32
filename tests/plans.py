"""Query plans for tests that hold a read to its indexes, on a table big enough to mean something.

The planner's choice on empty tables says nothing about a real inbox or list, so the tests write a
few thousand rows straight to the tables (``bulk_instances``), ANALYZE, and read the plans of the
SELECTs one engine call sends (``plans_of``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine as SqlEngine

from engine import Engine
from engine.tables import Definition, Instance

AT = datetime(2026, 1, 1, tzinfo=UTC)


def bulk_instances(
    engine: Engine, rows: Iterable[dict[str, Any]], *more: tuple[Any, list[dict[str, Any]]]
) -> None:
    """Insert running instances (``rows`` give ``id`` and any other column) and then ``more`` rows
    of other tables, in one transaction, and ANALYZE."""
    with engine.store.engine.begin() as conn:
        definition = conn.scalar(select(Definition.id).limit(1))
        base = dict(
            definition_id=definition,
            process_key="p",
            version=1,
            status="running",
            state="{}",
            data={},
            active_elements=[],
            visited=[],
            created_at=AT,
            updated_at=AT,
        )
        conn.execute(insert(Instance), [{**base, **row} for row in rows])
        for table, table_rows in more:
            conn.execute(insert(table), table_rows)
        conn.exec_driver_sql("ANALYZE")


def plans_of(
    engine: Engine, call: Callable[[], object], *, no_seqscan: bool = False
) -> tuple[bool, list[str]]:
    """Run ``call`` and return (on SQLite?, the plan lines of every SELECT it sent): SQLite's
    ``EXPLAIN QUERY PLAN`` details or PostgreSQL's ``EXPLAIN`` text. ``no_seqscan``: PostgreSQL plans
    with sequential scans priced out, for tables a few thousand rows small enough to read whole."""
    sent: list[tuple[str, object]] = []

    def keep(_conn: object, _cursor: object, statement: str, parameters: object, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(SqlEngine, "before_cursor_execute", keep)
    try:
        call()
    finally:
        event.remove(SqlEngine, "before_cursor_execute", keep)
    sqlite = engine.store.engine.dialect.name == "sqlite"
    plan: list[str] = []
    with engine.store.engine.connect() as conn:
        if no_seqscan and not sqlite:
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in sent:
            explain = ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement
            plan += [str(row[-1] if sqlite else row[0]) for row in conn.exec_driver_sql(explain, parameters)]
        conn.rollback()
    return sqlite, plan
