"""Storage of appraisals (三好创争 and the like): schemes, scoring panels and their scores, award
lists under publicity (公示) with their objections, and the awards given.

Storage only. A panel keeps a copy of its scheme's definition, so changing a scheme later never
changes a panel already scored; its results go to the ledger (``score_entry``) when it closes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..tables import Base, UtcDateTime


class AppraisalScheme(Base):
    """A tenant's own scheme: dimensions ``[{key, name, weight, min, max}]``, how they combine
    (``weighted_sum``), how a panel's scorers aggregate (``mean``, ``trimmed``, ``weighted``)
    and the award it selects for with its quota. The shipped schemes (四强, 四高, 四优) are data
    in ``sanhao.py``, not rows."""

    __tablename__ = "appraisal_scheme"
    __table_args__ = (UniqueConstraint("tenant", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    process_key: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AppraisalPanel(Base):
    """A panel scoring subjects on one scheme for one period (述比排序 at year end, a quarter's check)."""

    __tablename__ = "appraisal_panel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)
    scheme: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # the scheme as it stood when the panel opened
    period: Mapped[str] = mapped_column(String(10))
    subject_kind: Mapped[str] = mapped_column(String(10))
    subjects: Mapped[list[Any]] = mapped_column(JSON)  # usernames or unit codes
    scorers: Mapped[list[Any]] = mapped_column(JSON)  # [{username, group}]
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    instance_id: Mapped[str | None] = mapped_column(String(36))
    opened_by: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AppraisalScore(Base):
    """One scorer's scores of one subject, per dimension; replaced (not doubled) before the close."""

    __tablename__ = "appraisal_score"
    __table_args__ = (UniqueConstraint("panel_id", "scorer", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("appraisal_panel.id"), index=True)
    scorer: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AwardList(Base):
    """A proposed list of one award kind for one period, under publicity until ``window_ends``.

    ``entries`` are the subjects proposed ``[{subject, rank?, total?, reason}]``; ``reserve`` the
    next in rank, who move up when an objection against an entry is upheld."""

    __tablename__ = "award_list"
    __table_args__ = (Index("ix_award_list_tenant_period", "tenant", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(10))
    subject_kind: Mapped[str] = mapped_column(String(10))
    scheme: Mapped[str | None] = mapped_column(String(64))
    quota: Mapped[int] = mapped_column(Integer)
    entries: Mapped[list[Any]] = mapped_column(JSON)
    reserve: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="proposed")  # proposed | final
    instance_id: Mapped[str | None] = mapped_column(String(36))
    proposed_by: Mapped[str | None] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    window_ends: Mapped[datetime] = mapped_column(UtcDateTime)
    finalised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Objection(Base):
    """An objection filed during a list's publicity against one of its entries, and how it was handled."""

    __tablename__ = "award_objection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("award_list.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(2000))
    filed_by: Mapped[str] = mapped_column(String(200))
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | upheld | dismissed
    note: Mapped[str | None] = mapped_column(String(2000))
    handled_by: Mapped[str | None] = mapped_column(String(200))
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Award(Base):
    """An award given (好班子, 好班长, 躺平奖...): final once its list's publicity is over."""

    __tablename__ = "award"
    __table_args__ = (Index("ix_award_tenant_period", "tenant", "period", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(2000))
    rank: Mapped[int | None] = mapped_column(Integer)
    list_id: Mapped[int | None] = mapped_column(ForeignKey("award_list.id"))
    instance_id: Mapped[str | None] = mapped_column(String(36))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime)
    given_by: Mapped[str | None] = mapped_column(String(200))
