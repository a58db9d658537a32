"""Incidents (what stopped an instance or a job) and the repairs admins make."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema
from .common import PageArgsSchema


class IncidentSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "script (a script, condition or decision failed) | job"})
    instance_id = fields.String(allow_none=True)
    process_key = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    job_id = fields.String(allow_none=True)
    message = fields.String(metadata={"description": "the error"})
    data = fields.Dict(metadata={"description": "the instance's data when it failed"})
    attempts = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True, metadata={"description": "retried | cancelled"})


class IncidentQueryArgsSchema(PageArgsSchema):
    open = fields.Boolean(load_default=True, metadata={"description": "only those not yet resolved"})
    instance_id = fields.String()
    process_key = fields.String()


class VariablesSchema(Schema):
    """``{set: {name: value}, comment}``: the values replace the instance's, audited with the old ones."""

    set = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=200)), required=True)
    comment = fields.String(required=True, validate=validate.Length(max=2000))
