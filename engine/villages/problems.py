"""Courtyard meetings and their problems: the shipped ``village_leader``, ``village_problem`` and
``county_command`` processes, the engine's part in them, and the red/yellow/green lists.

``village_leader`` (one long-running instance per village) throws each problem of a courtyard
meeting as a message; the message starts a ``village_problem`` instance (runtime/relay.py), so
the village's instance stays flat however many meetings it holds. A problem marked common throws
``common_problem``, which the county's one ``county_command`` instance catches. Here:

- starts are checked: a village's instance is started by an admin of the village, once per
  village; the command once per county, by its admin;
- the triage form chooses among the county's departments (a form view), and the choice is
  checked when the 总队长 submits it;
- ``remind_due_soon`` ran (two days before the due date by colour, five for green): the department's
  open task is reminded that its days run out;
- ``mark_overdue`` ran (the due date by colour passed): the department's open task is urged (催办);
- every step of a problem refreshes its row in ``village_problem`` (a runner projection), which
  the lists, their .xlsx and the weekly snapshot read with one indexed query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rules
from ..approval.notify import urge
from ..durations import parse_instant
from ..errors import ConflictError, InvalidInputError
from ..jobs import leasing
from ..postqueues import split_post_group
from ..runtime.runner import StepContext
from ..runtime.step import JobHandler, Step, Steps
from ..tables import AuditEvent, HumanTask, Instance, Job, Unit, User
from .appointment import CLASS_ATTRIBUTE
from .tables import ProblemSnapshot, VillageProblem

VILLAGE_PROCESS = "village_leader"
PROBLEM_PROCESS = "village_problem"
COMMAND_PROCESS = "county_command"
TRIAGE_FORM = "village_problem_triage.schema.json"
OVERDUE_TASK = "mark_overdue"
REMIND_TASK = "remind_due_soon"  # the due-soon timer fired: remind the department before it is late
RESOLVE_TASK = "resolve"
URGE_TEXT = "问题已超过办理时限，请尽快办结并反馈 / overdue: please resolve and report"
REMIND_TEXT = "问题办理时限将至，请抓紧办理并反馈 / due soon: please resolve and report"
COLOURS = ("red", "yellow", "green")
DEFAULT_MEETING_INTERVAL = "P14D"
SNAPSHOT_JOB = "village_snapshot"
SNAPSHOT_EVERY = timedelta(days=7)
_SNAPSHOT_NS = uuid.UUID("5b0f7d52-8f43-4a5e-9d0c-17a1e6c0b917")


def install(steps: Steps) -> None:
    steps.reactions.append(react)
    steps.form_views.append(form_view)
    steps.runner.projections.append(project)
    steps.job_handlers[SNAPSHOT_JOB] = snapshot_handler(steps)


# ---- reactions -----------------------------------------------------------------------------
def react(step: Step, ctx: StepContext) -> None:
    key = ctx.row.process_key
    if key == VILLAGE_PROCESS and not ctx.data_before:
        check_village_start(step, ctx.row)
    elif key == COMMAND_PROCESS and not ctx.data_before:
        check_command_start(step, ctx.row)
    elif key == PROBLEM_PROCESS:
        if "set_due" in ctx.visited:
            check_department(step.session, ctx.row, ctx.data_after)
        if OVERDUE_TASK in ctx.visited:
            urge_overdue(step, ctx)
        if REMIND_TASK in ctx.visited:
            remind_due_soon(step, ctx)


def _single(step: Step, row: Instance, what: str) -> None:
    """One running instance of ``row``'s process for its unit."""
    other = step.session.scalar(
        select(Instance.id).where(
            Instance.process_key == row.process_key,
            Instance.unit == row.unit,
            Instance.status == "running",
            Instance.id != row.id,
        )
    )
    if other is not None:
        raise ConflictError(f"{what} runs already / 已在运行", instance_id=other)


def check_village_start(step: Step, row: Instance) -> None:
    s, data = step.session, row.data or {}
    unit = s.scalar(select(Unit).where(Unit.code == str(data.get("village") or "")))
    if unit is None or unit.code != row.unit or not (unit.attributes or {}).get(CLASS_ATTRIBUTE):
        raise InvalidInputError("give a village of the county", {"village": ["no such village / 村不存在"]})
    if data.get("village_name") != unit.name:
        raise InvalidInputError("village_name", {"village_name": [f"the village is {unit.name} / 村名不符"]})
    if step.actor is not None:
        rules.require("appoint_leader", rules.actor_of(s, step.actor), unit)
    _single(step, row, f"{unit.name}'s 总队长 process")


