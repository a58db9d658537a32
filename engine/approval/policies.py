"""Per-task policies declared in the BPMN: timeout actions, CC on completion, auto-approval.

User-task properties: ``timeout`` (ISO duration) with ``timeoutAction`` remind | approve |
reject; ``ccGroups`` (comma list: copy these groups when the step completes, whatever the
decision). Process property ``autoApprove``: never | same_person (the assignee approved earlier
in this instance) | consecutive (they approved the step just before); a returned step never is.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import audit, durations
from ..definitions.policy import TIMEOUT_ACTIONS as ACTIONS
from ..runtime.step import JobHandler, Step, Steps
from ..tables import HumanTask, Job, Membership
from .notify import add_copies, urge
from .signing import decide
from .signing import on_task_created as on_signing_task_created

if TYPE_CHECKING:
    from ..runtime.runner import StepContext

TIMEOUT_NS = uuid.UUID("5b0f7c1e-2d8e-4a52-9f8b-6a0f3c9e1d42")
__all__ = [
    "ACTIONS",
    "auto_approve",
    "install",
    "on_task_created",
    "on_tasks_closed",
    "run_timeout",
    "timeout_handler",
    "timeout_job_id",
]


def install(steps: Steps) -> None:
    """Subscribe the BPMN-declared policies (signing rules, timeouts, CC, auto-approval) to the runner and the job worker."""
    steps.runner.task_hooks.extend([on_signing_task_created, on_task_created])
    steps.runner.close_hooks.append(on_tasks_closed)
    steps.runner.auto_actions.append(auto_approve)
    steps.job_handlers["task_timeout"] = timeout_handler(steps)


def timeout_job_id(task_id: str) -> str:
    return str(uuid.uuid5(TIMEOUT_NS, task_id))


def on_task_created(s: Session, ctx: StepContext, ht: HumanTask, task: Any) -> None:
    policy = ctx.model.policy(task.task_spec.bpmn_id)
    if not policy.timeout:
        return
    due, action = durations.after(policy.timeout, ctx.now), policy.timeout_action  # both checked at deploy
    job_id = timeout_job_id(ht.id)
    job = s.get(Job, job_id)
    if job is None:
        s.add(
            Job(
                id=job_id,
                kind="task_timeout",
                instance_id=ht.instance_id,
                element_id=ht.element_id,
                task_id=ht.id,
                due_at=due,
                payload={"action": action},
                attempts=0,
                created_at=ctx.now,
                tenant=ht.tenant,
            )
        )
    else:
        job.due_at, job.payload, job.attempts, job.last_error, job.locked_by, job.locked_until = (
            due,
            {"action": action},
            0,
            None,
            None,
            None,
        )


def on_tasks_closed(s: Session, ctx: StepContext, closed: list[tuple[Any, str]]) -> None:
    if not closed:
        return
    timed = [
        timeout_job_id(str(t.id)) for t, _ in closed if ctx.model.policy(t.task_spec.bpmn_id).timeout
    ]  # only these ever had a job
    if timed:
        s.execute(delete(Job).where(Job.kind == "task_timeout", Job.id.in_(timed)))
    for task, status in closed:
        groups = list(ctx.model.policy(task.task_spec.bpmn_id).cc_groups)
        if status != "completed" or not groups:
            continue
        people = sorted(set(s.scalars(select(Membership.username).where(Membership.group.in_(groups)))))
        added = add_copies(s, ctx.row, people, "system", task.task_spec.bpmn_id, ctx.now)
        if added:
            audit.record(
                s,
                "instance.cc",
                ctx.now,
                actor="system",
                instance_id=ctx.row.id,
                element_id=task.task_spec.bpmn_id,
                data={"usernames": added},
            )


def timeout_handler(steps: Steps) -> JobHandler:
    """The job handler for ``task_timeout`` jobs: each is decided in its own step, acting as the system."""

    def run(job: Job, force: bool) -> None:
        with steps.write("system") as step:
            run_timeout(step, job)

    return run


def run_timeout(step: Step, job: Job) -> None:
    """A task's timeout fell due: remind, or decide it the way the diagram says."""
    s = step.session
    action = (job.payload or {}).get("action", "remind")
    live = s.get(Job, job.id)
    ht = s.get(HumanTask, job.task_id)
    if live is None:
        return
    if ht is None or ht.status not in ("open", "waiting"):
        s.delete(live)
        return
    if action == "remind":
        urge(step, ht.id, "system", "超时提醒 / overdue reminder", system=True)
        s.delete(live)
    else:
        row = step.lock_instance(ht.instance_id)
        s.delete(live)
        data = {"decision": action, "comment": "超时自动处理 / decided on timeout"}
        audit.record(
            s,
            "task.timeout",
            step.now,
            actor="system",
            instance_id=row.id,
            element_id=ht.element_id,
            task_id=ht.id,
            data={"action": action},
        )
        if ht.status == "waiting":  # a signing in progress is decided as a whole
            decide(
                step,
                row,
                ht,
                "approve" if action == "approve" else "reject",
                "system",
                {**(ht.draft or {}), **data},
            )
        else:
            step.complete_task(row, ht, "system", data)


def auto_approve(s: Session, ctx: StepContext) -> list[tuple[str, dict[str, Any]]]:
    """Tasks the engine approves itself because their assignee already approved (自动去重)."""
    policy = ctx.model.process.auto_approve
    if policy not in ("same_person", "consecutive"):
        return []
    done = ctx.auto_seen
    out = []
    for ht in ctx.created_tasks:
        if ht.id in done or ht.kind != "task" or ht.status != "open" or not ht.assignee or ht.returned:
            continue
        done.add(ht.id)
        earlier = s.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == ctx.row.id,
                HumanTask.kind == "task",
                HumanTask.status == "completed",
                HumanTask.id != ht.id,
            )
            .order_by(HumanTask.completed_at.desc(), HumanTask.created_at.desc())
        ).all()
        approvals = [t for t in earlier if t.decision == "approve" and t.completed_by == ht.assignee]
        if policy == "consecutive":
            approvals = approvals[:1] if earlier and earlier[0] in approvals else []
        if not approvals:
            continue
        ht.status, ht.completed_at, ht.completed_by, ht.decision = (
            "completed",
            ctx.now,
            ht.assignee,
            "approve",
        )
        data = {
            "decision": "approve",
            "comment": f"自动通过：已于「{approvals[0].name}」审批 / auto-approved, approved earlier",
        }
        audit.record(
            s,
            "task.auto_approve",
            ctx.now,
            actor="system",
            instance_id=ctx.row.id,
            element_id=ht.element_id,
            task_id=ht.id,
            data={"on_behalf_of": ht.assignee, "because": approvals[0].id},
        )
        out.append((ht.id, data))
    return out
