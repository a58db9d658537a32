"""The job table: acquisition with leases, so many workers share one database safely.

A worker takes due jobs with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serialises writers
instead) and stamps a lease; a worker that dies leaves a lease that expires, and the job becomes
visible again. Running a job is the owner's business (a timer is an instance step; its row is
deleted in the same transaction, which is what makes a fire happen once).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..tables import Job

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=6)


def acquire(
    session: Session,
    worker_id: str,
    now: datetime,
    *,
    limit: int = 20,
    skip_locked: bool = False,
    kinds: list[str] | None = None,
    lease: timedelta = LEASE,
) -> list[str]:
    """Lease up to ``limit`` due jobs to ``worker_id``; returns their ids."""
    stmt = (
        select(Job)
        .where(Job.due_at <= now, or_(Job.locked_until.is_(None), Job.locked_until < now))
        .order_by(Job.due_at)
        .limit(limit)
    )
    if kinds:
        stmt = stmt.where(Job.kind.in_(kinds))
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    jobs = list(session.scalars(stmt))
    for job in jobs:
        job.locked_by = worker_id
        job.locked_until = now + lease
    return [j.id for j in jobs]


def release(job: Job) -> None:
    job.locked_by = None
    job.locked_until = None


def retry_later(job: Job, now: datetime, error: str, base: timedelta = timedelta(seconds=5)) -> None:
    """Exponential back-off: 5 s, 10 s, 20 s … capped at six hours."""
    job.attempts += 1
    job.last_error = error[:2000]
    job.due_at = now + min(base * (2 ** (job.attempts - 1)), MAX_BACKOFF)
    release(job)
