"""加签/减签 and 会签/或签/依次/按比例: steps that several people sign.

A ``sign`` row in the task table is one signer's part of a BPMN user task (its ``parent_id``),
so each signer finds it in their inbox. Added signers (before / after / parallel) join the
current approver; a task whose BPMN declares ``approvalMode`` (all, any, sequential,
ratio:0.6) is signed by its ``approvers`` (a data variable) or its candidate groups' members.
The BPMN step completes only when the rule is met; ``onReject`` (reject | return) decides
what one refusal does, ``rejectDecision`` the value it completes with.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import assignment, audit, rules
from ..definitions.policy import APPROVAL_MODES as BPMN_MODES
from ..errors import ConflictError, InvalidInputError, NotFoundError
from ..inbox import reindex
from ..records import TaskRecord, task_record
from ..runtime.step import Step
from ..tables import HumanTask, Instance, Membership
from .common import comment, get_task, require_users, sign_rows, verdict
from .returns import send_back

if TYPE_CHECKING:
    from ..runtime.runner import StepContext

ADDED_MODES = ("before", "after", "parallel")
PENDING = ("open", "waiting")


def on_task_created(s: Session, ctx: StepContext, ht: HumanTask, task: Any) -> None:
    """A user task with ``approvalMode`` opens one sign row per approver instead of one task."""
    if ht.returned:  # a step sent back starts its signing afresh
        s.execute(
            update(HumanTask)
            .where(HumanTask.parent_id == ht.id, HumanTask.kind == "sign")
            .values(status="superseded")
        )
    policy = ctx.model.policy(task.task_spec.bpmn_id)
    mode, source = policy.approval_mode, policy.approvers  # checked at deploy: never a misspelt mode
    if not mode:
        return
    people: list[str] = []
    if source and isinstance(task.data.get(source), list):
        people = [str(p) for p in task.data[source] if p]
    elif ht.candidate_groups:
        people = sorted(
            set(s.scalars(select(Membership.username).where(Membership.group.in_(ht.candidate_groups))))
            | set(assignment.holders_of(s, ht.candidate_groups))
        )
    if not people:
        return  # nobody to sign: it stays an ordinary task for its candidates
    ht.status, ht.sign_mode, ht.assignee = "waiting", mode, None
    for seq, person in enumerate(people, start=1):
        first_or_all = mode != "sequential" or seq == 1
        s.add(_sign_row(ht, person, mode, seq, "open" if first_or_all else "waiting", ctx.now))


def add_signers(
    step: Step, task_id: str, actor: str, usernames: list[str], mode: str, text: str | None
) -> list[TaskRecord]:
    if mode not in ADDED_MODES:
        raise InvalidInputError(
            f"unknown mode '{mode}'", {"mode": ["before, after or parallel / 须为 before、after 或 parallel"]}
        )
    if not isinstance(usernames, list) or not all(isinstance(u, str) for u in usernames):
        raise InvalidInputError(
            "usernames must be a list of names", {"usernames": ["a list of usernames / 须为用户名列表"]}
        )
    s = step.session
    _, ht = step.task_for_work(task_id, actor, action="add_signers")
    if ht.kind != "task" or ht.sign_mode in BPMN_MODES:
        raise ConflictError("signers are added to the task itself / 只能对任务本身加签")
    require_users(s, usernames, tenant=ht.tenant)
    existing = {r.assignee for r in sign_rows(s, ht.id) if r.status != "removed"}
    dupes = sorted(
        {u for u in usernames if u in existing or u == actor}
        | {u for u in usernames if usernames.count(u) > 1}
    )
    if dupes:
        raise InvalidInputError(
            "already signing", {"usernames": [f"already on this step: {', '.join(dupes)} / 已在本环节"]}
        )
    now = step.now
    ht.assignee = actor  # the step comes back to whoever added signers
    reindex(s, ht)
    start = max([r.sign_seq or 0 for r in sign_rows(s, ht.id)], default=0)
    rows = []
    for i, person in enumerate(usernames, start=1):
        opens = mode == "parallel" or (mode == "before" and i == 1)
        row = _sign_row(ht, person, mode, start + i, "open" if opens else "waiting", now)
        s.add(row)
        rows.append(row)
    if mode == "before":
        ht.status = "waiting"
    audit.record(
        s,
        "task.add_signers",
        now,
        actor=actor,
        instance_id=ht.instance_id,
        element_id=ht.element_id,
        task_id=ht.id,
        data={"mode": mode, "usernames": usernames, "comment": text},
    )
    comment(
        s, ht, actor, "add_sign", text, now
    )  # whom and how: the audit entry; the text is the person's own
    opened = [row.assignee for row in rows if row.status == "open" and row.assignee]
    if opened:  # one announcement naming them all (a group robot posts once)
        step.offered(ht, people=opened)
    s.flush()
    return [task_record(r) for r in rows]


def remove_signer(step: Step, task_id: str, actor: str, username: str, text: str | None) -> None:
    s = step.session
    ht = get_task(s, task_id)
    step.lock_instance(ht.instance_id)
    rules.require("remove_signer", rules.actor_of(s, actor), ht)
    target = next(
        (
            r
            for r in sign_rows(s, ht.id)
            if r.assignee == username and r.sign_mode in ADDED_MODES and r.status != "removed"
        ),
        None,
    )
    if target is None:
        raise NotFoundError(f"{username} is not an added signer of task {task_id}")
    if target.status not in PENDING:
        raise ConflictError(f"{username} has already signed / 该加签人已处理")
    now = step.now
    was_open = target.status == "open"
    target.status, target.completed_at = "removed", now
    audit.record(
        s,
        "task.remove_signer",
        now,
        actor=actor,
        instance_id=ht.instance_id,
        element_id=ht.element_id,
        task_id=ht.id,
        data={"username": username, "comment": text},
    )
    comment(s, ht, actor, "remove_sign", text, now)
    if was_open and target.sign_mode == "before":
        _advance_before(step, ht)


def list_signers(step: Step, task_id: str, *, viewer: str | None = None) -> list[TaskRecord]:
    ht = step.task(task_id)
    step.require_view(ht, viewer)
    return [task_record(r) for r in sign_rows(step.session, task_id)]


def complete_base(
    step: Step, row: Instance, ht: HumanTask, username: str, data: dict[str, Any]
) -> StepContext | None:
    """The task's own approver submits; added after/parallel signers may still have to sign."""
    s = step.session
    pending = [r for r in sign_rows(s, ht.id) if r.status in PENDING and r.sign_mode in ("after", "parallel")]
    if not pending:
        ht.owner = None
        return step.complete_task(row, ht, username, data)
    now = step.now
    audit.record(
        s,
        "task.sign",
        now,
        actor=username,
        instance_id=row.id,
        element_id=ht.element_id,
        task_id=ht.id,
        data={"form": data},
    )
    ht.draft, ht.status, ht.decision = data, "waiting", verdict(data)
    if verdict(data) == "reject":
        return decide(step, row, ht, "reject", username, data)
    after = [r for r in pending if r.sign_mode == "after" and r.status == "waiting"]
    if after and not any(r.status == "open" for r in pending):
        after[0].status = "open"
        step.offered(after[0])
    return None


