"""Frozen records the engine returns; callers never see ORM rows or Spiff objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Row

    from .tables import HumanTask, Job


@dataclass(frozen=True)
class DefinitionRecord:
    id: int
    key: str
    version: int
    name: str
    lanes: dict[str, str]
    forms: dict[str, str]  # element id -> form file name
    created_at: datetime
    deployed_by: str | None
    notes: list[str] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    name_en: str | None = None  # the process's English name (``name_en`` property), if the diagram gives one
    names: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # element id -> {"zh_CN": name, "en": name_en}: what pages show in their language


@dataclass(frozen=True)
class TaskRecord:
    id: str
    instance_id: str
    process_key: str
    business_key: str | None
    element_id: str
    name: str
    lane: str | None
    candidate_groups: list[str]
    assignee: str | None
    status: str
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None = None
    completed_by: str | None = None
    form_name: str | None = None
    kind: str = "task"  # "sign": one signer's part of the task ``parent_id``
    parent_id: str | None = None
    owner: str | None = None  # set while delegated: who confirms
    sign_mode: str | None = None
    returned: bool = False
    title: str | None = None  # the instance's title, from the task index
    # why nobody could be given the task (a vacant post…): ``{"reason", "post", "units"…}``, see assignment.py
    unresolved: dict[str, Any] | None = None
    actions: list[str] = field(
        default_factory=list
    )  # what the viewer may do now (rules.py); filled when read for a viewer


@dataclass(frozen=True)
class TaskDetail:
    task: TaskRecord
    form: dict[str, Any] | None
    data: dict[str, Any]


@dataclass(frozen=True)
class InstanceRecord:
    id: str
    process_key: str
    version: int
    business_key: str | None
    status: str
    data: dict[str, Any]
    active_elements: list[str]
    open_tasks: list[TaskRecord]
    started_by: str | None
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    error: str | None
    visited_elements: list[str] = field(default_factory=list)  # every element completed so far
    actions: list[str] = field(
        default_factory=list
    )  # what the viewer may do now (rules.py); filled when read for a viewer


@dataclass(frozen=True)
class AuditRecord:
    id: int
    instance_id: str | None
    at: datetime
    actor: str | None
    event: str
    element_id: str | None
    task_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str
    instance_id: str | None
    element_id: str | None
    due_at: datetime
    attempts: int
    last_error: str | None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UserRecord:
    username: str
    display_name: str
    groups: list[str]
    roles: list[str]
    active: bool = True
    tenant: str | None = None  # the root of the units they hold posts in; None: no tenant


@dataclass(frozen=True)
class UnitRecord:
    """A unit of an organisation tree; ``tenant`` is its root's code (its own, for a root)."""

    code: str
    name: str
    kind: str
    parent: str | None
    tenant: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PostRecord:
    """A person holding a post in a unit."""

    username: str
    display_name: str
    unit: str
    post: str
    rank: str | None = None


@dataclass(frozen=True)
class UnitDetail:
    unit: UnitRecord
    children: list[UnitRecord]
    members: list[PostRecord]


@dataclass(frozen=True)
class ImportProblem:
    """One bad cell of an imported file: sheet, row number as the spreadsheet shows it, column header."""

    sheet: str
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class OrgImportReport:
    """What an organisation import did or would do: ``{created, updated}`` counts and the problems."""

    units: dict[str, int]
    users: dict[str, int]
    errors: list[ImportProblem] = field(default_factory=list)


@dataclass(frozen=True)
class TokenRecord:
    """An API token as listed: never the secret, only when it was made, expires, was last used."""

    id: int
    username: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str  # active | expired | revoked


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int


def task_record(ht: HumanTask | Row[*tuple[Any, ...]]) -> TaskRecord:
    """A task-index row (an ORM row or a plain result row) as the record callers see."""
    return TaskRecord(
        ht.id,
        ht.instance_id,
        ht.process_key,
        ht.business_key,
        ht.element_id,
        ht.name,
        ht.lane,
        list(ht.candidate_groups or []),
        ht.assignee,
        ht.status,
        ht.created_at,
        ht.due_at,
        ht.completed_at,
        ht.completed_by,
        ht.form,
        ht.kind or "task",
        ht.parent_id,
        ht.owner,
        ht.sign_mode,
        bool(ht.returned),
        ht.title,
        dict(ht.unresolved) if ht.unresolved else None,
    )


def job_record(job: Job) -> JobRecord:
    return JobRecord(
        job.id,
        job.kind,
        job.instance_id,
        job.element_id,
        job.due_at,
        job.attempts,
        job.last_error,
        dict(job.payload or {}),
    )
