"""The incident table: what stopped an instance or a job, until someone repairs and retries it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..tables import Base, UtcDateTime


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (
        Index("ix_incident_open", "resolved_at", "created_at"),
        Index("ix_incident_instance", "instance_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # script | message | job
    instance_id: Mapped[str | None] = mapped_column(String(36))
    process_key: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str | None] = mapped_column(String(200))
    job_id: Mapped[str | None] = mapped_column(String(36))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the instance's data at that point
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(String(20))  # retried | cancelled
    tenant: Mapped[str | None] = mapped_column(String(64))