def sign(step: Step, row: Instance, ht: HumanTask, username: str, data: dict[str, Any]) -> StepContext | None:
    """One signer's decision; completes the step when its rule is met."""
    s, now = step.session, step.now
    ht.status, ht.completed_at, ht.completed_by, ht.draft, ht.decision = (
        "completed",
        now,
        username,
        data,
        verdict(data),
    )
    audit.record(
        s,
        "task.sign",
        now,
        actor=username,
        instance_id=row.id,
        element_id=ht.element_id,
        task_id=ht.id,
        data={"form": data, "base": ht.parent_id},
    )
    base = s.get(HumanTask, ht.parent_id)
    if base is None or base.status not in PENDING:
        raise ConflictError("the signed step is no longer open / 该环节已结束")
    rows = [r for r in sign_rows(s, base.id) if r.status != "removed"]
    mode = ht.sign_mode or ""
    if mode in BPMN_MODES or mode.startswith("ratio:"):
        outcome = _rule(mode, rows)
        if outcome is None:
            if mode == "sequential":
                nxt = next((r for r in rows if r.status == "waiting"), None)
                if nxt is not None:
                    nxt.status = "open"
                    step.offered(nxt)
            return None
        return decide(step, row, base, outcome, username, data)
    if ht.decision == "reject":
        return decide(step, row, base, "reject", username, data)
    if mode == "before":
        _advance_before(step, base)
        return None
    if any(r.status in PENDING for r in rows):
        nxt = next((r for r in rows if r.sign_mode == "after" and r.status == "waiting"), None)
        if nxt is not None and not any(r.status == "open" for r in rows):
            nxt.status = "open"
            step.offered(nxt)
        return None
    if base.status == "open":
        return None  # the step's own approver has not submitted yet
    return decide(step, row, base, "approve", username, base.draft or data)


