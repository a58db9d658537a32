"""退回 return and 撤回 withdraw: run an earlier user task again, from the data it had.

Only user tasks on the current task's own path (its ancestors in the task tree, through
enclosing subprocesses) are legal targets: a task in a sibling parallel branch is refused with a
reason rather than leaving two tokens. A target inside a multi-instance step resets the whole
step, so every instance of it is created again (no stuck "return into multi-instance").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from .. import audit, rules
from ..errors import ConflictError, InvalidInputError
from ..records import InstanceRecord
from ..runtime.step import Step
from ..tables import AuditEvent, HumanTask, Instance
from .common import ReturnTarget, comment, get_task, sign_rows

if TYPE_CHECKING:
    from ..runtime.runner import StepContext


def _path_user_tasks(task: Any) -> list[Any]:
    """Completed user tasks on ``task``'s path, newest first; a multi-instance child stands for its step."""
    top = task.workflow.top_workflow
    found: list[Any] = []
    seen: set[str] = set()
    node, tree = task.parent, task.workflow
    while True:
        while node is not None:
            spec = node.task_spec
            if (
                _is_user_step(spec)
                and node.has_state(TaskState.COMPLETED)
                and spec.bpmn_id
                and spec.bpmn_id not in seen
            ):
                seen.add(spec.bpmn_id)
                found.append(node)
            node = node.parent
        if tree.parent_task_id is None:
            return found
        holder = top.get_task_from_id(tree.parent_task_id)
        if holder is None:
            return found
        node, tree = holder.parent, holder.workflow


def _is_user_step(spec: Any) -> bool:
    """A user task, or a multi-instance step of user tasks (reset as a whole)."""
    if isinstance(spec, MultiInstanceTask):
        child = spec._wf_spec.task_specs.get(spec.task_spec)
        return bool(getattr(child, "manual", False))
    return bool(getattr(spec, "manual", False))


def _redo_data(target: Any) -> dict[str, Any]:
    """The data a step is redone from: what it had, less a multi-instance step's collected output."""
    data = dict(target.data)
    spec = target.task_spec
    if (
        isinstance(spec, MultiInstanceTask)
        and spec.data_output is not None
        and spec.data_output != spec.data_input
    ):
        data.pop(spec.data_output.bpmn_id, None)
    return data


def _load_task(step: Step, ht: HumanTask) -> tuple[Any, Any]:
    inst = step.session.get_one(Instance, ht.instance_id)
    model = step.runner.model_of(step.session, inst)
    wf = step.runner.load(model, inst)
    return wf, wf.get_task_from_id(UUID(ht.id))


def targets(step: Step, task_id: str, *, viewer: str | None = None) -> list[ReturnTarget]:
    ht = step.task(task_id)
    step.require_view(ht, viewer)
    if ht.kind == "sign" and ht.parent_id is not None:  # a signer returns what the parent task returns
        ht = get_task(step.session, ht.parent_id)
    _, task = _load_task(step, ht)
    if task is None:
        return []
    return [
        ReturnTarget(t.task_spec.bpmn_id, t.task_spec.bpmn_name or t.task_spec.bpmn_id, str(t.id))
        for t in _path_user_tasks(task)
    ]


def return_task(step: Step, task_id: str, actor: str, to_element_id: str | None, text: str) -> InstanceRecord:
    row, ht = step.task_for_work(task_id, actor, action="return")
    if ht.kind == "sign":
        raise ConflictError("a signer approves or rejects; the step's approver returns it / 加签人不能退回")
    send_back(step, row, ht, actor, to_element_id, text)
    return step.instance_record(row)


