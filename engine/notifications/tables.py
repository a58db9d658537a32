"""Storage for notifications: channels an admin configures, each person's preferences, deliveries.

Storage only: what a notification says is ``templates.py``; who gets it and when is ``outbox.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..tables import Base, UtcDateTime


class NotificationChannel(Base):
    """An e-mail server or a group robot (钉钉, 企业微信) notifications go out through."""

    __tablename__ = "notification_channel"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # email | dingtalk | wecom
    name: Mapped[str] = mapped_column(String(200))
    # email: host, port, security (starttls|ssl|none), username, from_address;
    # robots: url, format (markdown|text). Never the secret.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The SMTP password or the robot's signing secret: written, used, never read back by the API.
    secret: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The tenant whose people it tells; None: the installation's, used where a tenant has none.
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)


class NotificationPreference(Base):
    """What one person wants to be told, where, in which language, and when not."""

    __tablename__ = "notification_preference"

    username: Mapped[str] = mapped_column(
        ForeignKey("app_user.username", ondelete="CASCADE"), primary_key=True
    )
    events: Mapped[list[Any] | None] = mapped_column(JSON)  # None: every event
    channels: Mapped[list[Any] | None] = mapped_column(JSON)  # channel kinds; None: every one
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(10), default="zh_CN")  # zh_CN | en
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00", local time (Asia/Shanghai)
    quiet_end: Mapped[str | None] = mapped_column(String(5))  # "07:00"
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NotificationDelivery(Base):
    """One message through one channel; ``attempts`` grows with each try (a job drives it)."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        Index("ix_notification_delivery_tenant", "tenant", "created_at"),
        Index("ix_notification_delivery_channel", "channel_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("notification_channel.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))  # task_created | task_urged | task_due_soon | task_overdue
    recipients: Mapped[list[Any]] = mapped_column(JSON)  # usernames it is for
    address: Mapped[str | None] = mapped_column(String(320))  # the e-mail address; None for a robot
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)  # rendered and escaped for the channel
    task_id: Mapped[str | None] = mapped_column(String(36))
    instance_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    job_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)  # postponed past quiet hours
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    tenant: Mapped[str | None] = mapped_column(String(64))
