"""Notification channels, one's own preferences, and the delivery log."""

from __future__ import annotations

from marshmallow import fields, validate

from engine import NotifyEvent

from .base import Schema
from .webhooks import AttemptSchema  # one delivery attempt, the same for robots, mail and webhooks

KINDS = ("email", "dingtalk", "wecom")
EVENTS = tuple(e.value for e in NotifyEvent)
CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="HH:MM, 00:00-23:59 / 格式为 时:分")


class ChannelSettingsSchema(Schema):
    """E-mail: host, port, security, username, from_address, from_name. Robots: url, format."""

    host = fields.String(validate=validate.Length(min=1, max=300))
    port = fields.Integer(validate=validate.Range(min=1, max=65535))
    security = fields.String(validate=validate.OneOf(("starttls", "ssl", "none")))
    username = fields.String(validate=validate.Length(max=300))
    from_address = fields.Email()
    from_name = fields.String(validate=validate.Length(max=100))
    url = fields.String(validate=validate.Length(min=1, max=2000))
    format = fields.String(validate=validate.OneOf(("markdown", "text")))


class ChannelCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    settings = fields.Nested(ChannelSettingsSchema, required=True)
    secret = fields.String(
        load_only=True,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "SMTP password or the robot's signing secret; never returned"},
    )
    active = fields.Boolean(load_default=True)


class ChannelUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    settings = fields.Nested(ChannelSettingsSchema)
    secret = fields.String(load_only=True, allow_none=True, validate=validate.Length(max=500))
    active = fields.Boolean()


class ChannelSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"enum": list(KINDS)})
    name = fields.String()
    settings = fields.Nested(ChannelSettingsSchema)
    has_secret = fields.Boolean()
    active = fields.Boolean()
    tenant = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ChannelTestSchema(Schema):
    to = fields.Email(metadata={"description": "e-mail channels: where the sample goes (default: your own)"})


class PreferencesSchema(Schema):
    events = fields.List(fields.String(validate=validate.OneOf(EVENTS)), required=True)
    channels = fields.List(fields.String(validate=validate.OneOf(KINDS)), required=True)
    email = fields.Email(allow_none=True, load_default=None)
    language = fields.String(load_default="zh_CN", validate=validate.OneOf(("zh_CN", "en")))
    quiet_start = fields.String(allow_none=True, load_default=None, validate=CLOCK)
    quiet_end = fields.String(allow_none=True, load_default=None, validate=CLOCK)
    available = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "the channel kinds configured for your county"},
    )


class DeliveryArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    status = fields.String(validate=validate.OneOf(("pending", "delivered", "failed")))


class NotificationDeliverySchema(Schema):
    id = fields.String()
    channel_id = fields.String()
    channel_name = fields.String()
    kind = fields.String()
    event = fields.String(metadata={"enum": list(EVENTS)})
    recipients = fields.List(fields.String())
    address = fields.String(allow_none=True)
    subject = fields.String()
    status = fields.String(metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.List(fields.Nested(AttemptSchema))
    task_id = fields.String(allow_none=True)
    instance_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    not_before = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
