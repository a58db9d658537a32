"""Award lists, their publicity (公示) and the awards given.

``propose`` puts a list of one award kind for one period up for publicity: from a scheme's
ranking, the top of it up to the kind's quota (the tie rule of ``ranking.py``; a boundary between
subjects equal on everything is refused), the rest kept in rank order as reserve; or, for a kind
without a scheme such as the negative 躺平奖, the nominated subjects, each with its reason. The
window is ``days`` working days (Monday to Friday) after the day of proposal, in local time.

During the window anyone of the tenant may object to an entry; after it, objections are refused.
Each objection is handled by an organiser: upheld, the subject leaves the list and the next in rank
moves up; dismissed, nothing changes. ``finalise`` gives the awards once the window is over and
every objection is handled. These are plain functions of a ``Step``, so a diagram's reaction calls
them with its own step as well as the façade does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from .. import rules
from ..errors import ConflictError, InvalidInputError, NotFoundError
from ..runtime.step import Step
from . import ranking, schemes
from .periods import Period
from .sanhao import SHIPPED_SCHEMES
from .scoring import check_subjects, require_organiser, step_tenant
from .tables import Award, AwardList, Objection

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # a publicity window counts the county's working days
DEFAULT_DAYS = 5
DECISIONS = ("upheld", "dismissed")
#: The quotas of the kinds the shipped schemes select for (first batch: 4, 4, 18).
KIND_QUOTAS = {d["award"]["kind"]: d["award"]["quota"] for d in SHIPPED_SCHEMES.values()}

MAX_ID = 2**31 - 1  # ids are 32-bit in every database; a larger one names nothing


def window_end(now: datetime, days: int) -> datetime:
    """The end of the ``days``-th working day (Mon–Fri) after ``now``'s local day."""
    day: date = now.astimezone(LOCAL_TZ).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return datetime.combine(day + timedelta(days=1), time(0), LOCAL_TZ).astimezone(UTC)


def _tenant_is(column: Any, tenant: str | None) -> ColumnElement[bool]:
    return column.is_(None) if tenant is None else column == tenant