def _rule(mode: str, rows: list[HumanTask]) -> str | None:
    total = len(rows)
    yes = sum(1 for r in rows if r.decision == "approve")
    no = sum(1 for r in rows if r.decision == "reject")
    if mode in ("all", "sequential"):
        return "reject" if no else ("approve" if yes == total else None)
    if mode == "any":
        return "approve" if yes else ("reject" if no == total else None)
    ratio = float(mode.split(":", 1)[1])
    if yes >= ratio * total - 1e-9:
        return "approve"
    if total - no < ratio * total - 1e-9:
        return "reject"
    return None


def decide(
    step: Step, row: Instance, base: HumanTask, outcome: str, username: str, data: dict[str, Any]
) -> StepContext | None:
    """The signing is decided: close what is pending and complete (or send back) the step."""
    s, now = step.session, step.now
    signatures = []
    for r in sign_rows(s, base.id):
        if r.status in PENDING:
            r.status, r.completed_at = "skipped", now
        if r.status == "completed":
            signatures.append({"username": r.completed_by, "decision": r.decision})
    model = step.runner.model_of(s, row)
    policy = model.policy(base.element_id)
    base.status = "open"
    if outcome == "reject" and policy.on_reject == "return":
        return send_back(step, row, base, username, None, "会签驳回 / rejected by a signer")
    submitted = dict(data)
    submitted["decision"] = policy.reject_decision if outcome == "reject" else data.get("decision", "approve")
    if outcome == "approve" and submitted["decision"] in ("reject", "fail"):
        submitted["decision"] = "approve"
    submitted["signatures"] = signatures
    return step.complete_task(row, base, username, submitted)


def _advance_before(step: Step, base: HumanTask) -> None:
    """Open the next before-signer, or give the step back to its own approver."""
    rows = [r for r in sign_rows(step.session, base.id) if r.sign_mode == "before"]
    if any(r.status == "open" for r in rows):
        return
    nxt = next((r for r in rows if r.status == "waiting"), None)
    if nxt is not None:
        nxt.status = "open"
        step.offered(nxt)
    else:
        base.status = "open"
        step.offered(base)


def _sign_row(base: HumanTask, person: str, mode: str, seq: int, status: str, now: Any) -> HumanTask:
    return HumanTask(
        id=str(uuid.uuid4()),
        instance_id=base.instance_id,
        process_key=base.process_key,
        business_key=base.business_key,
        element_id=base.element_id,
        name=base.name,
        title=base.title,
        lane=base.lane,
        candidate_groups=[],
        assignee=person,
        form=base.form,
        status=status,
        kind="sign",
        tenant=base.tenant,
        parent_id=base.id,
        sign_mode=mode,
        sign_seq=seq,
        created_at=now,
        due_at=base.due_at,
        returned=False,
    )
