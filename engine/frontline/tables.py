"""Storage of the front-line work (五个一线): the posts to fill, who holds which, and the record of
what happened to each cadre. Storage only; the rules live in ``service.py`` and ``process.py``.

``frontline_stint`` keeps one row per cadre per post held; a unique index over the open rows
(``ended_at`` null) makes "one post at a time" hold in the database too, whatever the race.
``frontline_entry`` is the cadre's side of the story (nomination, assessment, dispatch, reports,
reviews, list entries, rotation, appraisal, outcome), written in the step that made it happen; the
growth archive and the dashboard read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..tables import Base, UtcDateTime


class FrontlinePost(Base):
    """A post to fill on one of the five front lines (锻炼岗位): its unit, duties, requirements, capacity."""

    __tablename__ = "frontline_post"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)
    front_line: Mapped[str] = mapped_column(String(30))  # one of FRONT_LINES
    unit: Mapped[str] = mapped_column(String(64))  # the receiving unit's code
    title: Mapped[str] = mapped_column(String(200))
    duties: Mapped[str] = mapped_column(Text)
    ranks: Mapped[list[Any]] = mapped_column(JSON, default=list)  # ranks that may hold it; empty: any
    field: Mapped[str | None] = mapped_column(String(100))  # the speciality it asks for; None: any
    capacity: Mapped[int] = mapped_column(Integer)
    rotation_months: Mapped[int | None] = mapped_column(Integer)  # 信访 rotates every 3 months
    supervisor: Mapped[str] = mapped_column(String(200))  # the receiving unit's daily manager
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FrontlineStint(Base):
    """A cadre holding a post from ``started_at``; ``ended_at`` once rotated away or finished."""

    __tablename__ = "frontline_stint"
    __table_args__ = (
        Index(
            "uq_frontline_stint_open",
            "username",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
        Index("ix_frontline_stint_post", "post_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    username: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[int] = mapped_column(ForeignKey("frontline_post.id"))
    origin_unit: Mapped[str | None] = mapped_column(String(64))  # the cadre's own unit when dispatched
    rank: Mapped[str | None] = mapped_column(String(50))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(30))  # rotated | finished | cancelled


class FrontlineEntry(Base):
    """One event of a cadre's front-line story, as the archive shows it."""

    __tablename__ = "frontline_entry"
    __table_args__ = (Index("ix_frontline_entry_person", "tenant", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64))
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    username: Mapped[str] = mapped_column(String(200))  # the cadre
    kind: Mapped[str] = mapped_column(String(30))  # one of ENTRY_KINDS
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