def send_back(
    step: Step, row: Instance, ht: HumanTask, actor: str, to_element_id: str | None, text: str
) -> StepContext:
    """Return ``ht``'s step to an earlier user task on its path (default: the previous one)."""
    s, now = step.session, step.now
    chosen: dict[str, Any] = {}

    def action(wf: Any) -> None:
        task = wf.get_task_from_id(UUID(ht.id))
        if task is None or not task.has_state(TaskState.READY):
            raise ConflictError(f"task {ht.id} is no longer waiting")
        legal = _path_user_tasks(task)
        if not legal:
            raise ConflictError(
                "there is no earlier user task on this task's path to return to / 没有可退回的环节"
            )
        if to_element_id is None:
            target = legal[0]
        else:
            target = next((t for t in legal if t.task_spec.bpmn_id == to_element_id), None)
            if target is None:
                names = ", ".join(t.task_spec.bpmn_id for t in legal)
                raise InvalidInputError(
                    f"cannot return to '{to_element_id}': legal targets are {names}",
                    {
                        "to_element_id": [
                            f"not an earlier step on this task's path; legal: {names} / 不是本任务之前经过的环节"
                        ]
                    },
                )
        chosen["element_id"], chosen["task_id"] = target.task_spec.bpmn_id, str(target.id)
        wf.reset_from_task_id(target.id, data=_redo_data(target))

    for r in sign_rows(s, ht.id):
        if r.status in ("open", "waiting"):
            r.status, r.completed_at = "cancelled", now
    ht.status, ht.completed_at, ht.completed_by = "returned", now, actor
    ctx = step.advance(row, action, actor=actor, reopening=True)
    audit.record(
        s,
        "task.return",
        now,
        actor=actor,
        instance_id=row.id,
        element_id=ht.element_id,
        task_id=ht.id,
        data={"to": chosen.get("element_id"), "comment": text},
    )
    comment(s, ht, actor, "return", text, now)
    step.emit(
        "task.returned",
        row,
        {
            "task_id": ht.id,
            "element_id": ht.element_id,
            "to": chosen.get("element_id"),
            "by": actor,
            "comment": text,
        },
    )
    return ctx


def withdraw(step: Step, instance_id: str, actor: str, text: str) -> InstanceRecord:
    s = step.session
    row = step.lock_instance(instance_id)
    if row.status != "running":
        raise ConflictError(f"instance {instance_id} is {row.status}")
    rules.require("withdraw", rules.actor_of(s, actor), row)
    mine = rules.last_step(s, instance_id)
    if mine is None:
        raise ConflictError(
            "nothing has been submitted yet, so there is nothing to withdraw; a draft nobody needs is "
            "cancelled instead / 尚未提交任何环节，无可撤回；不需要的草稿请撤销"
        )
    if mine.completed_by != actor:
        raise ConflictError("someone else acted last; nothing of yours to withdraw / 已有他人处理，无法撤回")
    open_rows = list(
        s.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.status.in_(("open", "waiting"))
            )
        )
    )
    touched = s.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.instance_id == instance_id,
            AuditEvent.task_id.in_([r.id for r in open_rows] or [""]),
            AuditEvent.event != audit.TASK_CREATE,
        )
        .limit(1)
    )
    if touched is not None or any(r.kind == "sign" or r.owner for r in open_rows):
        raise ConflictError(
            "the next step has been worked on; it can no longer be withdrawn / 下一环节已处理，无法撤回"
        )
    now = step.now

    def action(wf: Any) -> None:
        task = wf.get_task_from_id(UUID(mine.id))
        if task is None or not task.has_state(TaskState.COMPLETED):
            raise ConflictError("that step is too far back to withdraw / 该环节已无法撤回")
        wf.reset_from_task_id(task.id, data=_redo_data(task))

    for r in open_rows:
        r.status, r.completed_at = "withdrawn", now
    step.advance(row, action, actor=actor, reopening=True)
    audit.record(
        s,
        "instance.withdraw",
        now,
        actor=actor,
        instance_id=row.id,
        element_id=mine.element_id,
        task_id=mine.id,
        data={"comment": text},
    )
    comment(s, mine, actor, "withdraw", text, now)
    return step.instance_record(row)
