"""Panel scoring (述比排序): a panel opens on a scheme, a period and its subjects; each scorer on
it records per-dimension scores for each subject; closing aggregates the scorers (mean, trimmed
mean, or weighted by scorer group), combines the dimensions into a total and writes both to the
ledger: one row per dimension and one total row per subject.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rules
from ..errors import ConflictError, InvalidInputError, NotAllowedError, NotFoundError
from ..runtime.step import Step
from ..tables import ScoreEntry, Unit, User
from . import decision, schemes
from .periods import Period
from .tables import AppraisalPanel, AppraisalScore

TRIMMED_MINIMUM = 3  # one highest and one lowest dropped leave at least one score

MAX_ID = 2**31 - 1  # ids are 32-bit in every database; a larger one names nothing


def step_tenant(step: Step) -> str | None:
    """The tenant a step's appraisal work belongs to: its instance's, else its actor's."""
    if step.instance_row is not None:
        return step.instance_row.tenant
    return rules.actor_of(step.session, step.actor).tenant if step.actor else None


def check_subjects(s: Session, tenant: str | None, kind: str, subjects: list[Any], field: str) -> list[str]:
    """The subjects as given when each is a unit or person of ``tenant``; 422 naming the others."""
    names = [x for x in subjects if isinstance(x, str) and x]
    column, tenant_col = (Unit.code, Unit.tenant) if kind == "unit" else (User.username, User.tenant)
    where = tenant_col.is_(None) if tenant is None else tenant_col == tenant
    known = set(s.scalars(select(column).where(column.in_(names), where))) if names else set()
    errors = {
        f"{field}.{i}": [f"no {kind} '{x}' / 对象不存在"] for i, x in enumerate(subjects) if x not in known
    }
    if not subjects:
        errors[field] = ["at least one subject / 至少一个对象"]
    if len(set(names)) != len(names):
        errors[field] = ["a subject is listed twice / 对象重复"]
    if errors:
        raise InvalidInputError(f"{field} invalid", errors)
    return names


def require_organiser(step: Step, trusted: bool) -> None:
    """Organisers and admins run appraisals; a diagram's reaction (``trusted``) acts for its
    process whoever completed the step, as does the system (no actor)."""
    if not trusted and step.actor is not None:
        rules.require("manage_appraisal", rules.actor_of(step.session, step.actor))


def open_panel(step: Step, body: dict[str, Any], *, trusted: bool = False) -> AppraisalPanel:
    """Open a panel (organisers and admins, or a diagram's reaction):
    ``{scheme, period, subjects, scorers: [{username, group?}], instance_id?}``."""
    s = step.session
    require_organiser(step, trusted)
    tenant = step_tenant(step)
    definition = schemes.find(s, tenant, str(body.get("scheme") or ""))
    period = Period.parse(str(body.get("period") or ""))
    subjects = check_subjects(
        s, tenant, definition["subject_kind"], list(body.get("subjects") or []), "subjects"
    )
    scorers = _check_scorers(s, tenant, definition, body.get("scorers") or [])
    row = AppraisalPanel(
        tenant=tenant,
        scheme=definition["name"],
        definition=definition,
        period=str(period),
        subject_kind=definition["subject_kind"],
        subjects=subjects,
        scorers=scorers,
        status="open",
        instance_id=body.get("instance_id") if isinstance(body.get("instance_id"), str) else None,
        opened_by=step.actor,
        opened_at=step.now,
    )
    s.add(row)
    s.flush()
    return row


def _check_scorers(
    s: Session, tenant: str | None, definition: dict[str, Any], given: Any
) -> list[dict[str, Any]]:
    scorers = [
        {"username": x["username"], "group": str(x.get("group") or "")}
        if isinstance(x, dict) and isinstance(x.get("username"), str)
        else {"username": x, "group": ""}
        for x in given
        if isinstance(x, dict | str)
    ]
    check_subjects(s, tenant, "person", [x["username"] for x in scorers], "scorers")
    errors: dict[str, list[str]] = {}
    if definition["aggregation"] == "trimmed" and len(scorers) < TRIMMED_MINIMUM:
        errors["scorers"] = [
            f"a trimmed mean needs at least {TRIMMED_MINIMUM} scorers / 去掉最高最低分至少需要3名评委"
        ]
    weights = definition.get("group_weights") or {}
    if definition["aggregation"] == "weighted":
        for i, x in enumerate(scorers):
            if x["group"] not in weights:
                errors[f"scorers.{i}.group"] = [f"one of {', '.join(weights)} / 评分组无效"]
    if errors:
        raise InvalidInputError("scorers invalid", errors)
    return scorers


def panel_of(s: Session, panel_id: int, viewer: str | None) -> AppraisalPanel:
    """The panel, or 404 when it does not exist in ``viewer``'s tenant."""
    row = s.get(AppraisalPanel, panel_id) if 1 <= panel_id <= MAX_ID else None
    if row is None or (viewer is not None and not rules.in_tenant(rules.actor_of(s, viewer), row.tenant)):
        raise NotFoundError(f"no panel {panel_id}")
    return row


