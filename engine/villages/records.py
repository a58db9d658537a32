"""What the 总队长制 feature hands to callers: plain frozen records, names rather than ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class VillageRow:
    """A village of the county with its class and its 总队长 (None: vacant)."""

    village: str
    village_name: str
    town_name: str
    village_class: str
    leader: str | None
    leader_name: str | None
    appointment_id: int | None
    letter_no: str | None
    appointed_at: datetime | None
    pending_instance: str | None  # a proposal before the committee


@dataclass(frozen=True)
class AppointmentRecord:
    """One appointment, current or ended, with its letter as issued."""

    id: int
    village: str
    leader: str
    leader_name: str
    letter_no: str
    letter: dict[str, Any]
    appointed_at: datetime
    confirmed_by: str | None
    ended_at: datetime | None
    ended_reason: str | None
    instance_id: str

    @property
    def current(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class VisitRecord:
    id: int
    village: str
    village_name: str
    username: str
    display_name: str
    day: str
    nights: int
    note: str | None
    recorded_by: str


@dataclass(frozen=True)
class PresenceRow:
    """How often one person was in one village over a period: visits, nights, last day there."""

    village: str
    village_name: str
    username: str
    display_name: str
    is_leader: bool
    visits: int
    nights: int
    last_day: str
