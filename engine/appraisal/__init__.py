"""Appraisals (三好创争 and the like): subjects that are people or units, scored per dimension by a
panel on a scheme, ranked, selected with quotas, put up for publicity (公示) and awarded.

``AppraisalMixin`` gives ``Engine`` its methods; each opens one step and calls one function of
``schemes``, ``scoring`` or ``awards`` (plain functions of a ``Step``, which a diagram's reaction
calls with its own step), or reads ``ranking`` and ``archive``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .. import rules
from ..runtime.step import Steps
from . import awards, schemes, scoring
from .archive import AppraisalEntry, entries, unit_archive
from .periods import Period, parse_period
from .ranking import RankingRow, ranking
from .records import (
    AwardListRecord,
    AwardRecord,
    ObjectionRecord,
    PanelRecord,
    ScoreRecord,
    award_records,
    list_record,
    objection_record,
    panel_record,
    score_record,
)
from .sanhao import NEGATIVE_KINDS, SHIPPED_SCHEMES
from .tables import Award, AwardList

__all__ = [
    "NEGATIVE_KINDS",
    "SHIPPED_SCHEMES",
    "AppraisalEntry",
    "AppraisalMixin",
    "AwardListRecord",
    "AwardRecord",
    "ObjectionRecord",
    "PanelRecord",
    "Period",
    "RankingRow",
    "ScoreRecord",
    "entries",
]


class AppraisalMixin:
    """The façade's appraisal methods (``Engine`` inherits them)."""

    steps: Steps

    def create_scheme(self, actor: str, body: dict[str, Any]) -> dict[str, Any]:
        """A tenant's own scheme (organisers and admins): ``{name, title?, subject_kind, dimensions:
        [{key, name, weight, min, max}], rule?, aggregation?, group_weights?, award?: {kind, quota},
        campaign?, process_key?}``."""
        with self.steps.write(actor) as step:
            return schemes.create(step, body)

    def list_schemes(self, viewer: str) -> list[dict[str, Any]]:
        """The schemes ``viewer``'s tenant may use: the shipped 四强, 四高, 四优 and its own."""
        with self.steps.read(viewer) as step:
            return schemes.listing(step.session, scoring.step_tenant(step))

    def open_panel(self, actor: str, body: dict[str, Any]) -> PanelRecord:
        """Open a scoring panel: ``{scheme, period, subjects, scorers: [{username, group?}], instance_id?}``."""
        with self.steps.write(actor) as step:
            return panel_record(scoring.open_panel(step, body))

    def get_panel(self, panel_id: int, viewer: str) -> PanelRecord:
        """A panel of ``viewer``'s tenant (404 otherwise)."""
        with self.steps.read(viewer) as step:
            return panel_record(scoring.panel_of(step.session, panel_id, viewer))

    def record_scores(
        self, panel_id: int, actor: str, subject: str, scores: dict[str, Any], *, replace: bool = False
    ) -> ScoreRecord:
        """The acting scorer's per-dimension scores of ``subject`` (422 out of scale or unknown
        dimension, 403 not on the panel, 409 a second submission unless ``replace``)."""
        with self.steps.write(actor) as step:
            return score_record(scoring.record(step, panel_id, subject, scores, replace=replace))

    def close_panel(self, panel_id: int, actor: str) -> PanelRecord:
        """Aggregate the scores and write each subject's dimensions and total to the ledger."""
        with self.steps.write(actor) as step:
            results = scoring.close(step, panel_id)
            return panel_record(scoring.panel_of(step.session, panel_id, actor), results)

    def ranking(
        self, viewer: str, scheme: str, period: str | None = None, subject_kind: str | None = None
    ) -> tuple[dict[str, Any], str, list[RankingRow]]:
        """A scheme's ranking of a period (default: this year), as ``(scheme, period, rows)``."""
        with self.steps.read(viewer) as step:
            tenant = scoring.step_tenant(step)
            definition = schemes.find(step.session, tenant, scheme)
            when = Period.parse(period) if period else Period(step.now.year, "year", 0)
            if subject_kind is not None and subject_kind != definition["subject_kind"]:
                return definition, str(when), []
            return definition, str(when), ranking(step.session, tenant, definition, when)

    def propose_awards(self, actor: str, body: dict[str, Any]) -> AwardListRecord:
        """Put an award list up for publicity (see ``awards.propose``)."""
        with self.steps.write(actor) as step:
            row = awards.propose(step, body)
            return list_record(step.session, row, [], step.now)

    def award_list(self, list_id: int, viewer: str) -> AwardListRecord:
        """A proposed or final list with its objections (anyone of the tenant: it is public)."""
        with self.steps.read(viewer) as step:
            row = awards.list_of(step.session, list_id, viewer)
            return list_record(step.session, row, awards.objections(step.session, list_id), step.now)

    def award_lists(self, viewer: str, period: str | None = None) -> list[AwardListRecord]:
        """The tenant's award lists, of a period (and the periods inside it) when given."""
        with self.steps.read(viewer) as step:
            s = step.session
            stmt = select(AwardList).order_by(AwardList.proposed_at.desc(), AwardList.id.desc())
            where = rules.tenant_filter(rules.actor_of(s, viewer), AwardList.tenant)
            if where is not None:
                stmt = stmt.where(where)
            if period:
                stmt = stmt.where(AwardList.period.in_(Period.parse(period).spellings()))
            return [list_record(s, row, awards.objections(s, row.id), step.now) for row in s.scalars(stmt)]

    def file_objection(self, list_id: int, actor: str, subject: str, reason: str) -> ObjectionRecord:
        """An objection against an entry while the list's window is open (409 after it)."""
        with self.steps.write(actor) as step:
            row = awards.object_to(step, list_id, subject, reason)
            lst = awards.list_of(step.session, list_id, actor)
            named = {
                e["subject"]: e.get("name", e["subject"])
                for e in list_record(step.session, lst, [], step.now).entries
            }
            return objection_record(row, named)

    def handle_objection(
        self, list_id: int, objection_id: int, actor: str, decision: str, note: str = ""
    ) -> AwardListRecord:
        """Uphold (the subject leaves, the next in rank moves up) or dismiss an objection."""
        with self.steps.write(actor) as step:
            awards.handle(step, list_id, objection_id, decision, note)
            row = awards.list_of(step.session, list_id, actor)
            return list_record(step.session, row, awards.objections(step.session, list_id), step.now)

    def finalise_awards(self, list_id: int, actor: str) -> AwardListRecord:
        """Give the list's awards (409 while the window is open or an objection waits)."""
        with self.steps.write(actor) as step:
            awards.finalise(step, list_id)
            row = awards.list_of(step.session, list_id, actor)
            return list_record(step.session, row, awards.objections(step.session, list_id), step.now)

    def awards(self, viewer: str, period: str | None = None, kind: str | None = None) -> list[AwardRecord]:
        """The awards given in ``viewer``'s tenant, by period (and the periods inside it) and kind."""
        with self.steps.read(viewer) as step:
            s = step.session
            where = rules.tenant_filter(rules.actor_of(s, viewer), Award.tenant)
            when = parse_period(period, step.now) if period else None
            return award_records(s, awards.awards(s, where, when, kind))

    def unit_archive(self, code: str, viewer: str) -> tuple[str, list[AppraisalEntry]]:
        """A unit's archive of awards and rankings: its name and entries (leaders, organisers, admins)."""
        with self.steps.read(viewer) as step:
            unit, found = unit_archive(step.session, code, viewer)
            return unit.name, found
