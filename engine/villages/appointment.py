"""Appointing a village's 总队长 by rule: the shipped process ``village_appointment`` and the engine's part of it.

The diagram (``bpmn/village_appointment.bpmn``) runs the county's rule as a DMN
(``village_leader_rule``: which leader ranks may take which class of village), then the committee
confirms and the letter is issued. What needs the database is done here, as reactions to its
steps (``Steps.reactions``), in the transaction of the step:

- at the start, whoever starts it (``propose`` below, or ``POST /instances``): the starter must
  administer the village; the village's class (unit attribute 村类别) and the leader's rank are
  read from the organisation, never taken from the caller; one proposal at a time per village; a
  leader's load limit (一人一村: ``LOAD_LIMIT``); and the rule's verdict. A refusal rolls the start
  back (422 for the rule, 409 for uniqueness and load), so no refused proposal is left behind.
- ``issue_letter`` ran (the committee confirmed): the appointment row with its letter (任命书,
  numbered per county and year) is written, the previous 总队长 leaves, the post 总队长 of the
  village changes hands and the village's open work assigned to that post follows it
  (``assignment.reresolve``), audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import assignment, rules
from ..errors import ConflictError, InvalidInputError, NotAllowedError, NotFoundError
from ..postqueues import post_group
from ..runtime.runner import StepContext
from ..runtime.step import Step, Steps
from ..tables import HumanTask, Instance, Unit, User, UserPost
from ..vocabulary import Event
from .tables import VillageLeader

PROCESS = "village_appointment"
ISSUE_TASK = "issue_letter"
POST = "总队长"
CLASS_ATTRIBUTE = "村类别"
VILLAGE_CLASSES = ("深度贫困村", "一般贫困村", "非贫困村")
#: The ranks the rule knows, most senior first: a leader with several posts counts by the most senior.
RANKS = ("县级主要领导", "县委常委", "县级领导", "部门主要负责人", "镇主要负责人")
#: How many villages one leader leads at once (平利: 一人一村).
LOAD_LIMIT = 1


def install(steps: Steps) -> None:
    steps.reactions.append(react)


def react(step: Step, ctx: StepContext) -> None:
    if ctx.row.process_key != PROCESS:
        return
    if not ctx.data_before:
        check_proposal(step, ctx)
    if ISSUE_TASK in ctx.visited:
        appoint(step, ctx)


# ---- reading the organisation --------------------------------------------------------------
def village_unit(s: Session, code: str, tenant: str | None) -> Unit:
    """The village ``code`` of ``tenant`` with its class set; another county's village is unknown."""
    unit = s.scalar(select(Unit).where(Unit.code == code))
    if unit is None or (tenant is not None and unit.tenant != tenant):  # another county's: unknown (404)
        raise NotFoundError(f"no village '{code}' / 村不存在")
    if (unit.attributes or {}).get(CLASS_ATTRIBUTE) not in VILLAGE_CLASSES:
        raise InvalidInputError(
            f"unit '{code}' has no village class",
            {
                "village": [
                    f"set the unit's {CLASS_ATTRIBUTE} ({' / '.join(VILLAGE_CLASSES)}) / 请先设置村类别"
                ]
            },
        )
    return unit


def leader_rank(s: Session, username: str) -> str:
    """The most senior rank of the rule that ``username``'s posts carry ('' when none does)."""
    held = set(s.scalars(select(UserPost.rank).where(UserPost.username == username)))
    return next((rank for rank in RANKS if rank in held), "")


def display_name(s: Session, username: str | None) -> str:
    if not username:
        return ""
    return s.scalar(select(User.display_name).where(User.username == username)) or username


def current_leader(s: Session, village: str) -> VillageLeader | None:
    return s.scalar(select(VillageLeader).where(VillageLeader.current_village == village))


def proposal_data(s: Session, unit: Unit, leader: str, reason: str) -> dict[str, Any]:
    """The start data of a proposal, every value read from the organisation."""
    previous = current_leader(s, unit.code)
    village_name, leader_name = unit.name, display_name(s, leader)
    return {
        "title": f"{village_name}总队长：{leader_name}",
        "village": unit.code,
        "village_name": village_name,
        "village_class": (unit.attributes or {}).get(CLASS_ATTRIBUTE),
        "leader": leader,
        "leader_name": leader_name,
        "leader_rank": leader_rank(s, leader),
        "previous_leader": previous.leader if previous else None,
        "previous_leader_name": display_name(s, previous.leader) if previous else None,
        "reason": reason,
    }


