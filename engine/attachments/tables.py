"""Storage of attachments: the signed 军令状 of a claim and the evidence of reports. Storage only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..tables import Base, UtcDateTime


class Attachment(Base):
    """One uploaded file of an instance; its bytes live in the row (``content``, loaded only on download)."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_instance", "instance_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str | None] = mapped_column(String(64))  # the instance's tenant
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"))
    kind: Mapped[str] = mapped_column(String(20))  # pledge (军令状) or evidence
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))  # what the bytes are, not what the client said
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
