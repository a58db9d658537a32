"""The façade's notification methods: channels (admins), one's own preferences, the delivery log.

A channel's secret (SMTP password, robot signing secret) is written and used, never returned;
a robot URL is checked like a webhook's target. ``NotificationsMixin`` gives ``Engine`` its methods.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rules
from ..errors import InvalidInputError, NotFoundError
from ..store import Store, counted_page
from ..tables import User
from . import channels, outbox
from .tables import NotificationChannel, NotificationDelivery, NotificationPreference
from .templates import Facts, NotifyEvent, render

if TYPE_CHECKING:
    from ..runtime.clock import Clock
    from ..runtime.step import Steps

EVENTS = tuple(e.value for e in NotifyEvent)
LANGUAGES = ("zh_CN", "en")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_SETTINGS = ("host", "port", "security", "username", "from_address", "from_name")
ROBOT_SETTINGS = ("url", "format")


@dataclass(frozen=True)
class ChannelRecord:
    id: str
    kind: str
    name: str
    settings: dict[str, Any]  # never the secret
    has_secret: bool
    active: bool
    tenant: str | None
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class PreferenceRecord:
    username: str
    events: list[str]
    channels: list[str]  # kinds
    email: str | None
    language: str
    quiet_start: str | None
    quiet_end: str | None
    available: list[str]  # the channel kinds configured for the person's tenant


@dataclass(frozen=True)
class NotificationDeliveryRecord:
    id: str
    channel_id: str
    channel_name: str
    kind: str
    event: str
    recipients: list[str]
    address: str | None
    subject: str
    status: str
    attempts: list[dict[str, Any]]
    task_id: str | None
    instance_id: str | None
    created_at: datetime
    not_before: datetime
    delivered_at: datetime | None


class NotificationsMixin:
    """Notification methods (``Engine`` inherits them)."""

    if TYPE_CHECKING:
        store: Store
        clock: Clock
        steps: Steps
        webhook_allow_private: bool

    def _install_notifications(self) -> None:
        self.notifier = outbox.Notifier(outbox.NotifyConfig(), self.clock)
        self.notifier.install(self.steps, self._deliver_notification)

    def configure_notifications(
        self, *, base_url: str | None = None, due_soon_hours: float | None = None
    ) -> None:
        """Settings from ``JIEBANG_BASE_URL`` and ``JIEBANG_NOTIFY_DUE_SOON_HOURS``."""
        if base_url:
            self.notifier.config.base_url = base_url
        if due_soon_hours is not None:
            self.notifier.config.due_soon_before = timedelta(hours=due_soon_hours)

    def _deliver_notification(self, job: Any, force: bool) -> None:
        """Job handler: send one delivery outside any transaction, then record the attempt."""
        with self.store.read() as s:
            delivery = s.get(NotificationDelivery, (job.payload or {}).get("delivery_id"))
            channel = s.get(NotificationChannel, delivery.channel_id) if delivery is not None else None
        now = self.clock.now()
        if delivery is None or delivery.status != "pending":
            with self.store.write() as s:
                outbox.drop_job(s, job.id)
            return
        usable = channel is not None and channel.active
        if channel is not None and usable:
            attempt = outbox.send(channel, delivery, allow_private=self._notify_private)
        else:  # nothing left to retry through
            attempt = {"status_code": None, "error": "channel stopped / 通道已停用", "duration_ms": 0}
        with self.store.write() as s:
            outbox.record_attempt(s, job.id, delivery.id, attempt, now, last=not usable)

    @property
    def _notify_private(self) -> bool:
        return self.webhook_allow_private

    # ---- channels (admins) --------------------------------------------------------------------
    def create_notification_channel(self, actor: str, body: dict[str, Any]) -> ChannelRecord:
        """Configure an e-mail server or a group robot for the actor's tenant (the installation's when none)."""
        kind = body.get("kind")
        if kind not in channels.KINDS:
            raise InvalidInputError(
                "channel invalid", {"kind": [f"choose from {', '.join(channels.KINDS)} / 类型无效"]}
            )
        settings, secret = self._checked_settings(kind, body.get("settings") or {}, body.get("secret"))
        name = str(body.get("name") or "").strip()
        if not name:
            raise InvalidInputError("channel invalid", {"name": ["required / 必填项"]})
        with self.store.write() as s:
            who = rules.actor_of(s, actor)
            rules.require("manage_notifications", who)
            row = NotificationChannel(
                id=str(uuid.uuid4()),
                kind=kind,
                name=name[:200],
                settings=settings,
                secret=secret or None,
                active=bool(body.get("active", True)),
                created_by=actor,
                created_at=self.clock.now(),
                tenant=who.tenant,
            )
            s.add(row)
            s.flush()
            return _channel_record(row)

    def update_notification_channel(
        self, channel_id: str, actor: str, changes: dict[str, Any]
    ) -> ChannelRecord:
        """Change a channel's name, settings, secret or whether it is used. An omitted secret stays
        while the channel still sends to the same place; sending it elsewhere (another mail server,
        port, encryption or login, another robot address) needs it entered again, so an admin cannot
        redirect the county's password to a server of their own. The settings are checked again
        only when they change: stopping or renaming a channel whose address no longer passes the
        check stays possible (each post checks it anyway)."""
        with self.store.write() as s:
            row = _channel(s, channel_id, actor)
            if "settings" in changes or "secret" in changes:
                merged = {**(row.settings or {}), **(changes.get("settings") or {})}
                if (
                    "secret" not in changes
                    and row.secret
                    and _destination(row.kind, merged) != _destination(row.kind, row.settings or {})
                ):
                    raise InvalidInputError(
                        "channel invalid",
                        {
                            "secret": [
                                "enter the password or signing secret again when the server or address changes"
                                " / 更改服务器、端口、加密方式、登录名或地址时，须重新填写密码或加签密钥"
                            ]
                        },
                    )
                settings, secret = self._checked_settings(row.kind, merged, changes.get("secret", row.secret))
                row.settings, row.secret = settings, secret or None
            if "name" in changes:
                name = str(changes["name"] or "").strip()
                if not name:
                    raise InvalidInputError("channel invalid", {"name": ["required / 必填项"]})
                row.name = name[:200]
            if "active" in changes:
                row.active = bool(changes["active"])
            return _channel_record(row)

    def delete_notification_channel(self, channel_id: str, actor: str) -> None:
        """Remove a channel with its delivery log (pending deliveries end as failed if their job runs)."""
        with self.store.write() as s:
            s.delete(_channel(s, channel_id, actor))

    def list_notification_channels(self, viewer: str) -> list[ChannelRecord]:
        """The channels of the viewer's tenant (the installation's admins see every one)."""
        with self.store.read() as s:
            who = rules.actor_of(s, viewer)
            rules.require("manage_notifications", who)
            stmt = select(NotificationChannel).order_by(
                NotificationChannel.created_at, NotificationChannel.id
            )
            where = rules.tenant_filter(who, NotificationChannel.tenant)
            if where is not None:
                stmt = stmt.where(where)
            return [_channel_record(c) for c in s.scalars(stmt)]

    def test_notification_channel(self, channel_id: str, actor: str, to: str | None = None) -> dict[str, Any]:
        """Send a sample message now (e-mail to ``to`` or the admin's own address); the attempt."""
        with self.store.read() as s:
            row = _channel(s, channel_id, actor)
            pref = s.get(NotificationPreference, actor)
            name = s.scalar(select(User.display_name).where(User.username == actor)) or actor
        address = to or (pref.email if pref is not None else None)
        if row.kind == "email" and (not address or not EMAIL.match(address)):
            raise InvalidInputError("no address", {"to": ["an e-mail address / 须为电子邮件地址"]})
        facts = Facts(
            event=NotifyEvent.TASK_CREATED,
            task_name="通道测试",
            process_name="通知设置",
            title=None,
            due_at=self.clock.now() + timedelta(days=1),
            link=f"{self.notifier.config.base_url.rstrip('/')}/notifications",
            recipients=[name],
        )
        markdown = row.kind != "email" and (row.settings or {}).get("format", "markdown") == "markdown"
        message = render(facts, "zh_CN", markdown=markdown)
        probe = NotificationDelivery(address=address, subject=message.subject, body=message.body)
        return outbox.send(row, probe, allow_private=self._notify_private)

    def _checked_settings(
        self, kind: str, raw: dict[str, Any], secret: Any
    ) -> tuple[dict[str, Any], str | None]:
        errors: dict[str, list[str]] = {}
        if secret is not None and (not isinstance(secret, str) or len(secret) > 500):
            errors["secret"] = ["at most 500 characters / 最多 500 个字符"]
        if kind == "email":
            settings = {k: raw.get(k) for k in EMAIL_SETTINGS if raw.get(k) not in (None, "")}
            host, sender = settings.get("host"), settings.get("from_address")
            if not isinstance(host, str) or not host.strip():
                errors["settings.host"] = ["required / 必填项"]
            port = settings.setdefault("port", 587)
            if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
                errors["settings.port"] = ["1-65535 / 端口无效"]
            if settings.setdefault("security", "starttls") not in channels.SECURITIES:
                errors["settings.security"] = [f"choose from {', '.join(channels.SECURITIES)} / 加密方式无效"]
            if not isinstance(sender, str) or not EMAIL.match(sender):
                errors["settings.from_address"] = ["an e-mail address / 须为电子邮件地址"]
        else:
            settings = {k: raw.get(k) for k in ROBOT_SETTINGS if raw.get(k) not in (None, "")}
            if settings.setdefault("format", "markdown") not in channels.FORMATS:
                errors["settings.format"] = [f"choose from {', '.join(channels.FORMATS)} / 格式无效"]
            url = settings.get("url")
            try:
                if not isinstance(url, str) or len(url) > 2000:
                    raise ValueError("an http(s) URL with a host / 须为 http(s) 地址")
                channels.check_robot_url(url, allow_private=self._notify_private)
            except ValueError as exc:
                errors["settings.url"] = [str(exc)]
        if errors:
            raise InvalidInputError("channel invalid", errors)
        return settings, secret

    # ---- preferences (each person's own) ------------------------------------------------------
    def notification_preferences(self, username: str) -> PreferenceRecord:
        """What ``username`` is told and where (defaults when they never chose)."""
        with self.store.read() as s:
            return _preference_record(s, username, s.get(NotificationPreference, username))

    def set_notification_preferences(self, username: str, body: dict[str, Any]) -> PreferenceRecord:
        """Replace ``username``'s preferences: events, channel kinds, e-mail, language, quiet hours."""
        errors: dict[str, list[str]] = {}
        events, kinds = body.get("events"), body.get("channels")
        if events is not None and any(e not in EVENTS for e in events):
            errors["events"] = [f"choose from {', '.join(EVENTS)} / 事件无效"]
        if kinds is not None and any(k not in channels.KINDS for k in kinds):
            errors["channels"] = [f"choose from {', '.join(channels.KINDS)} / 通道无效"]
        email = (body.get("email") or "").strip() or None
        if email is not None and (len(email) > 320 or not EMAIL.match(email)):
            errors["email"] = ["an e-mail address / 须为电子邮件地址"]
        language = body.get("language") or "zh_CN"
        if language not in LANGUAGES:
            errors["language"] = ["zh_CN or en / 语言无效"]
        start, end = body.get("quiet_start") or None, body.get("quiet_end") or None
        for field, value in (("quiet_start", start), ("quiet_end", end)):
            try:
                if value is not None:
                    outbox.parse_hhmm(value)
            except ValueError:
                errors[field] = ["HH:MM, 00:00-23:59 / 格式为 时:分"]
        if (start is None) != (end is None):
            errors["quiet_end" if end is None else "quiet_start"] = ["both or neither / 须同时填写起止时间"]
        if errors:
            raise InvalidInputError("preferences invalid", errors)
        with self.store.write() as s:
            row = s.get(NotificationPreference, username)
            if row is None:
                row = NotificationPreference(username=username)
                s.add(row)
            row.events = sorted(set(events)) if events is not None else None
            row.channels = sorted(set(kinds)) if kinds is not None else None
            row.email, row.language, row.quiet_start, row.quiet_end = email, language, start, end
            row.updated_at = self.clock.now()
            s.flush()
            return _preference_record(s, username, row)

    # ---- the delivery log (admins) ------------------------------------------------------------
    def list_notification_deliveries(
        self, viewer: str, *, status: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[NotificationDeliveryRecord], int]:
        """Deliveries of the viewer's tenant, newest first, each with its attempts."""
        with self.store.read() as s:
            who = rules.actor_of(s, viewer)
            rules.require("manage_notifications", who)
            stmt = select(NotificationDelivery, NotificationChannel).join(
                NotificationChannel, NotificationChannel.id == NotificationDelivery.channel_id
            )
            where = rules.tenant_filter(who, NotificationDelivery.tenant)
            if where is not None:
                stmt = stmt.where(where)
            if status:
                stmt = stmt.where(NotificationDelivery.status == status)
            rows, total = counted_page(
                s,
                stmt,
                NotificationDelivery.created_at.desc(),
                NotificationDelivery.id,
                offset=offset,
                limit=limit,
            )
            return [_delivery_record(d, c) for d, c in rows], total


def _channel(s: Session, channel_id: str, viewer: str) -> NotificationChannel:
    """A channel the admin ``viewer`` may manage (another tenant's is not found)."""
    who = rules.actor_of(s, viewer)
    rules.require("manage_notifications", who)
    row = s.get(NotificationChannel, channel_id)
    if row is None or not rules.in_tenant(who, row.tenant):
        raise NotFoundError(f"no notification channel '{channel_id}'")
    return row


def _channel_record(c: NotificationChannel) -> ChannelRecord:
    return ChannelRecord(
        c.id,
        c.kind,
        c.name,
        dict(c.settings or {}),
        bool(c.secret),
        bool(c.active),
        c.tenant,
        c.created_by,
        c.created_at,
    )


def _preference_record(s: Session, username: str, row: NotificationPreference | None) -> PreferenceRecord:
    tenant = s.scalar(select(User.tenant).where(User.username == username))
    available = sorted({c.kind for c in outbox.channels_for(s, tenant)})
    if row is None:
        return PreferenceRecord(
            username, list(EVENTS), list(channels.KINDS), None, "zh_CN", None, None, available
        )
    return PreferenceRecord(
        username,
        list(row.events) if row.events is not None else list(EVENTS),
        list(row.channels) if row.channels is not None else list(channels.KINDS),
        row.email,
        row.language or "zh_CN",
        row.quiet_start,
        row.quiet_end,
        available,
    )


def _delivery_record(d: NotificationDelivery, c: NotificationChannel) -> NotificationDeliveryRecord:
    return NotificationDeliveryRecord(
        d.id,
        d.channel_id,
        c.name,
        c.kind,
        d.event,
        list(d.recipients or []),
        d.address,
        d.subject,
        d.status,
        list(d.attempts or []),
        d.task_id,
        d.instance_id,
        d.created_at,
        d.not_before,
        d.delivered_at,
    )


__all__ = [
    "ChannelRecord",
    "NotificationDeliveryRecord",
    "NotificationsMixin",
    "PreferenceRecord",
]


def _destination(kind: str, settings: dict[str, Any]) -> tuple[Any, ...]:
    """Where a channel's secret goes: the mail server and login, or the robot's address."""
    if kind == "email":
        return (
            settings.get("host"),
            settings.get("port") or 587,
            settings.get("security") or "starttls",
            settings.get("username"),
        )
    return (settings.get("url"),)
