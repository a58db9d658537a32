"""Jobs: timers and webhook deliveries waiting to run."""

from __future__ import annotations

from marshmallow import fields

from .base import Schema
from .common import PageArgsSchema


class JobSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"example": "timer"})
    instance_id = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    due_at = fields.DateTime()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)


class JobQueryArgsSchema(PageArgsSchema):
    instance_id = fields.String()
    kind = fields.String()
