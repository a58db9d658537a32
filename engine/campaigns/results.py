"""A campaign's results: the 考评组's sheet of every item, carrying unsolved items into next
year's campaign (结转), and the report of verdicts and recommended people (成果运用).

Verdicts are read from each item's data (``assessment.verdict_of``); recommendations are what an
item's passed acceptance said (its form's ``recommend``: members of the claim only, checked by the
form view in ``recommend.py``). A carried item is a new instance of the target campaign whose
start data keeps ``carried_from: {campaign, campaign_title, number, instance_id}``; carrying again
finds it there and doubles nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rules
from ..errors import ConflictError, InvalidInputError
from ..runtime.step import Step
from ..tables import HumanTask, Instance, Unit, User
from ..vocabulary import Event
from . import service
from .assessment import ASSESS_TASK, CARRIED, verdict_of
from .problems import ListedProblem, UnitRef
from .records import AssessmentRow, CampaignReport, CarryOverResult, Recommendation
from .tables import Campaign, CampaignProblem

CARRIED_FIELDS = ("title", "description", "goals", "proposed_points", "support_needed")


def items(s: Session, campaign: Campaign) -> list[tuple[CampaignProblem, Instance, str]]:
    """The campaign's items by number with their instances and lead units' names."""
    rows = s.execute(
        select(CampaignProblem, Instance, Unit.name)
        .join(Instance, Instance.id == CampaignProblem.instance_id)
        .outerjoin(Unit, Unit.code == CampaignProblem.lead_unit)
        .where(CampaignProblem.campaign_id == campaign.id)
        .order_by(CampaignProblem.number)
    ).all()
    return [(link, row, name or link.lead_unit or "") for link, row, name in rows]


def assessor_check(s: Session, campaign: Campaign, viewer: str) -> None:
    """403 unless ``viewer`` is of the 考评组 (group ``evaluator``) or an admin of the organiser."""
    unit = s.scalar(select(Unit).where(Unit.code == campaign.organiser_unit))
    if unit is None:
        raise ConflictError(f"the organiser unit '{campaign.organiser_unit}' no longer exists")
    rules.require("assess_campaign", rules.actor_of(s, viewer), unit)


def sheet(s: Session, campaign: Campaign, viewer: str) -> list[AssessmentRow]:
    """Every item of the campaign as the 考评组 assesses it (the 考评组 and admins only)."""
    assessor_check(s, campaign, viewer)
    listed = items(s, campaign)
    ids = [row.id for _, row, _ in listed]
    open_tasks = dict(
        s.execute(
            select(HumanTask.instance_id, HumanTask.id).where(
                HumanTask.instance_id.in_(ids),
                HumanTask.element_id == ASSESS_TASK,
                HumanTask.status == "open",
            )
        ).all()
    )
    carried = carried_into(s, campaign)
    actor = rules.actor_of(s, viewer)
    people = {p for _, row, _ in listed for p in _claimants(row.data or {})}
    names = _names(s, people)
    out = []
    for link, row, unit_name in listed:
        data = row.data or {}
        verdict = verdict_of(data)
        year_end = _mapping(data.get("year_end"))
        report = _mapping(data.get("last_report"))
        percent = report.get("progress_percent")
        out.append(
            AssessmentRow(
                row.id,
                link.number,
                str(data.get("title") or ""),
                unit_name,
                [names.get(p, p) for p in _claimants(data)],
                "cancelled" if row.status == "cancelled" else link.status,
                percent if isinstance(percent, int) else None,
                data.get("rag") if isinstance(data.get("rag"), str) else None,
                verdict,
                str(year_end.get("comment") or ""),
                verdict is not None and not year_end,
                open_tasks.get(row.id),
                carried.get(row.id),
                rules.allowed("view", actor, row),
                rules.allowed("read_challenge", actor, row),
            )
        )
    return out


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _claimants(data: dict[str, Any]) -> list[str]:
    claimant = data.get("claimant") if isinstance(data.get("claimant"), dict) else None
    if claimant is None:
        return []
    out = [claimant.get("leader")] + [
        m.get("username") for m in claimant.get("members") or [] if isinstance(m, dict)
    ]
    return list(dict.fromkeys(p for p in out if isinstance(p, str) and p))


def _names(s: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return dict(
        s.execute(select(User.username, User.display_name).where(User.username.in_(sorted(usernames)))).all()
    )


def carried_into(s: Session, campaign: Campaign) -> dict[str, str]:
    """Old instance id -> the instance of a later campaign it was carried into."""
    rows = s.execute(
        select(Instance.id, Instance.data)
        .join(CampaignProblem, CampaignProblem.instance_id == Instance.id)
        .join(Campaign, Campaign.id == CampaignProblem.campaign_id)
        .where(Campaign.tenant == campaign.tenant, Campaign.id != campaign.id, Campaign.year >= campaign.year)
    ).all()
    out: dict[str, str] = {}
    for instance_id, data in rows:
        source = (data or {}).get("carried_from")
        if isinstance(source, dict) and source.get("campaign") == campaign.id:
            out[str(source.get("instance_id"))] = instance_id
    return out


# ---- carry-over ---------------------------------------------------------------------------------
def carry_over(step: Step, campaign_id: int, to_campaign: int) -> CarryOverResult:
    """Start every unsolved or carried item of ``campaign_id`` as a new item of ``to_campaign``
    (both run by the actor's unit), numbered after its items, linked to the old instance."""
    s = step.session
    source = service.managed(s, step.actor or "", campaign_id)
    target = service.managed(s, step.actor or "", to_campaign)
    if target.id == source.id or target.tenant != source.tenant:
        raise InvalidInputError(
            "carry over into another campaign of the same county",
            {"to_campaign": ["another campaign of this county / 须结转到本县的另一个批次"]},
        )
    definition = step.runner.catalog.get_row(s, target.process_key)
    model = step.runner.catalog.model(definition)
    done = carried_into(s, source)
    following = max(
        s.scalars(select(CampaignProblem.number).where(CampaignProblem.campaign_id == target.id)), default=0
    )
    started, already = [], []
    for link, row, unit_name in items(s, source):
        data = row.data or {}
        if verdict_of(data) not in CARRIED:
            continue
        if row.id in done:
            already.append(row.id)
            continue
        following += 1
        item = ListedProblem(
            row=link.number,
            number=following,
            category=link.category if link.category in target.categories else target.categories[-1],
            lead_unit=UnitRef(link.lead_unit or "", unit_name),
            data=_carried_data(data, link, target),
        )
        origin = {
            "carried_from": {
                "campaign": source.id,
                "campaign_title": source.title,
                "number": link.number,
                "instance_id": row.id,
                "business_key": row.business_key,
            }
        }
        new_id = service.start_problem(step, target, definition, model, item, following, origin)
        step.record(
            Event.CAMPAIGN_CARRIED_OVER, actor=step.actor, instance_id=new_id, data=origin["carried_from"]
        )
        started.append(new_id)
    return CarryOverResult(len(started), started, already)


def _carried_data(data: dict[str, Any], link: CampaignProblem, target: Campaign) -> dict[str, Any]:
    """The new item's application: the old one's, due at the end of the target campaign's year."""
    out = {k: data[k] for k in CARRIED_FIELDS if data.get(k) not in (None, "")}
    out["category"] = link.category if link.category in target.categories else target.categories[-1]
    out["proposed_deadline"] = f"{target.year}-12-31T23:59:59+08:00"
    out.setdefault("proposed_points", 10)
    return out


# ---- the report ---------------------------------------------------------------------------------
def report(s: Session, campaign: Campaign) -> CampaignReport:
    """Verdicts counted and every recommendation an accepted item made."""
    listed = items(s, campaign)
    verdicts = [verdict_of(row.data or {}) for _, row, _ in listed]
    recs = [rec for link, row, _ in listed for rec in recommendations(row, link.number)]
    names = _names(s, {r.username for r in recs})
    recs = [Recommendation(r.username, names.get(r.username, r.username), *_tail(r)) for r in recs]
    return CampaignReport(
        campaign.id,
        campaign.title,
        len(listed),
        verdicts.count("solved"),
        verdicts.count("unsolved"),
        verdicts.count("carry_over"),
        verdicts.count(None),
        len({r.username for r in recs}),
        recs,
    )


def _tail(r: Recommendation) -> tuple[Any, ...]:
    return (r.kind, r.reason, r.instance_id, r.number, r.title, r.at)


def recommendations(row: Instance, number: int | None) -> list[Recommendation]:
    data = row.data or {}
    if data.get("phase") != "accepted":
        return []  # only a passed acceptance recommends anyone
    at = service.instant(data.get("accepted_at"))
    out = []
    for rec in data.get("recommend") or []:
        if isinstance(rec, dict) and isinstance(rec.get("username"), str):
            out.append(
                Recommendation(
                    rec["username"],
                    rec["username"],
                    str(rec.get("kind") or ""),
                    str(rec.get("reason") or ""),
                    row.id,
                    number,
                    str(data.get("title") or ""),
                    at,
                )
            )
    return out
