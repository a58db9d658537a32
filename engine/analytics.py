"""Where work waits: per element of a process, over a period, how many passed, how long they waited
(median and 95th percentile, from arrival to completion), how many wait now and how many are overdue.

Read from the task index (``human_task``: one row per user task offered, with its arrival, due and
completion times) through the index on ``(process_key, element_id, completed_at)``: on PostgreSQL
one statement computes every element's count and nearest-rank percentiles (``percentile_disc``);
SQLite, which has none, reads the value at the rank per element. Timers that fired are counted
from the audit log.

A period longer than a month reads whole past days from ``task_wait_day`` instead: each day's
waits per element as a histogram of 10 % wide buckets, counted once when first asked for (a
finished day's completions never change), so a year costs 365 small rows per element rather
than every task of the year. Counts stay exact; the percentiles are then read from the buckets,
within 5 % of the exact value. The part-days at either end are read from the tasks as before.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Float, Integer, and_, case, cast, func, select, true
from sqlalchemy.orm import Session

from .errors import InvalidInputError
from .tables import AuditEvent, HumanTask, Instance, WaitDay, WaitDayDone
from .vocabulary import Event

BUCKET_BASE = 1.1  # a bucket spans 10 %: the middle of one is within 5 % of anything in it
DAILY_FROM_DAYS = 32  # periods longer than a month read whole past days from the histograms


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
    days: list[date] | None = None,
) -> list[ElementStats]:
    """``visible(column)``: the viewer's tenant as a condition on a tenant column (None: all);
    ``days``: the whole days of the period already counted in ``task_wait_day`` (``count_days``),
    read from there; None reads every task."""
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
    if days:
        completed = _from_histograms(s, key, since, until, days, visible, done)
    elif s.get_bind().dialect.name == "postgresql":  # one statement: the percentiles by element
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
    # an open task has no completion time yet: the index's range of NULLs per element holds them
    waiting = and_(
        mine, HumanTask.completed_at.is_(None), HumanTask.kind == "task", HumanTask.status == "open"
    )
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


# ---- the period asked for ---------------------------------------------------------------------
LONGEST = timedelta(days=366)  # the page offers a year at most; longer would count days by the thousand
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def period(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """``[since, until)`` in UTC (default: the 30 days up to now), refused with 422 when it is
    upside down, longer than a year and a day, before 2000 or over a year ahead: each of its days
    may be counted into ``task_wait_day``, so a caller must not ask for millennia."""
    try:
        until = (until or now).astimezone(UTC)
        since = (since or until - timedelta(days=30)).astimezone(UTC)
    except OverflowError:
        raise InvalidInputError(
            "the period is out of range", {"since": ["between 2000 and next year / 须在 2000 年至明年之间"]}
        ) from None
    if since >= until:
        raise InvalidInputError(
            "since must be before until", {"since": ["must be before until / 开始时间须早于结束时间"]}
        )
    if since < EARLIEST or until > now + LONGEST:
        raise InvalidInputError(
            "the period is out of range", {"since": ["between 2000 and next year / 须在 2000 年至明年之间"]}
        )
    if until - since > LONGEST:
        raise InvalidInputError(
            "the period is longer than a year", {"since": ["a year at most / 时间段最长一年"]}
        )
    return since, until


# ---- daily histograms -------------------------------------------------------------------------
def bucket_of(seconds: float) -> int:
    """The histogram bucket of a wait: -1 under a second, else ``floor(log_1.1(seconds))``."""
    return -1 if seconds < 1 else math.floor(math.log(seconds) / math.log(BUCKET_BASE))


def bucket_value(bucket: int) -> float:
    """A wait standing for its bucket: the bucket's geometric middle."""
    return 0.5 if bucket < 0 else BUCKET_BASE ** (bucket + 0.5)


def whole_days(since: datetime, until: datetime, now: datetime) -> list[date]:
    """The UTC days lying wholly inside ``[since, until)`` and over before ``now``."""
    first = since.astimezone(UTC).date()
    if _start(first) < since:
        first += timedelta(days=1)
    end = min(until, now)
    out = []
    day = first
    while _start(day + timedelta(days=1)) <= end:
        out.append(day)
        day += timedelta(days=1)
    return out


def counted(s: Session, days: list[date]) -> set[date]:
    if not days:
        return set()
    return set(s.scalars(select(WaitDayDone.day).where(WaitDayDone.day.between(days[0], days[-1]))))


