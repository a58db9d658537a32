"""Campaigns (年度榜单, 批次): a year's list of problems run together, imported from Excel,
published at once and counted. ``CampaignsMixin`` gives ``Engine`` its campaign methods; each
opens one step and calls one operation of ``service.py`` or reads ``stats.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..errors import EngineError
from ..runtime.step import Steps
from ..tables import Instance
from . import annual, assessment, results, service
from .archive import archive
from .assessment import VERDICTS
from .records import (
    ArchiveEntry,
    AssessmentOpened,
    AssessmentRow,
    CampaignRecord,
    CampaignReport,
    CarryOverResult,
    ImportResult,
    ListedProblemRecord,
    PreviewRow,
    PublishResult,
    Recommendation,
    RowError,
    StatRow,
)
from .sheet import COLUMNS, MAX_FILE_BYTES, MAX_ROWS
from .stats import GROUPINGS, stats

__all__ = [
    "COLUMNS",
    "GROUPINGS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "VERDICTS",
    "ArchiveEntry",
    "AssessmentOpened",
    "AssessmentRow",
    "CampaignRecord",
    "CampaignReport",
    "CarryOverResult",
    "CampaignsMixin",
    "ImportResult",
    "ListedProblemRecord",
    "PreviewRow",
    "PublishResult",
    "Recommendation",
    "RowError",
    "StatRow",
]


class CampaignsMixin:
    """The façade's campaign methods (``Engine`` inherits them)."""

    steps: Steps

    def _install_campaigns(self) -> None:
        service.install(self.steps)
        annual.install(self.steps)

    def create_campaign(self, actor: str, body: dict[str, Any]) -> CampaignRecord:
        """A new campaign (admins of the organiser unit): ``{title, year, organiser_unit, categories,
        process_key?, submission_deadline?, key_prefix?, list_approved?, claim_window?, report_interval?}``."""
        with self.steps.write(actor) as step:
            return service.create(step, body)

    def update_campaign(self, campaign_id: int, actor: str, body: dict[str, Any]) -> CampaignRecord:
        """Change a campaign (admins of its organiser unit): ``{claim_ranks}``, who may claim its problems."""
        with self.steps.write(actor) as step:
            return service.update(step, campaign_id, body)

    @staticmethod
    def _claim_refusal(s: Session, row: Instance, username: str) -> str | None:
        """Why ``username`` may not claim the problem ``row`` (its campaign's ranks), or ``None``."""
        return service.claim_refusal(s, row, username)

    @staticmethod
    def _claim_ranks_of(s: Session, row: Instance) -> list[str]:
        """The ranks that may claim the problem ``row`` (empty: anyone)."""
        return service.claim_ranks(s, row)

    def list_campaigns(self, viewer: str) -> list[CampaignRecord]:
        """The campaigns ``viewer``'s tenant runs, newest year first, with their counts."""
        with self.steps.read(viewer) as step:
            return service.listing(step.session, viewer)

    def get_campaign(self, campaign_id: int, viewer: str) -> CampaignRecord:
        """One campaign with its counts by status and category; 404 for another tenant's."""
        with self.steps.read(viewer) as step:
            return service.record(step.session, service.visible(step.session, viewer, campaign_id))

    def campaign_problems(self, campaign_id: int, viewer: str) -> list[ListedProblemRecord]:
        """The campaign's problems by number (title, category, lead unit by name, status, which of
        their pages ``viewer`` may open); 404 for another tenant's."""
        with self.steps.read(viewer) as step:
            return service.problems(step.session, service.visible(step.session, viewer, campaign_id), viewer)

    def campaign_organisers(self, viewer: str) -> dict[str, str]:
        """The units ``viewer`` may run a campaign for, code -> name (empty: they create none)."""
        with self.steps.read(viewer) as step:
            return service.organisers(step.session, viewer)

    def may_manage_campaign(self, campaign_id: int, viewer: str) -> bool:
        """Whether ``viewer`` may import the campaign's list and publish it (for the pages' buttons)."""
        with self.steps.read(viewer) as step:
            try:
                service.managed(step.session, viewer, campaign_id)
            except EngineError:
                return False
            return True

    def may_assess_campaign(self, campaign_id: int, viewer: str) -> bool:
        """Whether ``viewer`` may use the campaign's 年终考评 page (the 考评组 and admins)."""
        with self.steps.read(viewer) as step:
            try:
                results.assessor_check(
                    step.session, service.visible(step.session, viewer, campaign_id), viewer
                )
            except EngineError:
                return False
            return True

    def import_problems(
        self, campaign_id: int, actor: str, content: bytes, *, dry_run: bool = False
    ) -> ImportResult:
        """Check an uploaded .xlsx list and, when every row is good and it is not a dry run, start
        one instance per new row in one transaction; rows whose 编号 the campaign has are skipped."""
        with self.steps.write(actor) as step:
            return service.import_list(step, campaign_id, content, dry_run=dry_run)

    def publish_campaign(self, campaign_id: int, actor: str) -> PublishResult:
        """Publish every approved problem of the campaign on the board at once (audited per problem)."""
        with self.steps.write(actor) as step:
            return service.publish(step, campaign_id)

    def campaign_stats(self, campaign_id: int, viewer: str, by: str) -> list[StatRow]:
        """Problems, claimed, solved, overdue and people by category, unit, rank, status or month."""
        with self.steps.read(viewer) as step:
            campaign = service.visible(step.session, viewer, campaign_id)
            return stats(step.session, campaign, by, step.now)

    def open_assessment(self, campaign_id: int, actor: str) -> AssessmentOpened:
        """Open the year-end assessment (年终考评) on every running item of the campaign (its
        organiser's admins): one transaction per item; an item finished, assessed or already
        open is passed over, so calling it again opens nothing twice."""
        with self.steps.read(actor) as step:
            service.managed(step.session, actor, campaign_id)
            running = assessment.running_items(step.session, campaign_id)
        opened = []
        for instance_id, number in running:
            with self.steps.write(actor) as step:
                service.managed(step.session, actor, campaign_id)
                if assessment.open_item(step, campaign_id, instance_id, number):
                    opened.append(instance_id)
        return AssessmentOpened(len(opened), opened, len(running) - len(opened))

    def assessment_sheet(self, campaign_id: int, viewer: str) -> list[AssessmentRow]:
        """Every item of the campaign for the 考评组 (group ``evaluator``) and admins: who works it,
        its progress, its verdict and its open assessment task."""
        with self.steps.read(viewer) as step:
            campaign = service.visible(step.session, viewer, campaign_id)
            return results.sheet(step.session, campaign, viewer)

    def carry_over(self, campaign_id: int, actor: str, to_campaign: int) -> CarryOverResult:
        """Carry every unsolved or carried-over item into ``to_campaign`` (结转), linked to its old
        instance; items carried before are not doubled."""
        with self.steps.write(actor) as step:
            return results.carry_over(step, campaign_id, to_campaign)

    def campaign_report(self, campaign_id: int, viewer: str) -> CampaignReport:
        """The campaign's verdicts counted and the people its acceptances recommended."""
        with self.steps.read(viewer) as step:
            return results.report(step.session, service.visible(step.session, viewer, campaign_id))

    def person_archive(self, username: str, viewer: str) -> list[ArchiveEntry]:
        """A person's growth archive (成长档案), oldest first: themself, admins and organisers."""
        with self.steps.read(viewer) as step:
            return archive(step.session, username, viewer)
