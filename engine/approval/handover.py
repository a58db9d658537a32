"""转办 transfer and 委派 delegate: who holds a task, with the history of every holder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from .. import audit
from ..errors import ConflictError, InvalidInputError
from ..inbox import reindex
from ..tables import HumanTask
from .common import comment, require_users

if TYPE_CHECKING:
    from ..engine import Engine
    from ..records import TaskRecord


def transfer(engine: Engine, task_id: str, actor: str, to: str, text: str | None) -> TaskRecord:
    from ..engine import _task_record

    with engine.store.write() as s:
        _, ht = engine._task_for_work(s, task_id, actor, action="transfer")
        _check_target(s, ht, actor, to)
        if ht.owner and ht.assignee != ht.owner:
            raise ConflictError("a delegated task is transferred by its owner after it comes back / 委派中的任务不能转办")
        now = engine.clock.now()
        previous = ht.assignee
        ht.assignee, ht.owner = to, None
        reindex(s, ht)
        audit.record(s, "task.transfer", now, actor=actor, instance_id=ht.instance_id, element_id=ht.element_id, task_id=ht.id, data={"from": previous or actor, "to": to, "comment": text})
        comment(s, ht, actor, "transfer", text, now)
        return _task_record(ht)


def delegate(engine: Engine, task_id: str, actor: str, to: str, text: str | None) -> TaskRecord:
    from ..engine import _task_record

    with engine.store.write() as s:
        _, ht = engine._task_for_work(s, task_id, actor, action="delegate")
        _check_target(s, ht, actor, to)
        if ht.owner and ht.assignee != ht.owner:
            raise ConflictError("the task is already delegated / 任务已委派")
        now = engine.clock.now()
        ht.owner, ht.assignee = actor, to
        reindex(s, ht)
        audit.record(s, "task.delegate", now, actor=actor, instance_id=ht.instance_id, element_id=ht.element_id, task_id=ht.id, data={"owner": actor, "to": to, "comment": text})
        comment(s, ht, actor, "delegate", text, now)
        return _task_record(ht)


def delegate_done(engine: Engine, s: Session, ht: HumanTask, username: str, data: dict[str, Any]) -> None:
    """The delegate finished: the work goes back to the owner, who confirms or redoes it."""
    now = engine.clock.now()
    ht.draft = data
    ht.assignee = ht.owner
    audit.record(s, "task.delegate_done", now, actor=username, instance_id=ht.instance_id, element_id=ht.element_id, task_id=ht.id, data={"form": data, "owner": ht.owner})


def _check_target(s: Session, ht: HumanTask, actor: str, to: str) -> None:
    if not isinstance(to, str) or not to:
        raise InvalidInputError("no target user", {"to": ["required / 必填项"]})
    require_users(s, [to], "to")
    if to == actor:
        raise InvalidInputError("cannot hand a task to yourself", {"to": ["must be someone else / 不能是本人"]})
