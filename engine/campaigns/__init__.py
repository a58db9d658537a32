"""Campaigns (年度榜单, 批次): a year's list of problems run together, imported from Excel,
published at once and counted. ``CampaignsMixin`` gives ``Engine`` its campaign methods; each
opens one step and calls one operation of ``service.py`` or reads ``stats.py``.
"""

from __future__ import annotations

from typing import Any

from ..errors import EngineError
from ..runtime.step import Steps
from . import annual, service
from .records import (
    CampaignRecord,
    ImportResult,
    ListedProblemRecord,
    PreviewRow,
    PublishResult,
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
    "CampaignRecord",
    "CampaignsMixin",
    "ImportResult",
    "ListedProblemRecord",
    "PreviewRow",
    "PublishResult",
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
