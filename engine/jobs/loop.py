"""The job loop: lease due jobs, run each with its kind's handler, keep a failure on the job's row.

``api/worker.py`` drives it through ``Engine.run_due_jobs``; each job runs in its own
transaction, and a job that fails is retried later with back-off, never killing the worker.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from ..errors import ConflictError, NotFoundError
from ..runtime.step import Steps
from ..tables import Job
from . import leasing

log = logging.getLogger("jiebang.engine")


def run_due(steps: Steps, *, worker_id: str, lease: timedelta, limit: int, kinds: list[str] | None) -> int:
    """Lease due jobs and run each in its own transaction; returns how many ran."""
    with steps.write("system") as step:
        ids = leasing.acquire(
            step.session,
            worker_id,
            step.now,
            limit=limit,
            skip_locked=not steps.store.is_sqlite,
            kinds=kinds,
            lease=lease,
        )
    for job_id in ids:
        run_job(steps, job_id, force=False)
    return len(ids)


def run_job(steps: Steps, job_id: str, *, force: bool) -> None:
    """Run one job with the handler of its kind; ``force`` runs it whatever its due time."""
    with steps.store.read() as s:
        job = s.get(Job, job_id)
        if job is None:
            return
        handler = steps.job_handlers.get(job.kind)
    try:
        if handler is None:
            raise RuntimeError(f"no handler for job kind '{job.kind}'")
        handler(job, force)
    except (ConflictError, NotFoundError) as exc:
        _failed(steps, job_id, str(exc))
    except Exception as exc:  # a job must never kill the worker; its error stays on the row
        log.exception("job %s failed", job_id)
        _failed(steps, job_id, f"{type(exc).__name__}: {exc}")


def _failed(steps: Steps, job_id: str, error: str) -> None:
    """Retry the job later with back-off, unless a failure check parks it (an incident)."""
    with steps.write("system") as step:
        job = step.session.get(Job, job_id)
        if job is not None and not any(check(step, job, error) for check in steps.job_failure_checks):
            leasing.retry_later(job, step.now, error)