def count_days(s: Session, days: list[date], now: datetime) -> int:
    """Count the waits of those ``days`` not counted yet, every process at once (a write session;
    a second writer counting the same day fails on ``task_wait_day_done``'s key and rolls back).
    Returns how many days it counted."""
    missing = sorted(set(days) - counted(s, days))
    for span in _spans(missing):
        rows = _day_histograms(s, _start(span[0]), _start(span[-1] + timedelta(days=1)))
        s.add_all(WaitDayDone(day=d, counted_at=now) for d in span)
        s.flush()  # the days' keys first: a concurrent count of them stops here
        s.add_all(
            WaitDay(day=d, process_key=k, element_id=e, tenant=t, passed=sum(h.values()), buckets=dict(h))
            for (d, k, e, t), h in rows.items()
        )
    return len(missing)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _spans(days: list[date]) -> Iterable[list[date]]:
    """Runs of consecutive days."""
    run: list[date] = []
    for d in days:
        if run and d != run[-1] + timedelta(days=1):
            yield run
            run = []
        run.append(d)
    if run:
        yield run


def _completed_between(since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(
        HumanTask.kind == "task",
        HumanTask.status == "completed",
        HumanTask.completed_at >= since,
        HumanTask.completed_at < until,
    )


def _day_histograms(
    s: Session, since: datetime, until: datetime
) -> dict[tuple[date, str, str, str | None], Counter[str]]:
    """Per (day, process, element, tenant): how many waits fell in each bucket."""
    out: dict[tuple[date, str, str, str | None], Counter[str]] = {}
    if s.get_bind().dialect.name == "postgresql":
        day = cast(HumanTask.completed_at, Date)
        bucket = _sql_bucket(_seconds(s))
        for d, k, e, t, b, n in s.execute(
            select(day, HumanTask.process_key, HumanTask.element_id, HumanTask.tenant, bucket, func.count())
            .where(_completed_between(since, until))
            .group_by(day, HumanTask.process_key, HumanTask.element_id, HumanTask.tenant, bucket)
        ):
            out.setdefault((d, k, e, t), Counter())[str(b)] += n
        return out
    for k, e, t, created, completed in s.execute(
        select(
            HumanTask.process_key,
            HumanTask.element_id,
            HumanTask.tenant,
            HumanTask.created_at,
            HumanTask.completed_at,
        ).where(_completed_between(since, until))
    ):
        if completed is None:
            continue
        key = (completed.date(), k, e, t)
        out.setdefault(key, Counter())[str(_bucket_between(created, completed))] += 1
    return out


def _bucket_between(created: datetime, completed: datetime | None) -> int:
    return bucket_of((completed - created).total_seconds()) if completed is not None else -1


def _sql_bucket(seconds: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((seconds < 1, -1), else_=cast(func.floor(func.ln(seconds) / math.log(BUCKET_BASE)), Integer))


def _from_histograms(
    s: Session,
    key: str,
    since: datetime,
    until: datetime,
    days: list[date],
    visible: Callable[[Any], ColumnElement[bool] | None],
    done: ColumnElement[bool],
) -> dict[str, tuple[int, float | None, float | None]]:
    """Count and percentiles per element from the counted days plus the part-days at either end."""
    merged: dict[str, Counter[str]] = {}
    # the days' buckets summed by the database: a year is a few hundred rows back, not 365 per element
    each = (
        func.json_each_text(WaitDay.buckets)
        if s.get_bind().dialect.name == "postgresql"
        else func.json_each(WaitDay.buckets)
    ).table_valued("key", "value")
    stmt = (
        select(WaitDay.element_id, each.c.key, func.sum(cast(each.c.value, Integer)))
        .select_from(WaitDay)
        .join(each, true())
        .where(WaitDay.process_key == key, WaitDay.day.between(days[0], days[-1]))
        .group_by(WaitDay.element_id, each.c.key)
    )
    tenant = visible(WaitDay.tenant)
    if tenant is not None:
        stmt = stmt.where(tenant)
    for element, bucket, n in s.execute(stmt):
        merged.setdefault(element, Counter())[str(bucket)] += int(n)
    # the part-days at either end, each its own range on the index (a NOT over the days would scan them)
    for lower, upper in ((since, _start(days[0])), (_start(days[-1] + timedelta(days=1)), until)):
        if lower >= upper:
            continue
        edge = and_(done, HumanTask.completed_at >= lower, HumanTask.completed_at < upper)
        for element, created, completed in s.execute(
            select(HumanTask.element_id, HumanTask.created_at, HumanTask.completed_at).where(edge)
        ):
            merged.setdefault(element, Counter())[str(_bucket_between(created, completed))] += 1
    return {element: _percentiles(h) for element, h in merged.items()}


def _percentiles(histogram: Counter[str]) -> tuple[int, float | None, float | None]:
    n = sum(histogram.values())
    ordered = sorted((int(b), c) for b, c in histogram.items())
    found = []
    for q in (0.5, 0.95):
        rank, seen = _rank(q, n) + 1, 0
        for bucket, c in ordered:
            seen += c
            if seen >= rank:
                found.append(bucket_value(bucket))
                break
    return n, found[0], found[1]
