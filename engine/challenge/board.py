"""Read models of the built-in claim-and-evaluate process: board, claims, ledger, leaderboard.

They are derived from instance data and written in the step that produced them: the board reads
the instances' data columns; a passed acceptance's ``ledger`` becomes score rows in the step that
computed it. Nothing is kept by hand beside the workflow.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from .. import audit, rules
from ..appraisal.periods import Period
from ..attachments.service import check_pledge_file
from ..errors import ConflictError, FormInvalidError, NotFoundError
from ..operations import deliver_message
from ..runtime.clock import iso, parse_instant
from ..runtime.runner import StepContext
from ..runtime.step import Step, Steps
from ..tables import HumanTask, Instance, MessageSubscription, ScoreEntry, User
from . import team
from .team import is_share

PROCESS_KEY = "claim_evaluate"
CLAIM_MESSAGE = "claim_submitted"
BOARD_PHASES = ("published", "in_progress", "rectifying")
LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # ledgers close by the local month
YELLOW_WINDOW = timedelta(days=7)


SELECT_FORM = "select_claim.schema.json"
ASSIGN_FORM = "assign_claimant.schema.json"


def install(steps: Steps) -> None:
    steps.runner.projections.append(_ledger_projection)
    steps.completion_checks.append(check_completion)
    steps.engine_messages.add(CLAIM_MESSAGE)  # a claim reaches an instance only through file_claim's checks


def check_completion(session: Session, row: Instance, ht: HumanTask, data: dict[str, Any]) -> None:
    """What the claim forms cannot say in JSON Schema: the chosen claim exists, the assigned people do,
    the leader is on the team and the shares add up. A refusal is a 422 and the task stays open."""
    if ht.form == SELECT_FORM:
        filed = (row.data or {}).get("claims") or []
        selected = data.get("selected")
        if isinstance(selected, int) and not 0 <= selected < len(filed):
            choice = f"0 to {len(filed) - 1}" if filed else "nothing: no claim was filed"
            raise FormInvalidError(
                f"no claim number {selected}", {"selected": [f"choose {choice} / 揭榜申请序号不存在"]}
            )
    elif ht.form == ASSIGN_FORM:
        _check_assigned_team(session, data)


def _check_assigned_team(session: Session, data: dict[str, Any]) -> None:
    leader = data.get("leader")
    members = [m for m in data.get("members") or [] if isinstance(m, dict)]
    names = [m.get("username") for m in members]
    errors: dict[str, list[str]] = {}
    if members:
        if leader not in names:
            errors["leader"] = ["the leader must be one of the members / 挂帅人须为团队成员"]
        if len(set(names)) != len(names):
            errors["members"] = ["a member is listed twice / 成员重复"]
        total = sum(share for m in members if is_share(share := m.get("share")))
        if abs(total - 100) > 1e-9:
            errors.setdefault("members", []).append(
                f"shares must sum to 100 (they sum to {total:g}) / 份额合计必须为 100"
            )
    people = [n for n in dict.fromkeys([leader, *names]) if isinstance(n, str)]
    known = set(session.scalars(select(User.username).where(User.username.in_(people))))
    if leader not in known and "leader" not in errors:
        errors["leader"] = [f"unknown user {leader} / 用户不存在"]
    for i, name in enumerate(names):
        if name not in known:
            errors[f"members.{i}.username"] = [f"unknown user {name} / 用户不存在"]
    if errors:
        raise FormInvalidError(f"assignment invalid: {', '.join(sorted(errors))}", errors)


def period_of(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m")


def _ledger_projection(session: Session, ctx: StepContext) -> None:
    """When a step computes ``ledger``, its rows enter each person's ledger for the month."""
    ledger = ctx.data_after.get("ledger")
    if not isinstance(ledger, list) or ledger == ctx.data_before.get("ledger"):
        return
    period = period_of(ctx.now)
    for entry in ledger:
        if not isinstance(entry, dict) or not entry.get("username"):
            continue
        session.add(
            ScoreEntry(
                period=period,
                username=str(entry["username"]),
                points=float(entry.get("points") or 0),
                instance_id=ctx.row.id,
                reason=str(entry.get("reason") or ctx.data_after.get("title") or "")[:500],
                awarded_at=ctx.now,
                tenant=ctx.row.tenant,
            )
        )
    audit.record(
        session,
        audit.SCORE_AWARD,
        ctx.now,
        actor=ctx.actor,
        instance_id=ctx.row.id,
        data={"period": period, "ledger": ledger},
    )


