"""Storage for integration concerns (webhooks, deliveries, idempotency keys, login links, comments).

Storage only: the wire shapes live in ``api/schemas``; the behaviour in ``integration.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..tables import Base, UtcDateTime


class Webhook(Base):
    """A subscriber: events posted to ``url``, signed with ``secret``."""

    __tablename__ = "webhook"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[Any]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(500))  # kept in clear: it signs, it is not a password
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The tenant whose events it receives; None: the installation's, which receives every tenant's.
    tenant: Mapped[str | None] = mapped_column(String(64))


class Delivery(Base):
    """One event for one webhook; its ``attempts`` list grows with each try (the job drives it)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_delivery_webhook", "webhook_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)  # the exact bytes signed and posted, as UTF-8
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    job_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    tenant: Mapped[str | None] = mapped_column(String(64))  # the event's instance's tenant


class IdempotencyKey(Base):
    """A retried POST's first result; inserted in the same transaction as the work it guards."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("username", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginLink(Base):
    """A one-time, short-lived sign-in for the web pages; only the token's digest is kept."""

    __tablename__ = "login_link"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("app_user.username", ondelete="CASCADE"))
    next_path: Mapped[str | None] = mapped_column(String(2000))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    tenant: Mapped[str | None] = mapped_column(String(64))  # the user's, when it was issued


class TaskComment(Base):
    """An approval remark on a task (审批意见)."""

    __tablename__ = "task_comment"
    __table_args__ = (Index("ix_task_comment_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    instance_id: Mapped[str] = mapped_column(String(36))
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="comment")  # approval/common.py COMMENT_KINDS
    at: Mapped[datetime] = mapped_column(UtcDateTime)
