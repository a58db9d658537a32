"""考核捆绑: a village's year decides part of the assessment of everyone answerable for it.

At year end the organiser enters the villagers' satisfaction (a survey, 0–100) for a village; the
year's problems give the rest: the share of the year's problems solved, and the share not overdue.
The village's score is the declared weighted sum (``PARTS``), its grade by ``GRADES``. The score
is written to the ledger for the village itself and copied, at a declared weight (``BUNDLE``),
into the assessment of its 总队长 (the leader in office at year end), of its helping unit (the
village's unit attribute ``帮扶单位``, a unit code) and of each cadre holding a post in the village
(驻村第一书记, 工作队员, ...). Each copy is a ledger row of the scheme ``总队长制捆绑考核`` with the
grade, the weight and the village in its reason, so the person's and the unit's archives show why.
One assessment per village and year: a second is refused (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from .. import rules
from ..errors import ConflictError, InvalidInputError, NotAllowedError, NotFoundError
from ..runtime.step import Step
from ..tables import ScoreEntry, Unit, User, UserPost
from .tables import VillageLeader, VillageProblem

SCHEME = "总队长制捆绑考核"
HELPING_UNIT = "帮扶单位"  # the village's unit attribute naming the unit that helps it
PARTS = {"solved": 40.0, "on_time": 30.0, "satisfaction": 30.0}  # points of 100
GRADES = ((90.0, "优秀"), (75.0, "良好"), (60.0, "合格"), (0.0, "不合格"))
BUNDLE = {"leader": 0.3, "unit": 0.3, "cadre": 0.4}  # the village's weight in each one's assessment
ROLE_WORDS = {"leader": "总队长", "unit": "帮扶单位", "cadre": "驻村干部"}


@dataclass(frozen=True)
class BundledShare:
    role: str  # leader | unit | cadre
    subject_kind: str  # person | unit
    subject: str
    name: str
    weight: float
    points: float


@dataclass(frozen=True)
class VillageAssessment:
    village: str
    village_name: str
    year: int
    raised: int
    solved: int
    overdue: int
    satisfaction: float
    score: float
    grade: str
    shares: list[BundledShare]


def grade_of(score: float) -> str:
    return next(word for floor, word in GRADES if score >= floor)


def assess(step: Step, village: str, year: int, satisfaction: float) -> VillageAssessment:
    """Assess ``village``'s ``year`` and copy its score to those answerable for it (organisers)."""
    s = step.session
    actor = rules.actor_of(s, step.actor or "")
    if "admin" not in actor.roles and not actor.scopes("admin"):  # refused before anything is looked up
        raise NotAllowedError("only an admin assesses a village / 仅管理员可进行村级考核")
    unit = s.scalar(select(Unit).where(Unit.code == village))
    if unit is None or unit.kind != "village" or not rules.in_tenant(actor, unit.tenant):
        raise NotFoundError(f"no village '{village}'")
    rules.require("appoint_leader", actor, unit)  # whoever appoints its 总队长 assesses the village
    if not 2000 <= year <= 2100:
        raise InvalidInputError("year out of range", {"year": ["a year such as 2026 / 请填写年度"]})
    if not 0 <= satisfaction <= 100:
        raise InvalidInputError(
            "satisfaction out of range", {"satisfaction": ["0 to 100 / 满意度须在 0 到 100 之间"]}
        )
    period = str(year)
    done = s.scalar(
        select(ScoreEntry.id).where(
            ScoreEntry.scheme == SCHEME,
            ScoreEntry.period == period,
            ScoreEntry.subject_kind == "unit",
            ScoreEntry.subject == village,
        )
    )
    if done is not None:
        raise ConflictError(f"{village} was assessed for {year} already / 该村本年度已考核")
    start = datetime(year, 1, 1, tzinfo=step.now.tzinfo)
    end = datetime(year + 1, 1, 1, tzinfo=step.now.tzinfo)
    in_year = and_(
        VillageProblem.village == village,
        VillageProblem.raised_at >= start,
        VillageProblem.raised_at < end,
        VillageProblem.status != "cancelled",
    )
    raised = s.scalar(select(func.count()).where(in_year)) or 0
    solved = s.scalar(select(func.count()).where(in_year, VillageProblem.status == "solved")) or 0
    late = or_(
        VillageProblem.overdue.is_(True),
        and_(VillageProblem.status == "open", VillageProblem.due_at < step.now),
        and_(VillageProblem.status == "solved", VillageProblem.solved_at > VillageProblem.due_at),
    )  # as the lists count it: flagged, open past its days, or solved after them
    overdue = s.scalar(select(func.count()).where(in_year, late)) or 0
    solved_share = solved / raised if raised else 1.0
    on_time_share = 1 - overdue / raised if raised else 1.0
    score = round(
        PARTS["solved"] * solved_share
        + PARTS["on_time"] * on_time_share
        + PARTS["satisfaction"] * satisfaction / 100,
        1,
    )
    grade = grade_of(score)
    shares = [
        BundledShare(role, kind, subject, name, BUNDLE[role], round(score * BUNDLE[role], 1))
        for role, kind, subject, name in _answerable(step, unit)
    ]
    detail = f"{unit.name} {period} 年度考核{grade}（{score:g} 分：办结 {solved}/{raised}，逾期 {overdue}，满意度 {satisfaction:g}）"
    _write(step, period, "unit", village, score, detail, unit.tenant)
    for share in shares:
        reason = f"{ROLE_WORDS[share.role]}考核捆绑：{detail}，计 {int(share.weight * 100)}%"
        _write(step, period, share.subject_kind, share.subject, share.points, reason, unit.tenant)
    return VillageAssessment(
        village, unit.name, year, raised, solved, overdue, satisfaction, score, grade, shares
    )


def _answerable(step: Step, village: Unit) -> list[tuple[str, str, str, str]]:
    """(role, subject kind, subject, name): the 总队长 in office, the helping unit, the cadres."""
    s = step.session
    out: list[tuple[str, str, str, str]] = []
    leader = s.scalar(select(VillageLeader.leader).where(VillageLeader.current_village == village.code))
    if leader is not None:
        out.append(("leader", "person", leader, _name(step, leader)))
    helper_code = str((village.attributes or {}).get(HELPING_UNIT) or "")
    helper = (
        s.scalar(select(Unit).where(Unit.code == helper_code, Unit.tenant == village.tenant))
        if helper_code
        else None
    )
    if helper is not None:
        out.append(("unit", "unit", helper.code, helper.name))
    cadres = s.scalars(
        select(UserPost.username).where(UserPost.unit_id == village.id).order_by(UserPost.username)
    ).all()
    for username in dict.fromkeys(cadres):
        if username != leader:
            out.append(("cadre", "person", username, _name(step, username)))
    return out


def _name(step: Step, username: str) -> str:
    return step.session.scalar(select(User.display_name).where(User.username == username)) or username


def _write(
    step: Step, period: str, kind: str, subject: str, points: float, reason: str, tenant: str | None
) -> None:
    step.session.add(
        ScoreEntry(
            period=period,
            username=subject if kind == "person" else None,
            subject_kind=kind,
            subject=subject,
            dimension=None,
            scheme=SCHEME,
            points=points,
            instance_id=None,
            reason=reason[:500],
            awarded_at=step.now,
            tenant=tenant,
        )
    )