def rag(data: dict[str, Any], now: datetime) -> str:
    """Red/yellow/green: the worse of what supervision set and what the calendar says."""
    levels = {"green": 0, "yellow": 1, "red": 2}
    set_by_process: str = data["rag"] if data.get("rag") in levels else "green"
    by_time = "green"
    deadline = data.get("deadline")
    if isinstance(deadline, str) and data.get("phase") in ("in_progress", "rectifying"):
        try:
            due = parse_instant(deadline)
        except ValueError:
            due = None
        if due is not None:
            if now > due:
                by_time = "red"
            elif (
                due - now <= YELLOW_WINDOW and (data.get("last_report") or {}).get("progress_percent", 0) < 90
            ):
                by_time = "yellow"
        report_due = data.get("report_due_at")
        if by_time != "red" and isinstance(report_due, str):
            try:
                if now > parse_instant(report_due):
                    by_time = "red"  # a progress report is overdue (督办 escalates)
            except ValueError:
                pass
    return max(set_by_process, by_time, key=levels.__getitem__)


def board(
    session: Session,
    now: datetime,
    *,
    category: str | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[dict[str, Any]]:
    """The challenges on the board; ``where`` (on ``Instance``) keeps one tenant's, or one unit's."""
    stmt = select(Instance).where(Instance.process_key == PROCESS_KEY, Instance.status == "running")
    if where is not None:
        stmt = stmt.where(where)
    rows = session.scalars(stmt.order_by(Instance.created_at.desc()))
    items = []
    for row in rows:
        data = row.data or {}
        if data.get("phase") not in BOARD_PHASES:
            continue
        if category and data.get("category") != category:
            continue
        items.append(board_item(row, now))
    return items


def board_item(row: Instance, now: datetime) -> dict[str, Any]:
    """A challenge as the board shows it to everyone: what is public of its instance data."""
    data = row.data or {}
    claimant = data.get("claimant") or {}
    return {
        "instance_id": row.id,
        "title": data.get("title"),
        "category": data.get("category"),
        "points": data.get("points"),
        "claim_deadline": data.get("claim_deadline"),
        "deadline": data.get("deadline"),
        "status": data.get("phase"),
        "claims": list(data.get("claims") or []),
        "leader": claimant.get("leader"),
        "rag": rag(data, now),
        "open_for_claims": data.get("phase") == "published",
    }


def challenge_detail(row: Instance, now: datetime) -> dict[str, Any]:
    """A challenge's public page: the board's card plus what a cadre weighs before claiming it.

    Only the published terms: the application's description, goals and support asked for, the
    committee's milestones and guarantees, the claims and the selected team. Opinions, reports and
    scores stay on the instance page for those involved.
    """
    data = row.data or {}
    claimant = data.get("claimant") or {}
    milestones = data.get("milestones")
    return {
        **board_item(row, now),
        "business_key": row.business_key,
        "description": data.get("description"),
        "goals": data.get("goals"),
        "support_needed": data.get("support_needed"),
        "guarantees": data.get("guarantees"),
        "milestones": [m for m in milestones if isinstance(m, str)] if isinstance(milestones, list) else [],
        "members": [m for m in claimant.get("members") or [] if isinstance(m, dict)],
        "published_at": data.get("published_at"),
        "now": iso(now),
    }


def file_claim(step: Step, instance_id: str, actor: str, claim: dict[str, Any]) -> dict[str, Any]:
    """File a claim (揭榜) on a published challenge for ``actor``. Returns the claim as filed.

    The claim names its 挂帅领导 (``leader``, by default the filer, who then gets the claimant's
    tasks), its 主要负责人 (``principal``: a member; required on a campaign's problem), members with a
    login or without one (``team.py``), and may cite its signed 军令状 (``pledge_file``). The checks run
    under the instance's lock, in the step that delivers the claim to the instance, so two claims
    racing for one challenge are checked one after the other; the campaign's rank limit is one of
    ``steps.claim_checks``."""
    s = step.session
    try:
        row = step.lock_instance(instance_id)  # locked before it is read: a racing claim is seen whole
    except NotFoundError:
        row = None
    if (
        row is None
        or row.process_key != PROCESS_KEY
        or not rules.in_tenant(rules.actor_of(s, actor), row.tenant)
    ):
        raise NotFoundError(f"no challenge '{instance_id}' on the board")
    people = team.shape(claim, actor, principal_required=isinstance((row.data or {}).get("campaign"), int))
    team.check_people(s, row.tenant, people)
    waiting = s.scalar(
        select(func.count())
        .select_from(MessageSubscription)
        .where(
            MessageSubscription.instance_id == instance_id, MessageSubscription.message_name == CLAIM_MESSAGE
        )
    )
    if not waiting or row.status != "running":
        raise ConflictError("this challenge is not open for claims / 该榜单当前不接受揭榜")
    rules.require("file_claim", rules.actor_of(s, actor), row)
    for check in step.steps.claim_checks:
        check(s, row, actor, claim)
    for existing in (row.data or {}).get("claims") or []:
        if existing.get("filed_by", existing.get("leader")) == actor:
            raise ConflictError("you have already claimed this challenge / 您已揭榜")
    if claim.get("pledge_file") is not None:
        check_pledge_file(s, row.id, actor, claim["pledge_file"])
    payload = {
        "kind": people["kind"],
        "leader": people["leader"],
        **({"principal": people["principal"]} if people["principal"] else {}),
        "filed_by": actor,
        "members": people["members"],
        "plan": claim["plan"],
        "pledge": claim["pledge"],
        **({"pledge_file": claim["pledge_file"]} if claim.get("pledge_file") else {}),
        "filed_at": iso(step.now),
    }
    deliver_message(step, instance_id, CLAIM_MESSAGE, payload)
    return payload


def scores(session: Session, period: str, where: ColumnElement[bool] | None = None) -> list[ScoreEntry]:
    """The ledger of ``period`` and the periods inside it (a year holds its quarters and months);
    ``where`` (on ``ScoreEntry``) keeps one tenant's rows."""
    stmt = select(ScoreEntry).where(ScoreEntry.period.in_(Period.parse(period).spellings()))
    if where is not None:
        stmt = stmt.where(where)
    return list(session.scalars(stmt.order_by(ScoreEntry.awarded_at, ScoreEntry.id)))


def leaderboard(
    session: Session, period: str, where: ColumnElement[bool] | None = None
) -> list[dict[str, Any]]:
    """People ranked by points in ``period`` (equal points share a rank: 1, 1, 3); ``where`` as in ``scores``.

    Only points people earned (no scheme): an appraisal's scores have their own ranking."""
    totals: dict[str, float] = defaultdict(float)
    stmt = select(ScoreEntry.username, func.sum(ScoreEntry.points)).where(
        ScoreEntry.period.in_(Period.parse(period).spellings()),
        ScoreEntry.subject_kind == "person",
        ScoreEntry.scheme.is_(None),
        ScoreEntry.username.is_not(None),
    )
    if where is not None:
        stmt = stmt.where(where)
    for username, points in session.execute(stmt.group_by(ScoreEntry.username)):
        if username is not None:
            totals[username] = round(float(points or 0), 2)
    names = (
        dict(
            session.execute(
                select(User.username, User.display_name).where(User.username.in_(list(totals)))
            ).all()
        )
        if totals
        else {}
    )
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    out: list[dict[str, Any]] = []
    for i, (username, points) in enumerate(ordered):
        rank = out[-1]["rank"] if out and out[-1]["points"] == points else i + 1
        out.append(
            {
                "username": username,
                "display_name": names.get(username, username),
                "points": points,
                "rank": rank,
            }
        )
    return out


def previous_period(period: str) -> str:
    """The month, quarter or year before ``period``."""
    return str(Period.parse(period).previous())


def titles(session: Session, period: str, where: ColumnElement[bool] | None = None) -> dict[str, Any]:
    """破解难题之星 (most points) and 明显进步之星 (largest rank gain on last month), within ``where``."""
    board_now = leaderboard(session, period, where)
    before = {r["username"]: r["rank"] for r in leaderboard(session, previous_period(period), where)}
    star = board_now[0] if board_now else None
    progress = None
    worst_before = max(before.values(), default=0) + 1
    best_gain = 0
    for r in board_now:
        gain = before.get(r["username"], worst_before) - r["rank"]
        if gain > best_gain:
            best_gain, progress = gain, {**r, "gain": gain}
    return {"solver_star": star, "progress_star": progress}


def validate_period(period: str | None, now: datetime) -> str:
    """``period`` checked (``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``), or this local month when empty."""
    return str(Period.parse(period)) if period else period_of(now)
