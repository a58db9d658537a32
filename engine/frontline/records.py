"""What the front-line operations return: frozen records, no storage rows and no wire shapes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FrontlinePostRecord:
    """A post on a front line (锻炼岗位) with how many hold it now and who."""

    id: int
    front_line: str
    unit: str
    unit_name: str
    title: str
    duties: str
    ranks: list[str]
    field: str | None
    capacity: int
    rotation_months: int | None
    supervisor: str
    supervisor_name: str
    active: bool
    filled: int = 0
    holders: list[str] = dataclasses.field(default_factory=list)  # display names of the cadres on it now

    @property
    def vacant(self) -> int:
        return max(self.capacity - self.filled, 0)


@dataclass(frozen=True)
class StintRecord:
    """A cadre on a post (or who was): the dispatch page's row."""

    instance_id: str
    username: str
    name: str
    post_id: int
    post_title: str
    front_line: str
    unit_name: str
    origin_unit_name: str
    rank: str | None
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None


@dataclass(frozen=True)
class FrontlineEntryRecord:
    """One event of a cadre's front-line story, as the growth archive lists it."""

    at: datetime
    kind: str  # ENTRY_KINDS
    instance_id: str
    detail: str
    by: str | None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class DashboardRow:
    """One post of the front-line dashboard: filled and vacant, who holds it, what is overdue."""

    post_id: int
    front_line: str
    title: str
    unit_name: str
    capacity: int
    filled: int
    by_rank: dict[str, int]
    by_origin: dict[str, int]
    overdue: int
    positive: int
    negative: int

    @property
    def vacant(self) -> int:
        return max(self.capacity - self.filled, 0)


@dataclass(frozen=True)
class PoolRecord:
    """A cadre's running front-line instance as the dispatch page lists it: in the pool, being
    assessed, waiting for a post, or on post."""

    instance_id: str
    username: str
    name: str
    intake: str
    front_line: str
    phase: str
    waiting_at: list[str]
    started_at: datetime