def record(
    step: Step, panel_id: int, subject: str, scores: dict[str, Any], *, replace: bool = False
) -> AppraisalScore:
    """Record the acting scorer's scores of ``subject``: every dimension of the scheme, each within
    its scale. A second submission is a 409 unless ``replace`` (before the panel closes)."""
    s = step.session
    actor = step.actor or ""
    panel = panel_of(s, panel_id, actor)
    if actor not in {x["username"] for x in panel.scorers}:
        raise NotAllowedError(f"{actor} is not on panel {panel_id} / 不是本次测评的评委")
    if panel.status != "open":
        raise ConflictError(f"panel {panel_id} is closed / 测评已结束")
    if subject not in panel.subjects:
        raise InvalidInputError(
            f"no subject {subject} on the panel", {"subject": ["not on this panel / 不在本次测评对象中"]}
        )
    clean = check_scores(panel.definition, scores)
    existing = s.scalar(
        select(AppraisalScore).where(
            AppraisalScore.panel_id == panel_id,
            AppraisalScore.scorer == actor,
            AppraisalScore.subject == subject,
        )
    )
    if existing is not None:
        if not replace:
            raise ConflictError(f"{actor} has scored {subject} already / 已评分，如需修改请选择替换")
        existing.scores, existing.submitted_at = clean, step.now
        return existing
    row = AppraisalScore(
        panel_id=panel_id, scorer=actor, subject=subject, scores=clean, submitted_at=step.now
    )
    s.add(row)
    s.flush()
    return row


def check_scores(definition: dict[str, Any], scores: Any) -> dict[str, float]:
    """Scores of every dimension, each a number within its scale; 422 naming each bad field."""
    if not isinstance(scores, dict):
        raise InvalidInputError("scores must map dimensions to numbers", {"scores": ["an object / 格式无效"]})
    dims = {d["key"]: d for d in definition["dimensions"]}
    errors: dict[str, list[str]] = {}
    for key in scores:
        if key not in dims:
            errors[f"scores.{key}"] = ["unknown dimension / 维度不存在"]
    for key, dim in dims.items():
        value = scores.get(key)
        if value is None:
            errors[f"scores.{key}"] = [f"missing: score {dim['name']} / 请为{dim['name']}评分"]
        elif not schemes.is_number(value) or not dim["min"] <= value <= dim["max"]:
            errors[f"scores.{key}"] = [
                f"between {dim['min']:g} and {dim['max']:g} / 分值应在 {dim['min']:g}–{dim['max']:g} 之间"
            ]
    if errors:
        raise InvalidInputError(f"scores invalid: {', '.join(sorted(errors))}", errors)
    return {key: float(scores[key]) for key in dims}


def aggregate(definition: dict[str, Any], values: list[tuple[str, float]]) -> float:
    """The panel's score of one dimension from ``(group, score)`` of each scorer."""
    how = definition["aggregation"]
    scores = sorted(v for _, v in values)
    if how == "trimmed":
        return fmean(scores[1:-1])
    if how == "weighted":
        weights = definition["group_weights"]
        by_group: dict[str, list[float]] = defaultdict(list)
        for group, v in values:
            by_group[group].append(v)
        total_weight = sum(weights[g] for g in by_group)
        return sum(weights[g] * fmean(vs) for g, vs in by_group.items()) / total_weight
    return fmean(scores)


def combine(definition: dict[str, Any], dims: dict[str, float]) -> float:
    """The total of a subject's dimension scores by the scheme's rule (the weighted sum)."""
    return sum(d["weight"] * dims[d["key"]] for d in definition["dimensions"])


def close(step: Step, panel_id: int, *, trusted: bool = False) -> dict[str, dict[str, float]]:
    """Close the panel (organisers, admins or the system) and write its results to the ledger;
    returns ``{subject: {dimension: score, "total": total}}``. A subject lacking the scores its
    aggregation needs keeps the panel open (409)."""
    s = step.session
    require_organiser(step, trusted)
    panel = panel_of(s, panel_id, step.actor)
    if panel.status != "open":
        raise ConflictError(f"panel {panel_id} is closed already / 测评已结束")
    groups = {x["username"]: x["group"] for x in panel.scorers}
    by_subject: dict[str, list[AppraisalScore]] = defaultdict(list)
    for row in s.scalars(select(AppraisalScore).where(AppraisalScore.panel_id == panel_id)):
        by_subject[row.subject].append(row)
    needed = TRIMMED_MINIMUM if panel.definition["aggregation"] == "trimmed" else 1
    lacking = [x for x in panel.subjects if len(by_subject[x]) < needed]
    if lacking:
        raise ConflictError(
            f"too few scores for {', '.join(lacking)} (at least {needed}) / 评分人数不足：{'、'.join(lacking)}"
        )
    results = {}
    for subject in panel.subjects:
        dims = {
            d["key"]: round(
                aggregate(
                    panel.definition,
                    [(groups.get(r.scorer, ""), r.scores[d["key"]]) for r in by_subject[subject]],
                ),
                2,
            )
            for d in panel.definition["dimensions"]
        }
        total = round(
            decision.total(step, panel.tenant, panel.definition, dims)
            if panel.definition["rule"] == "dmn"
            else combine(panel.definition, dims),
            2,
        )
        results[subject] = {**dims, "total": total}
        _ledger(step, panel, subject, dims, total)
    panel.status, panel.closed_at = "closed", step.now
    return results


def _ledger(step: Step, panel: AppraisalPanel, subject: str, dims: dict[str, float], total: float) -> None:
    reason = f"{panel.definition.get('title') or panel.scheme}测评"
    for key, points in [*dims.items(), (None, total)]:
        step.session.add(
            ScoreEntry(
                period=panel.period,
                username=subject if panel.subject_kind == "person" else None,
                subject_kind=panel.subject_kind,
                subject=subject,
                dimension=key,
                scheme=panel.scheme,
                points=points,
                instance_id=panel.instance_id,
                reason=reason,
                awarded_at=step.now,
                tenant=panel.tenant,
            )
        )
