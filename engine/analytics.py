"""Where work waits: per element of a process, over a period, how many passed, how long they waited
(median and 95th percentile, from arrival to completion), how many wait now and how many are overdue.

Read from the task index (``human_task``: one row per user task offered, with its arrival, due and
completion times) through the index on ``(process_key, element_id, completed_at)``: on PostgreSQL
one statement computes every element's count and nearest-rank percentiles (``percentile_disc``);
SQLite, which has none, reads the value at the rank per element. Timers that fired are counted
from the audit log.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, select
from sqlalchemy.orm import Session

from .tables import AuditEvent, HumanTask, Instance
from .vocabulary import Event


@dataclass(frozen=True)
class ElementStats:
    element_id: str
    passed: int  # completed in the period
    wait_p50_s: float | None  # arrival to completion, of those completed in the period
    wait_p95_s: float | None
    open: int  # waiting now
    overdue: int  # waiting now past their due time
    name: str = ""  # the element's name in the diagram (filled by the caller, which knows the version)


@dataclass(frozen=True)
class ProcessAnalytics:
    key: str
    since: datetime
    until: datetime
    items: list[ElementStats]


def _seconds(s: Session) -> ColumnElement[Any]:
    """Completion minus arrival in seconds, in the backend's own arithmetic."""
    if s.get_bind().dialect.name == "sqlite":
        return (func.julianday(HumanTask.completed_at) - func.julianday(HumanTask.created_at)) * 86400.0
    return cast(func.extract("epoch", HumanTask.completed_at - HumanTask.created_at), Float)


def element_stats(
    s: Session,
    key: str,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    visible: Callable[[Any], ColumnElement[bool] | None] = lambda _column: None,
) -> list[ElementStats]:
    """``visible(column)``: the viewer's tenant as a condition on a tenant column (None: all)."""
    mine = HumanTask.process_key == key
    task_tenant = visible(HumanTask.tenant)
    if task_tenant is not None:
        mine = and_(mine, task_tenant)
    done = and_(
        mine,
        HumanTask.kind == "task",
        HumanTask.status == "completed",
        HumanTask.completed_at >= since,
        HumanTask.completed_at < until,
    )
    seconds = _seconds(s)
    if s.get_bind().dialect.name == "postgresql":  # one statement: the percentiles by element
        rows = s.execute(
            select(
                HumanTask.element_id,
                func.count(),
                func.percentile_disc(0.5).within_group(seconds),
                func.percentile_disc(0.95).within_group(seconds),
            )
            .where(done)
            .group_by(HumanTask.element_id)
        ).all()
        completed = {e: (n, p50, p95) for e, n, p50, p95 in rows}
    else:  # SQLite has no percentile function: one ordered read at the rank, per element
        completed = {}
        for e, n in s.execute(
            select(HumanTask.element_id, func.count()).where(done).group_by(HumanTask.element_id)
        ):
            ordered = select(seconds).where(done, HumanTask.element_id == e).order_by(seconds)
            p50, p95 = (s.scalar(ordered.offset(_rank(q, n)).limit(1)) for q in (0.5, 0.95))
            completed[e] = (n, p50, p95)
    waiting = and_(mine, HumanTask.kind == "task", HumanTask.status == "open")
    backlog = {
        e: (n, late or 0)
        for e, n, late in s.execute(
            select(HumanTask.element_id, func.count(), func.sum(case((HumanTask.due_at < now, 1), else_=0)))
            .where(waiting)
            .group_by(HumanTask.element_id)
        )
    }
    out = [
        ElementStats(
            element,
            completed.get(element, (0, None, None))[0],
            _rounded(completed.get(element, (0, None, None))[1]),
            _rounded(completed.get(element, (0, None, None))[2]),
            backlog.get(element, (0, 0))[0],
            int(backlog.get(element, (0, 0))[1]),
        )
        for element in sorted(set(completed) | set(backlog))
    ]
    out.extend(_timers(s, key, since, until, visible(Instance.tenant), {e.element_id for e in out}))
    return out


def _rank(q: float, n: int) -> int:
    """The offset of the ``q`` percentile among ``n`` ordered values (nearest rank, as
    PostgreSQL's ``percentile_disc``)."""
    return max(0, math.ceil(q * n) - 1)


def _rounded(value: Any) -> float | None:
    return round(float(value), 1) if value is not None else None


def _timers(
    s: Session, key: str, since: datetime, until: datetime, tenant: ColumnElement[bool] | None, seen: set[str]
) -> list[ElementStats]:
    """Timers that fired in the period, by element (their wait is the timer's own duration)."""
    stmt = (
        select(AuditEvent.element_id, func.count())
        .join(Instance, Instance.id == AuditEvent.instance_id)
        .where(
            Instance.process_key == key,
            AuditEvent.event == Event.TIMER_FIRED.value,
            AuditEvent.at >= since,
            AuditEvent.at < until,
            AuditEvent.element_id.is_not(None),
        )
        .group_by(AuditEvent.element_id)
    )
    if tenant is not None:
        stmt = stmt.where(tenant)
    return [
        ElementStats(e, n, None, None, 0, 0)
        for e, n in s.execute(stmt).all()
        if e is not None and e not in seen
    ]
