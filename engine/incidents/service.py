"""Incidents: what stopped an instance or a job, and the way out that is not cancelling it.

An incident opens, in the transaction that records the failure:

- ``script``: a diagram's script, condition or decision failed (or was stopped) in a step; the
  instance is in ``error`` at its last good state (runner.py keeps it), its open tasks suspended,
  its timers parked (they would only fail again) — one open incident per instance, counting
  attempts;
- ``message``: a message the instance threw reached no other instance, or several (runtime/relay.py):
  the step is rolled back, then the instance stops at the state it had before it, as for a script;
- ``job``: a job failed ``MAX_JOB_ATTEMPTS`` times (a timer that cannot fire, …); it stops being
  retried and waits, parked, for someone to look.

The repair: an admin reads the element, the error and the instance's data at that point, changes
variables if the data is wrong (``set_variables``, audited with the values before), deploys a fix
and migrates if the diagram is wrong, then ``retry``: the instance runs again from its last good
state (what was ready runs again: a failed start starts again; the user task it stood at is
offered again; its parked timers are due again) or the parked job runs again. A retry that fails
again opens the incident again with one more attempt. Cancelling the instance closes its
incidents.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from .. import inbox, rules
from ..errors import ConflictError, InvalidInputError, JobFailedError, NotFoundError
from ..ownership import is_reserved
from ..runtime.runner import Failure
from ..runtime.step import Step, Steps
from ..tables import HumanTask, Instance, Job
from ..vocabulary import Event
from .tables import Incident

MAX_JOB_ATTEMPTS = int(os.environ.get("JIEBANG_JOB_MAX_ATTEMPTS", "10"))
PARKED = datetime(9999, 1, 1, tzinfo=UTC)  # a parked job's lease: never taken until released
PARKED_BY = "incident"
RETRYING_BY = "incident-retry"  # an admin's retry runs it now; no worker takes it meanwhile
RETRY_LEASE = timedelta(minutes=10)  # a retry that died frees its job again after this


@dataclass(frozen=True)
class IncidentRecord:
    id: str
    kind: str
    instance_id: str | None
    process_key: str | None
    element_id: str | None
    job_id: str | None
    message: str
    data: dict[str, Any]
    attempts: int
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


def record(row: Incident) -> IncidentRecord:
    return IncidentRecord(
        row.id,
        row.kind,
        row.instance_id,
        row.process_key,
        row.element_id,
        row.job_id,
        row.message,
        dict(row.data or {}),
        row.attempts,
        row.created_at,
        row.updated_at,
        row.resolved_at,
        row.resolved_by,
        row.resolution,
    )


def install(steps: Steps) -> None:
    steps.runner.failure_hooks.append(_on_failure)
    steps.listeners.append(_on_event)
    steps.job_failure_checks.append(job_failed)


def _open_of(s: Session, instance_id: str) -> Incident | None:
    return s.scalars(
        select(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
    ).first()


def _on_failure(s: Session, failure: Failure) -> None:
    """An instance stopped: open (or count again) its incident, park its timers."""
    row = failure.row
    found = _open_of(s, row.id)
    if found is None:
        s.add(
            Incident(
                id=str(uuid.uuid4()),
                kind=failure.kind,
                instance_id=row.id,
                process_key=row.process_key,
                element_id=failure.element,
                message=failure.message,
                data=failure.data,
                attempts=1,
                created_at=failure.now,
                updated_at=failure.now,
                tenant=row.tenant,
            )
        )
    else:
        found.attempts += 1
        found.kind, found.message, found.element_id = failure.kind, failure.message, failure.element
        found.data, found.updated_at = failure.data, failure.now
    s.execute(
        update(Job)
        .where(Job.instance_id == row.id, Job.kind == "timer")
        .values(locked_by=PARKED_BY, locked_until=PARKED)
    )


def _on_event(s: Session, event: str, row: Instance, _data: dict[str, Any]) -> None:
    """A cancelled instance needs no repair: its incidents close."""
    if event == "instance.cancelled":
        s.execute(
            update(Incident)
            .where(Incident.instance_id == row.id, Incident.resolved_at.is_(None))
            .values(resolved_at=row.ended_at or row.updated_at, resolution="cancelled")
        )


def job_failed(step: Step, job: Job, error: str) -> bool:
    """After a job's failure: park it when its instance is stopped (its incident covers it) or it
    has failed ``MAX_JOB_ATTEMPTS`` times (a ``job`` incident opens); False: retry it later."""
    s, now = step.session, step.now
    instance = s.get(Instance, job.instance_id) if job.instance_id else None
    if instance is not None and instance.status == "error":
        job.last_error, job.locked_by, job.locked_until = error, PARKED_BY, PARKED
        return True
    if job.attempts + 1 < MAX_JOB_ATTEMPTS:
        return False
    job.attempts += 1
    job.last_error, job.locked_by, job.locked_until = error, PARKED_BY, PARKED
    s.add(
        Incident(
            id=str(uuid.uuid4()),
            kind="job",
            instance_id=job.instance_id,
            process_key=instance.process_key if instance is not None else None,
            element_id=job.element_id,
            job_id=job.id,
            message=error,
            data=dict(instance.data or {}) if instance is not None else {},
            attempts=job.attempts,
            created_at=now,
            updated_at=now,
            tenant=instance.tenant if instance is not None else job.tenant,
        )
    )
    return True


def _visible(
    s: Session, viewer: str, *, open_only: bool, instance_id: str | None, process_key: str | None
) -> Select[Incident]:
    """The viewer's tenant's incidents (filtered in the statement, before any page is cut)."""
    actor = rules.actor_of(s, viewer)
    rules.require("view_incidents", actor)
    stmt = select(Incident)
    where = rules.tenant_filter(actor, Incident.tenant)
    if where is not None:
        stmt = stmt.where(where)
    if open_only:
        stmt = stmt.where(Incident.resolved_at.is_(None))
    if instance_id:
        stmt = stmt.where(Incident.instance_id == instance_id)
    if process_key:
        stmt = stmt.where(Incident.process_key == process_key)
    return stmt


def listing(
    s: Session,
    viewer: str,
    *,
    open_only: bool,
    instance_id: str | None,
    process_key: str | None,
    offset: int = 0,
    limit: int = 500,
) -> list[IncidentRecord]:
    stmt = _visible(s, viewer, open_only=open_only, instance_id=instance_id, process_key=process_key)
    stmt = stmt.order_by(Incident.created_at.desc(), Incident.id).offset(offset).limit(limit)
    return [record(r) for r in s.scalars(stmt)]


def count(
    s: Session, viewer: str, *, open_only: bool, instance_id: str | None, process_key: str | None
) -> int:
    stmt = _visible(s, viewer, open_only=open_only, instance_id=instance_id, process_key=process_key)
    return s.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def get(s: Session, viewer: str, incident_id: str) -> Incident:
    actor = rules.actor_of(s, viewer)
    rules.require("view_incidents", actor)
    row = s.get(Incident, incident_id)
    if row is None or not rules.in_tenant(actor, row.tenant):
        raise NotFoundError(f"no incident '{incident_id}'")
    return row


def retry(step: Step, incident_id: str) -> tuple[IncidentRecord, list[str], str | None]:
    """Run again what the incident stopped: an instance from its last good state (returns the
    timers now due to run at once), or a parked job, which is returned still parked for
    ``rerun_job`` to run after this transaction."""
    rules.require("repair_instances", rules.actor_of(step.session, step.actor or ""))
    row = get(step.session, step.actor or "", incident_id)
    if row.resolved_at is not None:
        raise ConflictError(f"incident {incident_id} is already {row.resolution}")
    if row.kind in ("script", "message") and row.instance_id is not None:
        return record(row), resume(step, row.instance_id), None
    job = step.session.get(Job, row.job_id) if row.job_id else None
    if job is None:
        _resolve(step, row)
        return record(row), [], None
    stale = job.locked_by == RETRYING_BY and job.locked_until is not None and job.locked_until <= step.now
    if job.locked_by != PARKED_BY and not stale:
        raise ConflictError(f"incident {incident_id} is being retried / 正在重试，请稍候")
    # claimed for this retry: a second click waits for it, and a retry that died is free again later
    job.locked_by, job.locked_until = RETRYING_BY, step.now + RETRY_LEASE
    return record(row), [], job.id


def rerun_job(steps: Steps, incident_id: str, job_id: str, actor: str) -> IncidentRecord:
    """Run a job once more, now, for the admin who retried its incident (``retry`` claimed it, so
    no worker or second retry takes it meanwhile). If it fails again the incident stays open with
    another attempt counted, the job is parked again and the failure is raised (422); otherwise
    the incident is resolved."""
    with steps.store.read() as s:
        job = s.get(Job, job_id)
        handler = steps.job_handlers.get(job.kind) if job is not None else None
    error = None
    if job is not None:
        try:
            if handler is None:
                raise RuntimeError(f"no handler for job kind '{job.kind}'")
            handler(job, True)
        except (ConflictError, NotFoundError) as exc:
            error = exc.detail
        except Exception as exc:  # what a worker would have recorded on the job's row
            error = f"{type(exc).__name__}: {exc}"
    with steps.write(actor) as step:
        row = step.session.get(Incident, incident_id)
        live = step.session.get(Job, job_id)
        if row is None:
            raise NotFoundError(f"no incident '{incident_id}'")
        claimed = live is not None and live.locked_by == RETRYING_BY
        if error is not None:
            if claimed and live is not None:  # parked again, for the next repair
                live.attempts += 1
                live.last_error = error[:2000]
                live.locked_by, live.locked_until = PARKED_BY, PARKED
            if row.resolved_at is None:
                row.attempts += 1
                row.message, row.updated_at = error[:2000], step.now
        else:
            if claimed and live is not None:  # it ran and stays (a recurring job): a job like any other
                live.attempts, live.locked_by, live.locked_until = 0, None, None
            if row.resolved_at is not None:  # closed meanwhile (its instance was cancelled)
                return record(row)
            _resolve(step, row)
            step.record(
                Event.INCIDENT_RETRIED,
                actor=actor,
                instance_id=row.instance_id,
                data={"incident": row.id, "job": job_id},
            )
        found = record(row)
    if error is not None:
        raise JobFailedError(f"the job failed again: {error} / 重试后仍然出错")
    return found


def resume(step: Step, instance_id: str) -> list[str]:
    """Run a stopped instance again from its last good state (admins); returns its timers due now."""
    s = step.session
    rules.require("repair_instances", rules.actor_of(s, step.actor or ""))
    row = step.lock_instance(instance_id)
    if not rules.in_tenant(rules.actor_of(s, step.actor or ""), row.tenant):
        raise NotFoundError(f"no process instance '{instance_id}'")
    if row.status != "error":
        raise ConflictError(f"instance {instance_id} is {row.status}, not stopped by an error")
    waiting_at = step.runner.ready_user_tasks(s, row)
    row.status, row.error = "running", None
    ctx = step.advance(row, lambda _wf: None)  # what was ready runs; a failure counts another attempt
    if ctx.error is not None:  # it failed again: the failure hook counted another attempt
        return []
    reopened = 0
    for ht in s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)):
        again = ht.status == "suspended" or (
            ht.status == "completed" and ht.id in waiting_at and ht.kind == "task"
        )
        if again:
            ht.status, ht.completed_at, ht.completed_by, ht.decision = "open", None, None, None
            inbox.reindex(s, ht)
            reopened += 1
    s.execute(
        update(Job)
        .where(Job.instance_id == instance_id, Job.locked_by == PARKED_BY)
        .values(locked_by=None, locked_until=None, attempts=0)
    )
    found = _open_of(s, instance_id)
    if found is not None:
        _resolve(step, found)
    step.record(
        Event.INSTANCE_RESUMED,
        actor=step.actor,
        instance_id=instance_id,
        data={"incident": found.id if found else None, "tasks_reopened": reopened},
    )
    due = s.scalars(select(Job.id).where(Job.instance_id == instance_id, Job.due_at <= step.now))
    return list(due)


def set_variables(step: Step, instance_id: str, values: dict[str, Any], comment: str) -> dict[str, Any]:
    """Change an instance's data to repair it (admins), audited with the values before."""
    s = step.session
    actor = rules.actor_of(s, step.actor or "")
    rules.require("repair_instances", actor)
    if not values:
        raise InvalidInputError(
            "nothing to set", {"set": ["name at least one variable / 请至少设置一个变量"]}
        )
    reserved = sorted(name for name in values if is_reserved(name))
    if reserved:
        raise InvalidInputError(
            f"reserved names: {', '.join(reserved)}", {n: ["reserved name / 保留字段名"] for n in reserved}
        )
    if not comment.strip():
        raise InvalidInputError("say why", {"comment": ["say why the data changes / 请说明修改原因"]})
    row = step.lock_instance(instance_id)
    if not rules.in_tenant(actor, row.tenant):
        raise NotFoundError(f"no process instance '{instance_id}'")
    if row.status not in ("running", "error"):
        raise ConflictError(f"instance {instance_id} is {row.status}")
    before = step.runner.edit_data(s, row, values)
    step.record(
        Event.INSTANCE_VARIABLES_SET,
        actor=step.actor,
        instance_id=instance_id,
        data={"set": values, "before": {k: before.get(k) for k in values}, "comment": comment},
    )
    return dict(row.data or {})


def _resolve(step: Step, row: Incident) -> None:
    row.resolved_at, row.resolved_by, row.resolution = step.now, step.actor, "retried"
