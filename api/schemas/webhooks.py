"""Webhooks and their deliveries."""

from __future__ import annotations

from marshmallow import fields, validate

from engine import WebhookEvent

from .base import Schema

WEBHOOK_EVENTS = tuple(e.value for e in WebhookEvent)


class WebhookCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    events = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENTS)), required=True, validate=validate.Length(min=1)
    )
    secret = fields.String(required=True, validate=validate.Length(min=1, max=500), load_only=True)


class WebhookSchema(Schema):
    id = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class AttemptSchema(Schema):
    at = fields.String()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliverySchema(Schema):
    id = fields.String()
    webhook_id = fields.String()
    event = fields.String()
    status = fields.String(metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.List(fields.Nested(AttemptSchema))
    payload = fields.Dict()
    job_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