def check_command_start(step: Step, row: Instance) -> None:
    s = step.session
    unit = s.scalar(select(Unit).where(Unit.code == (row.unit or "")))
    if unit is None or unit.parent_id is not None:
        raise InvalidInputError("the command runs for the county", {"unit": ["give the county / 请填写县"]})
    if step.actor is not None:
        rules.require("appoint_leader", rules.actor_of(s, step.actor), unit)
    _single(step, row, f"{unit.name}'s command")
    job_id = str(uuid.uuid5(_SNAPSHOT_NS, unit.tenant))
    if s.get(Job, job_id) is None:  # the county's weekly list snapshot, from the command's first week
        s.add(
            Job(
                id=job_id,
                kind=SNAPSHOT_JOB,
                due_at=step.now + SNAPSHOT_EVERY,
                payload={},
                attempts=0,
                created_at=step.now,
                tenant=unit.tenant,
            )
        )


def departments(s: Session, tenant: str | None) -> dict[str, str]:
    """The county's departments, code -> name (the units a problem is dispatched to)."""
    stmt = select(Unit.code, Unit.name).where(Unit.kind == "department").order_by(Unit.path)
    if tenant is not None:
        stmt = stmt.where(Unit.tenant == tenant)
    return dict(s.execute(stmt).all())


def check_department(s: Session, row: Instance, data: dict[str, Any]) -> None:
    if str(data.get("department") or "") not in departments(s, row.tenant):
        raise InvalidInputError(
            "dispatch to a department of the county",
            {"department": ["a department of the county / 请选择本县的县直部门"]},
        )


def form_view(session: Session, row: Instance, schema: dict[str, Any]) -> dict[str, Any]:
    """The triage form chooses among the county's departments, by name."""
    if row.process_key != PROBLEM_PROCESS or schema.get("$id") != TRIAGE_FORM:
        return schema
    found = departments(session, row.tenant)
    if not found:
        return schema
    props = dict(schema.get("properties") or {})
    props["department"] = {**props["department"], "enum": list(found), "x-enumTitles": found}
    return {**schema, "properties": props}


def urge_overdue(step: Step, ctx: StepContext) -> None:
    """催办 the department's open task, once per time it falls overdue."""
    s = step.session
    for task in ctx.workflow.get_tasks(state=TaskState.READY, manual=True):
        if task.task_spec.bpmn_id != RESOLVE_TASK:
            continue
        ht = s.get(HumanTask, str(task.id))
        if ht is None or ht.status != "open":
            continue
        urged = s.scalars(
            select(AuditEvent.data).where(
                AuditEvent.task_id == ht.id, AuditEvent.event == "task.urge", AuditEvent.actor == "system"
            )
        )
        if not any(
            (d or {}).get("comment") == URGE_TEXT for d in urged
        ):  # a due-soon reminder is not an urge
            urge(step, ht.id, "system", URGE_TEXT, system=True)


def remind_due_soon(step: Step, ctx: StepContext) -> None:
    """Remind the department's open task that its days run out (not once it is late: then it is urged)."""
    due = _instant(ctx.data_after.get("due"))
    if due is not None and due <= step.now:
        return
    for task in ctx.workflow.get_tasks(state=TaskState.READY, manual=True):
        if task.task_spec.bpmn_id != RESOLVE_TASK:
            continue
        ht = step.session.get(HumanTask, str(task.id))
        if ht is not None and ht.status == "open":
            urge(step, ht.id, "system", REMIND_TEXT, system=True)


# ---- the projection ------------------------------------------------------------------------
def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None


def project(s: Session, ctx: StepContext) -> None:
    """Keep the problem's list row equal to its instance (runs in every step of a problem)."""
    row = ctx.row
    if row.process_key != PROBLEM_PROCESS:
        return
    data = ctx.data_after or {}
    if not data.get("title"):
        return  # the start event has not run its registration yet
    found = s.get(VillageProblem, row.id)
    if found is None:
        village = s.scalar(select(Unit).where(Unit.code == str(data.get("village") or "")))
        town = s.get(Unit, village.parent_id) if village is not None and village.parent_id else None
        found = VillageProblem(
            instance_id=row.id,
            tenant=row.tenant,
            village=str(data.get("village") or ""),
            town=town.code if town is not None else None,
            raised_at=_instant(data.get("raised_at")) or ctx.now,
        )
        s.add(found)
    found.title = str(data.get("title"))[:300]
    colour = data.get("colour")
    found.colour = colour if colour in COLOURS else None
    department = data.get("department")
    found.department = department if isinstance(department, str) and found.colour else None
    found.phase = str(data.get("phase") or "")
    found.escalated = data.get("escalated") is True
    found.overdue = data.get("overdue") is True
    found.returns = int(data.get("returns") or 0)
    found.due_at = _instant(data.get("due"))
    found.solved_at = _instant(data.get("solved_at"))
    found.status = {"completed": "solved", "running": "open"}.get(row.status, row.status)


# ---- the lists -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ProblemRow:
    """One open problem as the red/yellow/green list shows it: names, age in days, who has it now."""

    instance_id: str
    title: str
    colour: str | None
    village: str
    village_name: str
    town_name: str
    department_name: str
    phase: str
    age_days: int
    due_at: datetime | None
    overdue: bool
    escalated: bool
    returns: int
    owner: str