def propose(step: Step, body: dict[str, Any], *, trusted: bool = False) -> AwardList:
    """Put a list up for publicity: ``{kind?, period, scheme?, quota?, entries?: [{subject, reason}],
    subject_kind?, days?, instance_id?}`` (organisers, admins, or a diagram's reaction: ``trusted``)."""
    require_organiser(step, trusted)
    s, tenant = step.session, step_tenant(step)
    period = Period.parse(str(body.get("period") or ""))
    days = body.get("days", DEFAULT_DAYS)
    if not isinstance(days, int) or not 1 <= days <= 30:
        raise InvalidInputError(
            "days must be 1 to 30", {"days": ["1 to 30 working days / 公示期应为1–30个工作日"]}
        )
    if body.get("scheme"):
        kind, subject_kind, quota, entries, reserve = _ranked(s, tenant, period, body)
        scheme: str | None = str(body["scheme"])
    else:
        kind, subject_kind, quota, entries = _nominated(s, tenant, body)
        reserve, scheme = [], None
    if s.scalar(
        select(AwardList.id).where(
            _tenant_is(AwardList.tenant, tenant), AwardList.kind == kind, AwardList.period == str(period)
        )
    ):
        raise ConflictError(f"a {kind} list of {period} exists already / 该奖项本期名单已提出")
    row = AwardList(
        tenant=tenant, kind=kind, period=str(period), subject_kind=subject_kind, scheme=scheme, quota=quota,
        entries=entries, reserve=reserve, status="proposed",
        instance_id=body.get("instance_id") if isinstance(body.get("instance_id"), str) else None,
        proposed_by=step.actor, proposed_at=step.now, window_ends=window_end(step.now, days),
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row


def _quota_refusal(kind: str, quota: int, declared: int | None) -> None:
    if declared is not None and quota > declared:
        raise ConflictError(f"quota exceeded: {kind} has {declared} places / 超出名额：{kind}限{declared}名")


def _ranked(
    s: Session, tenant: str | None, period: Period, body: dict[str, Any]
) -> tuple[str, str, int, list[dict[str, Any]], list[dict[str, Any]]]:
    definition = schemes.find(s, tenant, str(body["scheme"]))
    award = definition.get("award") or {}
    kind = str(body.get("kind") or award.get("kind") or "")
    if not kind:
        raise InvalidInputError("kind missing", {"kind": ["the award kind / 请填写奖项"]})
    declared = award.get("quota") if award.get("kind") == kind else KIND_QUOTAS.get(kind)
    quota = body.get("quota", declared)
    if not isinstance(quota, int) or quota < 1:
        raise InvalidInputError("quota missing", {"quota": ["a positive number of places / 名额应为正整数"]})
    _quota_refusal(kind, quota, declared)
    rows = ranking.ranking(s, tenant, definition, period)
    if not rows:
        raise ConflictError(f"nobody was scored on {definition['name']} in {period} / 本期尚无测评结果")
    if len(rows) > quota and rows[quota].rank == rows[quota - 1].rank:
        tied = "、".join(r.name for r in rows if r.rank == rows[quota].rank)
        raise ConflictError(
            f"a tie at the quota boundary ({tied}): equal on every dimension / 名额边界并列（{tied}），须研究论证后重新评分"
        )
    title = definition.get("title") or definition["name"]

    def entry(r: ranking.RankingRow) -> dict[str, Any]:
        return {"subject": r.subject, "rank": r.rank, "total": r.total,
                "reason": f"{period} {title} 第{r.rank}名，总分{r.total:g}"}  # fmt: skip

    return (
        kind,
        definition["subject_kind"],
        quota,
        [entry(r) for r in rows[:quota]],
        [entry(r) for r in rows[quota:]],
    )


def _nominated(
    s: Session, tenant: str | None, body: dict[str, Any]
) -> tuple[str, str, int, list[dict[str, Any]]]:
    kind = str(body.get("kind") or "").strip()
    subject_kind = str(body.get("subject_kind") or "")
    entries = body.get("entries") or []
    errors: dict[str, list[str]] = {}
    if not kind:
        errors["kind"] = ["the award kind / 请填写奖项"]
    if subject_kind not in schemes.SUBJECT_KINDS:
        errors["subject_kind"] = ["person or unit / 对象类型应为 person 或 unit"]
    if not entries:
        errors["entries"] = ["nominate at least one subject, or give a scheme / 请提名对象或指定测评方案"]
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not str(e.get("reason") or "").strip():
            errors[f"entries.{i}.reason"] = ["a reason for the nomination / 请填写提名理由"]
    if errors:
        raise InvalidInputError(f"list invalid: {', '.join(sorted(errors))}", errors)
    check_subjects(s, tenant, subject_kind, [e.get("subject") for e in entries], "entries")
    quota = body.get("quota", KIND_QUOTAS.get(kind, len(entries)))
    _quota_refusal(kind, len(entries), quota if isinstance(quota, int) else None)
    return (
        kind,
        subject_kind,
        len(entries),
        [{"subject": e["subject"], "reason": str(e["reason"]).strip()[:2000]} for e in entries],
    )


def list_of(s: Session, list_id: int, viewer: str | None) -> AwardList:
    """The list, or 404 when it does not exist in ``viewer``'s tenant."""
    row = s.get(AwardList, list_id) if 1 <= list_id <= MAX_ID else None
    if row is None or (viewer is not None and not rules.in_tenant(rules.actor_of(s, viewer), row.tenant)):
        raise NotFoundError(f"no award list {list_id}")
    return row


def object_to(step: Step, list_id: int, subject: str, reason: str) -> Objection:
    """File an objection (anyone of the tenant) against an entry while the window is open."""
    s = step.session
    row = list_of(s, list_id, step.actor)
    if row.status != "proposed" or step.now >= row.window_ends:
        raise ConflictError("the publicity window is closed / 公示期已结束，不再受理异议")
    if subject not in {e["subject"] for e in row.entries}:
        raise InvalidInputError("not on the list", {"subject": ["not on this list / 不在公示名单中"]})
    if not reason.strip():
        raise InvalidInputError(
            "reason missing", {"reason": ["the grounds of the objection / 请填写异议理由"]}
        )
    objection = Objection(
        list_id=list_id, subject=subject, reason=reason.strip()[:2000], filed_by=step.actor or "system",
        filed_at=step.now, status="open",
    )  # fmt: skip
    s.add(objection)
    s.flush()
    return objection


def handle(
    step: Step, list_id: int, objection_id: int, decision: str, note: str = "", *, trusted: bool = False
) -> Objection:
    """Uphold or dismiss an objection (organisers): upheld, its subject leaves the list and the
    next in rank moves up."""
    require_organiser(step, trusted)
    s = step.session
    row = list_of(s, list_id, step.actor)
    objection = s.get(Objection, objection_id) if 1 <= objection_id <= MAX_ID else None
    if objection is None or objection.list_id != row.id:
        raise NotFoundError(f"no objection {objection_id}")
    if decision not in DECISIONS:
        raise InvalidInputError("decision", {"decision": ["upheld or dismissed / 请选择成立或不成立"]})
    if objection.status != "open" or row.status != "proposed":
        raise ConflictError(f"objection {objection_id} is handled already / 异议已处理")
    objection.status, objection.note = decision, note.strip()[:2000] or None
    objection.handled_by, objection.handled_at = step.actor, step.now
    if decision == "upheld":
        entries = [e for e in row.entries if e["subject"] != objection.subject]
        reserve = list(row.reserve)
        if reserve:
            entries.append(reserve.pop(0))
        row.entries, row.reserve = entries, reserve
    return objection


def finalise(step: Step, list_id: int, *, trusted: bool = False) -> list[Award]:
    """Give the list's awards once its window is over and every objection is handled (409 otherwise)."""
    require_organiser(step, trusted)
    s = step.session
    row = list_of(s, list_id, step.actor)
    if row.status != "proposed":
        raise ConflictError(f"list {list_id} is final already / 名单已确定")
    if step.now < row.window_ends:
        raise ConflictError("the publicity window is still open / 公示期未满")
    waiting = s.scalar(
        select(func.count())
        .select_from(Objection)
        .where(Objection.list_id == list_id, Objection.status == "open")
    )
    if waiting:
        raise ConflictError(f"{waiting} objection(s) not handled / 尚有{waiting}条异议未处理")
    given = [
        Award(
            tenant=row.tenant,
            kind=row.kind,
            subject_kind=row.subject_kind,
            subject=e["subject"],
            period=row.period,
            reason=e["reason"],
            rank=e.get("rank"),
            list_id=row.id,
            instance_id=row.instance_id,
            given_at=step.now,
            given_by=step.actor,
        )  # fmt: skip
        for e in row.entries
    ]
    s.add_all(given)
    row.status, row.finalised_at = "final", step.now
    s.flush()
    return given


def awards(
    s: Session, where: ColumnElement[bool] | None, period: Period | None, kind: str | None
) -> list[Award]:
    """The awards given in ``period`` (and the periods inside it), of ``kind`` when given;
    ``where`` (on ``Award.tenant``) keeps one tenant's."""
    stmt = select(Award)
    if where is not None:
        stmt = stmt.where(where)
    if period is not None:
        stmt = stmt.where(Award.period.in_(period.spellings()))
    if kind:
        stmt = stmt.where(Award.kind == kind)
    return list(s.scalars(stmt.order_by(Award.period, Award.kind, Award.rank, Award.id)))


def objections(s: Session, list_id: int) -> list[Objection]:
    return list(s.scalars(select(Objection).where(Objection.list_id == list_id).order_by(Objection.id)))
