"""The instance and task operations, each a plain function of one ``Step`` (runtime/step.py).

Start, cancel, claim, unclaim, complete, deliver a message (timers fire in ``jobs/timers.py``). The approval
operations live in ``approval/*`` and the board's claims in ``challenge/board.py``, in the same form.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from . import assignment, audit, inbox, ownership, rules
from .approval import handover, signing
from .definitions import forms as formlib
from .definitions.catalog import Model
from .errors import ConflictError, InvalidInputError
from .records import InstanceRecord, TaskRecord, task_record
from .runtime.runner import StepContext, message_event
from .runtime.step import Step, require_open
from .tables import HumanTask, Job, MessageSubscription, TaskCandidate


def start(
    step: Step, process_key: str, *, version: int | None, business_key: str | None, data: dict[str, Any]
) -> InstanceRecord:
    catalog = step.runner.catalog
    tenant, unit = step.owner(data)
    definition = catalog.get_row(step.session, process_key, version, tenant=tenant)
    model = catalog.model(definition)
    check_start_data(model, data)
    data = dict(data)
    if FILING_UNIT not in data and step.actor and _declares(model, FILING_UNIT):
        own = assignment.sole_unit(step.session, step.actor)  # 申报单位: the starter's, when they have one
        if own is not None:
            data[FILING_UNIT] = own
    ctx = step.start(definition, business_key=business_key, data=data, tenant=tenant, unit=unit)
    return step.instance_record(ctx.row)


#: The variable holding the code of the unit an instance is filed by (申报单位); post rules read it.
FILING_UNIT = "unit"


def _declares(model: Model, name: str) -> bool:
    """Does the process ask for ``name`` anywhere (a form's field or a start variable)?"""
    return name in model.start_variables or any(
        name in ownership.declared_names(schema) for schema in model.forms.values()
    )


def check_start_data(model: Model, data: Any) -> None:
    """Start data carries only what the start event declares (ownership.py), valid against its start form."""
    ownership.check_caller_data(data, model.start_names(), what="start data")
    form = model.start_form()
    if form is not None:
        own = ownership.declared_names(form)
        formlib.validate(form, {k: v for k, v in data.items() if k in own})


def cancel(step: Step, instance_id: str, reason: str) -> InstanceRecord:
    """Stop an instance for good (its starter or an admin; ``step.actor=None`` is the system itself)."""
    s, actor, now = step.session, step.actor, step.now
    row = step.lock_instance(instance_id)
    if actor is not None:
        rules.require("cancel", rules.actor_of(s, actor), row)
    if row.status not in ("running", "error"):
        raise ConflictError(f"instance {instance_id} is {row.status}")
    row.status = "cancelled"
    row.ended_at = now
    row.updated_at = now
    open_ids = list(
        s.scalars(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.status.in_(("open", "suspended"))
            )
        )
    )
    if open_ids:
        s.execute(delete(TaskCandidate).where(TaskCandidate.task_id.in_(open_ids)))
        for ht in s.scalars(select(HumanTask).where(HumanTask.id.in_(open_ids))):
            ht.status = "cancelled"
            ht.completed_at = now
    s.execute(delete(Job).where(Job.instance_id == instance_id, Job.kind == "timer"))
    s.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance_id))
    step.record(audit.INSTANCE_CANCEL, actor=actor, instance_id=instance_id, data={"reason": reason})
    step.emit("instance.cancelled", row, {"reason": reason})
    return step.instance_record(row)


def claim(step: Step, task_id: str, username: str, *, groups: list[str] | None = None) -> TaskRecord:
    """Take a task from a group queue (``groups``: the person's, when the caller knows them)."""
    ht = step.task(task_id, lock=True)
    require_open(ht)
    if ht.assignee == username:
        return task_record(ht)
    if ht.assignee is not None:
        raise ConflictError(f"task {task_id} is held by {ht.assignee}")
    rules.require("claim", rules.actor_of(step.session, username, groups=groups), ht)
    ht.assignee = username
    ht.post_assignee = None  # taken up: it no longer follows its post
    inbox.reindex(step.session, ht)
    step.record(
        audit.TASK_CLAIM,
        actor=username,
        instance_id=ht.instance_id,
        element_id=ht.element_id,
        task_id=task_id,
    )
    return task_record(ht)


def unclaim(step: Step, task_id: str, username: str) -> TaskRecord:
    """Give a claimed task back to its group queue (a lane's own assignment stays)."""
    s = step.session
    ht = step.task(task_id, lock=True)
    actor = rules.actor_of(s, username)
    if not rules.allowed("unclaim", actor, ht):
        rules.require("view", actor, ht)  # a stranger learns nothing of the task; others learn who holds it
    require_open(ht)
    if ht.assignee != username:
        if ht.assignee is None:
            raise ConflictError(f"task {task_id} is not claimed")
        raise ConflictError(f"task {task_id} is held by {ht.assignee}")
    if not ht.candidate_groups:
        raise ConflictError(f"task {task_id} is assigned to {username} by its lane and cannot be released")
    ht.assignee = None
    inbox.reindex(s, ht)
    step.record(
        audit.TASK_UNCLAIM,
        actor=username,
        instance_id=ht.instance_id,
        element_id=ht.element_id,
        task_id=task_id,
    )
    return task_record(ht)


def complete(step: Step, task_id: str, username: str, data: dict[str, Any]) -> InstanceRecord:
    """Validate ``data`` against the task's form, then route it: a signature, a delegate's work,
    an owner's part of a signed step, or the step itself."""
    s = step.session
    row, ht = step.task_for_work(task_id, username)
    schema = step.form_for(row, ht.element_id)
    ownership.check_caller_data(
        data, ownership.declared_names(schema) if schema is not None else None, what="task data"
    )
    formlib.validate(schema, data)
    step.runner.check_input(data, "this form's data", stored=row.data)
    for check in step.steps.completion_checks:
        check(s, row, ht, data)
    if ht.kind == "sign":
        signing.sign(step, row, ht, username, data)
    elif ht.owner and ht.assignee != ht.owner:
        handover.delegate_done(step, ht, username, data)
    else:
        signing.complete_base(step, row, ht, username, data)
    return step.instance_record(row)


def deliver_message(step: Step, instance_id: str, name: str, payload: dict[str, Any]) -> StepContext | None:
    """Deliver message ``name`` to one instance if it still waits for it; None when it does not."""
    s = step.session
    row = step.lock_instance(instance_id)
    waiting = s.scalar(
        select(func.count())
        .select_from(MessageSubscription)
        .where(MessageSubscription.instance_id == instance_id, MessageSubscription.message_name == name)
    )
    if not waiting or row.status != "running":
        return None
    step.record(
        audit.MESSAGE, actor=step.actor, instance_id=instance_id, data={"name": name, "payload": payload}
    )
    return step.advance(row, lambda wf: wf.send_event(message_event(name, payload)))


def require_message_target(name: str, business_key: str | None, instance_id: str | None) -> None:
    if not name:
        raise InvalidInputError("message name required", {"name": ["required / 必填项"]})
    if business_key is None and instance_id is None:
        raise InvalidInputError(
            "business_key or instance_id required",
            {"business_key": ["business_key or instance_id required / 需指定业务键或实例"]},
        )