def problem_list(
    s: Session,
    actor: rules.Actor,
    now: datetime,
    *,
    village: str | None = None,
    town: str | None = None,
    colour: str | None = None,
    department: str | None = None,
    status: str = "open",
) -> list[ProblemRow]:
    """The county's (or one town's, or one village's) problems, red first, oldest first, untriaged last."""
    stmt = select(VillageProblem).where(VillageProblem.status == status)
    where = rules.tenant_filter(actor, VillageProblem.tenant)
    if where is not None:
        stmt = stmt.where(where)
    if village:
        stmt = stmt.where(VillageProblem.village == village)
    if town:
        stmt = stmt.where(VillageProblem.town == town)
    if colour == "untriaged":
        stmt = stmt.where(VillageProblem.colour.is_(None))
    elif colour:
        stmt = stmt.where(VillageProblem.colour == colour)
    if department:
        stmt = stmt.where(VillageProblem.department == department)
    problems = list(s.scalars(stmt))
    codes = (
        {p.village for p in problems}
        | {p.town for p in problems if p.town}
        | {p.department for p in problems if p.department}
    )
    names = dict(s.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())
    owners = _owners(s, [p.instance_id for p in problems])
    order = {c: i for i, c in enumerate(COLOURS)}
    rows = [
        ProblemRow(
            p.instance_id,
            p.title,
            p.colour,
            p.village,
            names.get(p.village, p.village),
            names.get(p.town or "", ""),
            names.get(p.department or "", ""),
            p.phase,
            max(0, (now - p.raised_at).days),
            p.due_at,
            p.overdue or (p.due_at is not None and p.due_at < now and p.status == "open"),
            p.escalated,
            p.returns,
            owners.get(p.instance_id, ""),
        )
        for p in problems
    ]
    return sorted(
        rows, key=lambda r: (order.get(r.colour or "", len(COLOURS)), -r.age_days, r.village_name, r.title)
    )


def _owners(s: Session, instance_ids: list[str]) -> dict[str, str]:
    """Who has each problem now: the open task's holder by name, else its post's queue by unit and post."""
    if not instance_ids:
        return {}
    tasks = list(
        s.scalars(
            select(HumanTask).where(HumanTask.instance_id.in_(instance_ids), HumanTask.status == "open")
        )
    )
    people = dict(
        s.execute(
            select(User.username, User.display_name).where(
                User.username.in_({t.assignee for t in tasks if t.assignee})
            )
        ).all()
    )
    posts = [split_post_group(g) for t in tasks for g in t.candidate_groups or []]
    units = dict(
        s.execute(select(Unit.code, Unit.name).where(Unit.code.in_({p[0] for p in posts if p}))).all()
    )
    out: dict[str, str] = {}
    for t in tasks:
        if t.assignee:
            out[t.instance_id] = people.get(t.assignee, t.assignee)
            continue
        for group in t.candidate_groups or []:
            post = split_post_group(group)
            if post:
                out[t.instance_id] = f"{units.get(post[0], post[0])}{post[1]}"
                break
    return out


def counts(rows: list[ProblemRow]) -> dict[str, int]:
    found = {c: 0 for c in (*COLOURS, "untriaged")}
    for r in rows:
        found[r.colour or "untriaged"] += 1
    return found


def snapshot_handler(steps: Steps) -> JobHandler:
    """The weekly job: keep the county's list as it stands, then wait for the next week (it never ends)."""

    def run(job: Job, force: bool) -> None:
        with steps.write("system") as step:
            live = step.session.get(Job, job.id)
            if live is None:
                return
            snapshot(step.session, live.tenant, step.now)
            due = live.due_at + SNAPSHOT_EVERY
            while due <= step.now:  # weeks the worker missed are not invented afterwards
                due += SNAPSHOT_EVERY
            live.due_at = due
            live.attempts = 0
            leasing.release(live)

    return run


def snapshot(s: Session, tenant: str | None, now: datetime) -> ProblemSnapshot:
    """Keep the tenant's open list as it stands now (the weekly record)."""
    actor = rules.Actor("system", tenant=tenant)
    rows = problem_list(s, actor, now) if tenant is not None else []
    taken = ProblemSnapshot(
        tenant=tenant,
        taken_at=now,
        counts=counts(rows),
        rows=[
            {
                "instance_id": r.instance_id,
                "title": r.title,
                "colour": r.colour,
                "village": r.village_name,
                "town": r.town_name,
                "department": r.department_name,
                "age_days": r.age_days,
                "owner": r.owner,
                "overdue": r.overdue,
            }
            for r in rows
        ],
    )
    s.add(taken)
    s.flush()
    return taken


def snapshots(s: Session, actor: rules.Actor) -> list[dict[str, Any]]:
    stmt = select(ProblemSnapshot).order_by(ProblemSnapshot.taken_at.desc()).limit(104)
    where = rules.tenant_filter(actor, ProblemSnapshot.tenant)
    if where is not None:
        stmt = stmt.where(where)
    return [
        {"id": p.id, "taken_at": p.taken_at, "counts": dict(p.counts), "rows": len(p.rows)}
        for p in s.scalars(stmt)
    ]
