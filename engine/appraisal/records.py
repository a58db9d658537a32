"""What the appraisal methods return: frozen records, built from rows inside the transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .ranking import names
from .tables import AppraisalPanel, AppraisalScore, Award, AwardList, Objection


@dataclass(frozen=True)
class PanelRecord:
    id: int
    scheme: str
    title: str
    period: str
    subject_kind: str
    subjects: list[str]
    scorers: list[dict[str, Any]]
    dimensions: list[dict[str, Any]]
    status: str
    opened_at: datetime
    closed_at: datetime | None
    instance_id: str | None
    results: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoreRecord:
    panel_id: int
    scorer: str
    subject: str
    scores: dict[str, float]
    submitted_at: datetime


@dataclass(frozen=True)
class ObjectionRecord:
    id: int
    list_id: int
    subject: str
    name: str
    reason: str
    filed_by: str
    filed_at: datetime
    status: str
    note: str | None
    handled_by: str | None
    handled_at: datetime | None


@dataclass(frozen=True)
class AwardListRecord:
    id: int
    kind: str
    period: str
    subject_kind: str
    scheme: str | None
    quota: int
    entries: list[dict[str, Any]]  # {subject, name, rank?, total?, reason}
    reserve: list[dict[str, Any]]
    status: str
    proposed_at: datetime
    window_ends: datetime
    finalised_at: datetime | None
    open_for_objections: bool
    objections: list[ObjectionRecord]
    instance_id: str | None


@dataclass(frozen=True)
class AwardRecord:
    kind: str
    subject_kind: str
    subject: str
    name: str
    period: str
    reason: str
    rank: int | None
    instance_id: str | None
    given_at: datetime
    given_by: str | None


def panel_record(row: AppraisalPanel, results: dict[str, dict[str, float]] | None = None) -> PanelRecord:
    d = row.definition
    return PanelRecord(
        row.id, row.scheme, str(d.get("title") or row.scheme), row.period, row.subject_kind, list(row.subjects),
        list(row.scorers), list(d["dimensions"]), row.status, row.opened_at, row.closed_at, row.instance_id,
        results or {},
    )  # fmt: skip


def score_record(row: AppraisalScore) -> ScoreRecord:
    return ScoreRecord(row.panel_id, row.scorer, row.subject, dict(row.scores), row.submitted_at)


def objection_record(row: Objection, named: dict[str, str]) -> ObjectionRecord:
    return ObjectionRecord(
        row.id, row.list_id, row.subject, named.get(row.subject, row.subject), row.reason, row.filed_by,
        row.filed_at, row.status, row.note, row.handled_by, row.handled_at,
    )  # fmt: skip


def list_record(s: Session, row: AwardList, objections: list[Objection], now: datetime) -> AwardListRecord:
    subjects = [e["subject"] for e in [*row.entries, *row.reserve]] + [o.subject for o in objections]
    named = names(s, row.subject_kind, subjects, row.tenant)
    return AwardListRecord(
        row.id, row.kind, row.period, row.subject_kind, row.scheme, row.quota,
        [{**e, "name": named.get(e["subject"], e["subject"])} for e in row.entries],
        [{**e, "name": named.get(e["subject"], e["subject"])} for e in row.reserve],
        row.status, row.proposed_at, row.window_ends, row.finalised_at,
        row.status == "proposed" and now < row.window_ends,
        [objection_record(o, named) for o in objections], row.instance_id,
    )  # fmt: skip


def award_records(s: Session, rows: list[Award]) -> list[AwardRecord]:
    named: dict[str, str] = {}
    for kind in ("person", "unit"):
        for tenant in {a.tenant for a in rows if a.subject_kind == kind}:
            named.update(
                names(
                    s,
                    kind,
                    [a.subject for a in rows if a.subject_kind == kind and a.tenant == tenant],
                    tenant,
                )
            )
    return [
        AwardRecord(
            a.kind,
            a.subject_kind,
            a.subject,
            named.get(a.subject, a.subject),
            a.period,
            a.reason,
            a.rank,
            a.instance_id,
            a.given_at,
            a.given_by,
        )  # fmt: skip
        for a in rows
    ]
