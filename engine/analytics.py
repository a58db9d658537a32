"""Where work waits: per element of a process, over a period, how many passed, how long they waited
(median and 95th percentile, from arrival to completion), how many wait now and how many are overdue.

Read from the task index (``human_task``: one row per user task offered, with its arrival, due and
completion times) through the index on ``(process_key, element_id, completed_at)``; percentiles are
one ordered, offset read per element on both backends (no percentile function on SQLite), so the
cost follows the number of elements, not of instances. Timers that fired are counted from the
audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, select
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
    passed = dict(
        s.execute(select(HumanTask.element_id, func.count()).where(done).group_by(HumanTask.element_id)).all()
    )
    waiting = and_(mine, HumanTask.kind == "task", HumanTask.status == "open")
    open_now = dict(
        s.execute(
            select(HumanTask.element_id, func.count()).where(waiting).group_by(HumanTask.element_id)
        ).all()
    )
    overdue = dict(
        s.execute(
            select(HumanTask.element_id, func.count())
            .where(waiting, HumanTask.due_at < now)
            .group_by(HumanTask.element_id)
        ).all()
    )
    seconds = _seconds(s)
    out: list[ElementStats] = []
    for element in sorted(set(passed) | set(open_now)):
        n = passed.get(element, 0)
        p50 = p95 = None
        if n:
            ordered = select(seconds).where(done, HumanTask.element_id == element).order_by(seconds)
            p50 = s.scalar(ordered.offset(int(0.5 * (n - 1))).limit(1))
            p95 = s.scalar(ordered.offset(int(0.95 * (n - 1))).limit(1))
        out.append(
            ElementStats(
                element,
                n,
                round(float(p50), 1) if p50 is not None else None,
                round(float(p95), 1) if p95 is not None else None,
                open_now.get(element, 0),
                overdue.get(element, 0),
            )
        )
    out.extend(_timers(s, key, since, until, visible(Instance.tenant), {e.element_id for e in out}))
    return out


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