# ---- proposing -----------------------------------------------------------------------------
def propose(step: Step, village: str, leader: str, reason: str = "") -> Instance:
    """Start a proposal for ``village`` (the starter administers it); the start's checks are ``check_proposal``."""
    s = step.session
    actor = rules.actor_of(s, step.actor or "")
    if "admin" not in actor.roles and not actor.scopes("admin"):  # refused before anything is looked up
        raise NotAllowedError("only an admin proposes a village's 总队长 / 仅管理员可提名总队长")
    unit = village_unit(s, village, actor.tenant)
    rules.require("appoint_leader", actor, unit)
    if s.scalar(select(User.username).where(User.username == leader, User.tenant == unit.tenant)) is None:
        raise InvalidInputError(
            f"unknown user '{leader}'", {"leader": [f"unknown user '{leader}' / 用户不存在"]}
        )
    definition = step.runner.catalog.get_row(s, PROCESS, None, tenant=unit.tenant)
    number = s.scalar(select(func.count()).select_from(Instance).where(Instance.process_key == PROCESS)) or 0
    ctx = step.start(
        definition,
        business_key=f"{POST}-{village}-{number + 1}",
        data=proposal_data(s, unit, leader, reason.strip()),
        tenant=unit.tenant,
        unit=unit.code,
    )
    return ctx.row


def check_proposal(step: Step, ctx: StepContext) -> None:
    """The start of a proposal, however it was started: see the module's docstring."""
    s, row, data = step.session, ctx.row, ctx.data_after
    if ctx.error is not None:
        return
    unit = village_unit(s, str(data.get("village") or ""), row.tenant)
    if step.actor is not None:
        rules.require("appoint_leader", rules.actor_of(s, step.actor), unit)
    leader = str(data.get("leader") or "")
    if s.scalar(select(User.username).where(User.username == leader, User.tenant == unit.tenant)) is None:
        raise InvalidInputError(
            f"unknown user '{leader}'", {"leader": [f"unknown user '{leader}' / 用户不存在"]}
        )
    truth = proposal_data(s, unit, leader, str(data.get("reason") or ""))
    for name in ("village_class", "leader_rank", "village_name", "leader_name", "previous_leader"):
        if data.get(name) != truth[name]:  # a caller's own start data: the organisation says otherwise
            raise InvalidInputError(
                f"{name} does not match the organisation",
                {name: [f"read from the organisation: {truth[name]!r} / 与组织信息不一致"]},
            )
    if row.unit != unit.code:
        raise InvalidInputError(
            "the proposal runs for its village", {"unit": ["give the village / 请填写该村"]}
        )
    pending = s.scalar(
        select(Instance.id).where(
            Instance.process_key == PROCESS,
            Instance.unit == unit.code,
            Instance.status == "running",
            Instance.id != row.id,
        )
    )
    if pending is not None:
        raise ConflictError(
            f"{unit.name} has a proposal waiting for the committee / {unit.name}已有待审定的总队长提名",
            instance_id=pending,
        )
    previous = current_leader(s, unit.code)
    if previous is not None and previous.leader == leader:
        raise ConflictError(f"{truth['leader_name']} already leads {unit.name} / 已是该村总队长")
    check_load(s, leader, unit, truth["leader_name"], exclude=row.id)
    if data.get("eligible") is not True:
        raise InvalidInputError(
            f"the rule refuses: {data.get('rule')}",
            {
                "leader": [
                    f"the county's rule refuses this leader for this class of village / {data.get('rule')}"
                ]
            },
        )


def check_load(s: Session, leader: str, unit: Unit, leader_name: str, *, exclude: str) -> None:
    """A leader leads at most ``LOAD_LIMIT`` villages, counting proposals still before the committee."""
    leading = list(
        s.scalars(
            select(VillageLeader.village).where(
                VillageLeader.leader == leader,
                VillageLeader.current_village.is_not(None),
                VillageLeader.village != unit.code,
            )
        )
    )
    proposed = [
        str((r.data or {}).get("village"))
        for r in s.scalars(
            select(Instance).where(
                Instance.process_key == PROCESS,
                Instance.status == "running",
                Instance.tenant == unit.tenant,
                Instance.id != exclude,
            )
        )
        if (r.data or {}).get("leader") == leader
    ]
    if len(leading) + len(proposed) >= LOAD_LIMIT:
        names = dict(s.execute(select(Unit.code, Unit.name).where(Unit.code.in_(leading + proposed))).all())
        taken = "、".join(names.get(c, c) for c in leading + proposed)
        raise ConflictError(
            f"{leader_name} already leads or is proposed for {taken}; one leader, {LOAD_LIMIT} village(s) "
            f"/ {leader_name}已任（或已提名）{taken}总队长，一人一村",
            leader=leader,
        )


