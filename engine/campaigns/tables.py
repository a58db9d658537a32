"""Storage of campaigns (年度榜单, 批次) and the link from a campaign to its problems' instances.

Storage only. ``campaign_problem`` copies what the campaign's counts and statistics group by
(number, category, lead unit, status, claim and solve times, the people in claims) out of the
instance's data, kept exact by a runner projection in every step (``problems.refresh``), so
statistics are one indexed query instead of a scan of instance JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..tables import Base, UtcDateTime


class Campaign(Base):
    """One campaign: a year's list of problems of one tenant, each run as an instance of ``process_key``."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)  # the creator's tenant
    title: Mapped[str] = mapped_column(String(300))
    year: Mapped[int] = mapped_column(Integer)
    organiser_unit: Mapped[str] = mapped_column(String(64))
    process_key: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list[Any]] = mapped_column(JSON)
    claim_ranks: Mapped[list[Any] | None] = mapped_column(JSON)  # who may claim its problems; empty: anyone
    submission_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    key_prefix: Mapped[str] = mapped_column(String(40), unique=True)  # business keys are prefix + number
    list_approved: Mapped[bool] = mapped_column(Boolean, default=False)  # imported lists skip the review
    claim_window: Mapped[str] = mapped_column(String(40))  # ISO 8601 duration given at publication
    report_interval: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CampaignProblem(Base):
    """A problem of a campaign: its instance, its number in the list, and what statistics group by."""

    __tablename__ = "campaign_problem"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        Index("ix_campaign_problem_campaign_category", "campaign_id", "category"),
        Index("ix_campaign_problem_campaign_unit", "campaign_id", "lead_unit"),
    )

    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    number: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(100))
    lead_unit: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(30))  # filed, approved, published, in_progress, ... (STATUSES)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    people: Mapped[list[Any]] = mapped_column(JSON, default=list)  # usernames in its claims
