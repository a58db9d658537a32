"""转办 transfer and 委派 delegate: who holds a task, with the history of every holder."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .. import audit
from ..errors import ConflictError, InvalidInputError
from ..inbox import reindex
from ..records import TaskRecord, task_record
from ..runtime.step import Step
from ..tables import HumanTask
from .common import comment, require_users


def transfer(step: Step, task_id: str, actor: str, to: str, text: str | None) -> TaskRecord:
    s, now = step.session, step.now
    _, ht = step.task_for_work(task_id, actor, action="transfer")
    _check_target(s, ht, actor, to)
    if ht.owner and ht.assignee != ht.owner:
        raise ConflictError(
            "a delegated task is transferred by its owner after it comes back / 委派中的任务不能转办"
        )
    previous = ht.assignee
    ht.assignee, ht.owner = to, None
    reindex(s, ht)
    audit.record(
        s,
        "task.transfer",
        now,
        actor=actor,
        instance_id=ht.instance_id,
        element_id=ht.element_id,
        task_id=ht.id,
        data={"from": previous or actor, "to": to, "comment": text},
    )
    comment(s, ht, actor, "transfer", text, now)
    step.offered(ht)
    return task_record(ht)


def delegate(step: Step, task_id: str, actor: str, to: str, text: str | None) -> TaskRecord:
    s, now = step.session, step.now
    _, ht = step.task_for_work(task_id, actor, action="delegate")
    _check_target(s, ht, actor, to)
    if ht.owner and ht.assignee != ht.owner:
        raise ConflictError("the task is already delegated / 任务已委派")
    ht.owner, ht.assignee = actor, to
    reindex(s, ht)
    audit.record(
        s,
        "task.delegate",
        now,
        actor=actor,
        instance_id=ht.instance_id,
        element_id=ht.element_id,
        task_id=ht.id,
        data={"owner": actor, "to": to, "comment": text},
    )
    comment(s, ht, actor, "delegate", text, now)
    step.offered(ht)
    return task_record(ht)


def delegate_done(step: Step, ht: HumanTask, username: str, data: dict[str, Any]) -> None:
    """The delegate finished: the work goes back to the owner, who confirms or redoes it."""
    s, now = step.session, step.now
    ht.draft = data
    ht.assignee = ht.owner
    audit.record(
        s,
        "task.delegate_done",
        now,
        actor=username,
        instance_id=ht.instance_id,
        element_id=ht.element_id,
        task_id=ht.id,
        data={"form": data, "owner": ht.owner},
    )
    step.offered(ht)  # back with its owner, who confirms or redoes it


def _check_target(s: Session, ht: HumanTask, actor: str, to: str) -> None:
    if not isinstance(to, str) or not to:
        raise InvalidInputError("no target user", {"to": ["required / 必填项"]})
    require_users(s, [to], "to", tenant=ht.tenant)
    if to == actor:
        raise InvalidInputError(
            "cannot hand a task to yourself", {"to": ["must be someone else / 不能是本人"]}
        )
