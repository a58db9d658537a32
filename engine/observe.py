"""What committed work did, told to observers (the server's metrics), and the operational counts an
operator watches (jobs due, late and failing, instances stopped by an error, group queues).

Counting happens where the rows change: every instance and inbox row a write session adds or
changes is seen before it is flushed, and the tally is handed to the observers only once the
transaction has committed (a rolled-back step counts nothing). A step that writes with Core
statements bypasses this; the instance and inbox rows are written through the ORM today.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, event, func, inspect, select
from sqlalchemy.orm import Session

from .integration.tables import Delivery
from .notifications.tables import NotificationDelivery
from .store import Store
from .tables import HumanTask, Instance, Job, TaskCandidate

ENDED = ("completed", "cancelled", "error")
LATE_AFTER = timedelta(minutes=1)  # a job due longer than this ago and still not run is late


@dataclass
class Tally:
    """What one committed transaction did."""

    started: Counter[str] = field(default_factory=Counter)  # process key
    ended: Counter[tuple[str, str]] = field(default_factory=Counter)  # (process key, status)
    tasks_created: Counter[tuple[str, str]] = field(default_factory=Counter)  # (process key, element id)
    tasks_completed: Counter[tuple[str, str]] = field(default_factory=Counter)
    deliveries_failed: Counter[str] = field(default_factory=Counter)  # event; out of attempts
    notifications_failed: Counter[str] = field(default_factory=Counter)  # event; out of attempts
    seconds: float = 0.0  # from the session's first flush to its commit
    process_key: str | None = None  # the (first) process the transaction stepped, for the duration's label

    def __bool__(self) -> bool:
        return bool(
            self.started
            or self.ended
            or self.tasks_created
            or self.tasks_completed
            or self.deliveries_failed
            or self.notifications_failed
        )


Observer = Callable[[Tally], None]


@dataclass(frozen=True)
class Gauges:
    """Operational counts at one moment (read when metrics are scraped)."""

    jobs_due: dict[str, int]  # job kind -> due now and not taken
    jobs_late: dict[str, int]  # job kind -> due for longer than LATE_AFTER
    jobs_failing: dict[str, int]  # job kind -> last attempt failed
    instances_in_error: dict[str, int]  # process key -> instances stopped by an error
    queues: dict[tuple[str, str], int]  # (tenant, group) -> open unassigned tasks offered to the group


def install(store: Store) -> None:
    """Count what the store's write sessions change, and tell ``store.observers`` after each
    commit; once per store, however many engines share it."""
    if store.observed:
        return
    store.observed = True
    writer, observers = store.writer, store.observers

    @event.listens_for(writer, "before_flush")
    def collect(session: Session, _context: Any, _instances: Any) -> None:
        tally = session.info.get("jiebang_tally")
        if tally is None:
            tally = session.info["jiebang_tally"] = Tally()
            session.info["jiebang_began"] = time.perf_counter()
        for obj in session.new:
            if isinstance(obj, Instance):
                tally.started[obj.process_key] += 1
                tally.process_key = tally.process_key or obj.process_key
                if obj.status in ENDED:
                    tally.ended[obj.process_key, obj.status] += 1
            elif isinstance(obj, HumanTask) and obj.kind == "task":
                tally.tasks_created[obj.process_key, obj.element_id] += 1
                if obj.status == "completed":
                    tally.tasks_completed[obj.process_key, obj.element_id] += 1
        for obj in session.dirty:
            if isinstance(obj, Instance):
                tally.process_key = tally.process_key or obj.process_key
                if _became(obj, ENDED):
                    tally.ended[obj.process_key, obj.status] += 1
            elif isinstance(obj, HumanTask) and obj.kind == "task" and _became(obj, ("completed",)):
                tally.tasks_completed[obj.process_key, obj.element_id] += 1
            elif isinstance(obj, Delivery) and _became(obj, ("failed",)):
                tally.deliveries_failed[obj.event] += 1
            elif isinstance(obj, NotificationDelivery) and _became(obj, ("failed",)):
                tally.notifications_failed[obj.event] += 1

    @event.listens_for(writer, "after_commit")
    def deliver(session: Session) -> None:
        tally = session.info.pop("jiebang_tally", None)
        began = session.info.pop("jiebang_began", None)
        if tally is None or not tally:
            return
        tally.seconds = time.perf_counter() - began if began is not None else 0.0
        for observer in list(observers):
            observer(tally)

    @event.listens_for(writer, "after_rollback")
    def discard(session: Session) -> None:
        session.info.pop("jiebang_tally", None)
        session.info.pop("jiebang_began", None)


def _became(obj: Any, statuses: tuple[str, ...]) -> bool:
    """Whether the object's ``status`` changed to one of ``statuses`` since its last flush."""
    history = inspect(obj).attrs.status.history
    return (
        bool(history.added)
        and history.added[0] in statuses
        and not (history.deleted and history.deleted[0] in statuses)
    )


def _counts(s: Session, stmt: Select[str, int]) -> dict[str, int]:
    """``SELECT key, count(*) … GROUP BY key`` as a dict."""
    return {key: n for key, n in s.execute(stmt)}


def gauges(s: Session, now: datetime) -> Gauges:
    """The operational counts now; each one statement on an index."""
    free = (Job.locked_until.is_(None)) | (Job.locked_until < now)
    per_kind = select(Job.kind, func.count()).group_by(Job.kind)
    queues = {
        (tenant, group): n
        for tenant, group, n in s.execute(
            select(TaskCandidate.tenant, TaskCandidate.group, func.count()).group_by(
                TaskCandidate.tenant, TaskCandidate.group
            )
        )
    }
    return Gauges(
        jobs_due=_counts(s, per_kind.where(Job.due_at <= now, free)),
        jobs_late=_counts(s, per_kind.where(Job.due_at <= now - LATE_AFTER, free)),
        jobs_failing=_counts(s, per_kind.where(Job.last_error.is_not(None))),
        instances_in_error=_counts(
            s,
            select(Instance.process_key, func.count())
            .where(Instance.status == "error")
            .group_by(Instance.process_key),
        ),
        queues=queues,
    )
