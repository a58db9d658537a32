"""Storage of the 总队长制 (one leader per village): appointments with their letters, and presence.

``village_leader`` is one appointment: who leads which village, from which confirmed
``village_appointment`` instance, with the appointment letter (任命书) as issued. ``current_village``
holds the village's code while the appointment lasts and is NULL once it ends, so the unique
index on it is the database's own guarantee of one 总队长 per village. ``village_visit`` is one
stay in a village (a visit, or nights spent there: 驻村 rather than 走读).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..tables import Base, UtcDateTime


class VillageLeader(Base):
    """One appointment of a 总队长 to a village, with its archived letter."""

    __tablename__ = "village_leader"
    __table_args__ = (Index("ix_village_leader_village", "village", "appointed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)
    village: Mapped[str] = mapped_column(String(64))  # the village unit's code
    leader: Mapped[str] = mapped_column(String(200), index=True)  # username
    current_village: Mapped[str | None] = mapped_column(String(64), unique=True)  # village while current
    instance_id: Mapped[str] = mapped_column(String(36))  # the confirmed village_appointment instance
    letter_no: Mapped[str] = mapped_column(
        String(80)
    )  # 任命书 number per county and year: 总队长任〔2026〕3号
    letter: Mapped[dict[str, Any]] = mapped_column(JSON)  # the letter as issued: names, class, rank, rule
    appointed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(500))


class VillageVisit(Base):
    """A leader's or cadre's stay in a village: a day's visit, or nights spent there."""

    __tablename__ = "village_visit"
    __table_args__ = (Index("ix_village_visit_village_day", "village", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)
    village: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(200), index=True)
    day: Mapped[str] = mapped_column(String(10))  # ISO date of arrival (YYYY-MM-DD)
    nights: Mapped[int] = mapped_column(Integer, default=0)  # 0: a visit without staying (走访)
    note: Mapped[str | None] = mapped_column(String(2000))
    recorded_by: Mapped[str] = mapped_column(String(200))  # the person, or the OA acting for them
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VillageProblem(Base):
    """One problem raised at a courtyard meeting, as the lists read it: a copy of what its
    ``village_problem`` instance says, kept exact by a runner projection in every step."""

    __tablename__ = "village_problem"
    __table_args__ = (Index("ix_village_problem_open", "tenant", "status", "colour"),)

    instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str | None] = mapped_column(String(64))
    village: Mapped[str] = mapped_column(String(64), index=True)
    town: Mapped[str | None] = mapped_column(String(64), index=True)  # the village's parent unit
    title: Mapped[str] = mapped_column(String(300))
    colour: Mapped[str | None] = mapped_column(String(10))  # red / yellow / green once triaged
    department: Mapped[str | None] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # open / solved / cancelled
    escalated: Mapped[bool] = mapped_column(default=False)
    overdue: Mapped[bool] = mapped_column(default=False)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProblemSnapshot(Base):
    """The weekly red/yellow/green list as it stood, kept for the record (never updated)."""

    __tablename__ = "village_problem_snapshot"
    __table_args__ = (Index("ix_village_problem_snapshot", "tenant", "taken_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # {"red": n, "yellow": n, "green": n, "untriaged": n}
    rows: Mapped[list[Any]] = mapped_column(JSON)  # the open problems, as the list showed them
