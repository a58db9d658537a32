"""What the campaign operations return: frozen records, no storage rows and no wire shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CampaignRecord:
    """A campaign with its problems counted by status and by category (``None`` in lists)."""

    id: int
    tenant: str | None
    title: str
    year: int
    organiser_unit: str
    process_key: str
    categories: list[str]
    submission_deadline: datetime | None
    key_prefix: str
    list_approved: bool
    claim_window: str
    report_interval: str
    created_by: str | None
    created_at: datetime
    problems: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    organiser_unit_name: str = ""
    claim_ranks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ListedProblemRecord:
    """One problem of a campaign as its page lists it: number, category, title, lead unit, status."""

    instance_id: str
    number: int
    category: str
    title: str
    lead_unit: str
    lead_unit_name: str
    status: str
    public: bool = False  # the viewer may read its challenge page (published on the board)
    viewable: bool = False  # the viewer may open its instance page


@dataclass(frozen=True)
class RowError:
    """One refused cell: the sheet's row (the header is row 1), the column's header, a Chinese message."""

    row: int
    column: str
    message: str


@dataclass(frozen=True)
class PreviewRow:
    """A row a dry run would import: what the import page shows before the real import."""

    row: int
    number: int | None
    category: str
    title: str
    lead_unit_name: str
    deadline: str
    points: object


@dataclass(frozen=True)
class ImportResult:
    """An import's outcome: nothing was written when ``errors`` is not empty (or on a dry run)."""

    imported: int
    instances: list[str]
    skipped: list[int]  # numbers (编号) already in the campaign
    errors: list[RowError]
    dry_run: bool
    preview: list[PreviewRow] = field(default_factory=list)  # a clean dry run: the rows it would import


@dataclass(frozen=True)
class PublishResult:
    published: int
    instances: list[str]


@dataclass(frozen=True)
class StatRow:
    """One line of a campaign's statistics, grouped by category, unit, rank, status or month."""

    key: str
    problems: int
    claimed: int
    solved: int
    overdue: int
    people: int


@dataclass(frozen=True)
class AssessmentOpened:
    """What opening a campaign's year-end assessment did: the items given a task, and how many
    it passed over (finished, already assessed or already open)."""

    opened: int
    instances: list[str]
    passed_over: int


@dataclass(frozen=True)
class AssessmentRow:
    """One item as the 考评组's page lists it: who works it, how far it got, and its verdict."""

    instance_id: str
    number: int
    title: str
    lead_unit_name: str
    claimants: list[str]  # display names, the leader first
    status: str
    progress_percent: int | None
    rag: str | None
    verdict: str | None  # solved | unsolved | carry_over | None (not assessed yet)
    verdict_comment: str
    automatic: bool  # the verdict follows from its finished acceptance, not from an assessment
    task_id: str | None  # the open assessment task, if any
    carried_to: str | None = None  # the instance it was carried into, if any
    viewable: bool = False  # the viewer may open its instance page (its history)
    public: bool = False  # the viewer may read its challenge on the board


@dataclass(frozen=True)
class CarryOverResult:
    """What a carry-over did: new items started in the target campaign, old items already there."""

    carried: int
    instances: list[str]
    already: list[str]  # old instance ids already carried before (nothing doubled)


@dataclass(frozen=True)
class Recommendation:
    """A person an item's acceptance recommended (重点培养 / 提拔使用), with the reason."""

    username: str
    display_name: str
    kind: str
    reason: str
    instance_id: str
    number: int | None
    title: str
    at: datetime | None


@dataclass(frozen=True)
class CampaignReport:
    """The campaign's results: verdicts counted and the people recommended (成果运用)."""

    campaign_id: int
    title: str
    problems: int
    solved: int
    unsolved: int
    carried_over: int
    not_assessed: int
    people_recommended: int
    recommendations: list[Recommendation]


@dataclass(frozen=True)
class ArchiveEntry:
    """One line of a person's growth archive (成长档案), oldest first."""

    at: datetime | None
    kind: str  # claim | report | acceptance | score | recommendation | assessment | award | ranking
    instance_id: str
    title: str
    detail: str
    campaign_id: int | None = None
    campaign_title: str = ""
    points: float | None = None