# ---- confirming ----------------------------------------------------------------------------
def appoint(step: Step, ctx: StepContext) -> VillageLeader:
    """The committee confirmed: archive the letter, hand over the post and the village's open work."""
    s, now, row, data = step.session, step.now, ctx.row, ctx.data_after
    unit = village_unit(s, str(data["village"]), row.tenant)
    leader = str(data["leader"])
    check_load(s, leader, unit, str(data.get("leader_name") or leader), exclude=row.id)
    previous = current_leader(s, unit.code)
    if previous is not None:
        previous.current_village = None
        previous.ended_at = now
        previous.ended_reason = f"由{data.get('leader_name')}接任"
        s.flush()  # the village's one current row is free before the new one is written
        s.execute(
            delete(UserPost).where(
                UserPost.username == previous.leader, UserPost.unit_id == unit.id, UserPost.post == POST
            )
        )
    s.add(UserPost(username=leader, unit_id=unit.id, post=POST, rank=data.get("leader_rank") or None))
    s.flush()
    moved = assignment.reresolve(
        s,
        [post_group(unit.code, POST)],
        leaving=[previous.leader] if previous is not None else [],
        now=now,
        actor=step.actor,
    )
    letter_no = _letter_number(s, row.tenant, now)
    confirmed_by = _confirmer(s, row.id) or step.actor
    appointment = VillageLeader(
        tenant=row.tenant,
        village=unit.code,
        leader=leader,
        current_village=unit.code,
        instance_id=row.id,
        letter_no=letter_no,
        letter=_letter(s, unit, data, now),
        appointed_at=now,
        confirmed_by=confirmed_by,
    )
    s.add(appointment)
    s.flush()
    step.record(
        Event.VILLAGE_LEADER_APPOINTED,
        actor=step.actor,
        instance_id=row.id,
        data={"village": unit.code, "leader": leader, "letter_no": letter_no, "appointment": appointment.id},
    )
    if previous is not None:
        step.record(
            Event.VILLAGE_LEADER_REPLACED,
            actor=step.actor,
            instance_id=row.id,
            data={"village": unit.code, "from": previous.leader, "to": leader, "tasks_moved": moved},
        )
    return appointment


def _confirmer(s: Session, instance_id: str) -> str | None:
    return s.scalar(
        select(HumanTask.completed_by)
        .where(HumanTask.instance_id == instance_id, HumanTask.element_id == "confirm")
        .order_by(HumanTask.completed_at.desc())
        .limit(1)
    )


def _letter_number(s: Session, tenant: str | None, now: datetime) -> str:
    """总队长任〔year〕n号, counted per county and year."""
    same = VillageLeader.tenant.is_(None) if tenant is None else VillageLeader.tenant == tenant
    issued = s.scalars(select(VillageLeader.letter_no).where(same)).all()
    year = f"〔{now.year}〕"
    n = sum(1 for no in issued if year in no) + 1
    return f"{POST}任{year}{n}号"


def _letter(s: Session, unit: Unit, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What the 任命书 says, fixed at issue: later renames do not rewrite an archived letter."""
    ids = [int(i) for i in unit.path.strip("/").split("/") if i.isdigit()]
    above = {u.id: u for u in s.scalars(select(Unit).where(Unit.id.in_(ids)))}
    chain = [above[i] for i in ids if i in above]
    county = chain[0].name if chain else ""
    town = chain[-2].name if len(chain) >= 2 and chain[-2].id != unit.id else ""
    return {
        "county": county,
        "town": town,
        "village_name": unit.name,
        "village_class": data.get("village_class"),
        "leader_name": data.get("leader_name"),
        "leader_rank": data.get("leader_rank"),
        "rule": data.get("rule"),
        "previous_leader_name": data.get("previous_leader_name"),
        "issued_on": f"{now.year}年{now.month}月{now.day}日",
        "issuer": f"中共{county}委员会" if county else "",
    }


def appointment_of(s: Session, appointment_id: int) -> VillageLeader:
    found = s.get(VillageLeader, appointment_id)
    if found is None:
        raise NotFoundError(f"no appointment {appointment_id}")
    return found
