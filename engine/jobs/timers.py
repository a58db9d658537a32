"""Timers: a ``timer`` job fires its boundary or intermediate timer in one step of its instance."""

from __future__ import annotations

from typing import Any

from ..errors import ConflictError
from ..runtime.runner import fire_timer
from ..runtime.step import JobHandler, Step, Steps
from ..tables import Job
from . import leasing


def fire_timer_job(step: Step, job: Job, force: bool) -> None:
    """Fire a timer: one instance step; the job row disappears in the same transaction."""
    s, now = step.session, step.now
    instance_id, task_id = job.instance_id, job.task_id
    if instance_id is None or task_id is None:
        raise ConflictError(f"timer {job.id} names no instance task")
    row = step.lock_instance(instance_id)
    live = s.get(Job, job.id)
    if live is None:
        return  # fired already, by another worker or by the instance moving on
    if row.status != "running":
        raise ConflictError(f"instance {row.id} is {row.status}")

    def action(wf: Any) -> None:
        if force:
            fire_timer(wf, task_id, now)

    ctx = step.advance(row, action)
    still = s.get(Job, job.id)
    if still is not None and ctx.error is None:
        if still.due_at <= now and not force:
            raise ConflictError(f"timer {job.id} did not fire at {now.isoformat()}")
        leasing.release(still)


def timer_handler(steps: Steps) -> JobHandler:
    """The job handler for ``timer`` jobs: each fires in its own step, acting as the system."""

    def run(job: Job, force: bool) -> None:
        with steps.write("system") as step:
            fire_timer_job(step, job, force)

    return run
