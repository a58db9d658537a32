"""Process instances, their history, and messages."""

from __future__ import annotations

from marshmallow import fields, validate

from engine import InstanceStatus

from .base import Schema
from .common import PageArgsSchema
from .tasks import TaskSchema

INSTANCE_STATUSES = tuple(s.value for s in InstanceStatus)


class InstanceStartSchema(Schema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    business_key = fields.String(validate=validate.Length(max=200), allow_none=True)
    data = fields.Dict(
        load_default=dict,
        metadata={
            "description": (
                "start data: only the fields the process's start event declares (its start form, ``startVariables``), "
                "validated like a form; a process declaring neither takes none. claim_evaluate takes optional prefills of "
                "the application form (title, category, description, goals, proposed_deadline, proposed_points, support_needed)."
            )
        },
    )


class InstanceSchema(Schema):
    id = fields.String()
    process_key = fields.String()
    version = fields.Integer()
    business_key = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(INSTANCE_STATUSES)})
    data = fields.Dict()
    active_elements = fields.List(fields.String())
    open_tasks = fields.List(fields.Nested(TaskSchema))
    started_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    actions = fields.List(
        fields.String(),
        metadata={
            "description": (
                "what the caller may do with the instance now (view, cancel, withdraw, cc, execute_job); filled when one instance is read, empty in lists"
            )
        },
    )


class InstanceQueryArgsSchema(PageArgsSchema):
    process_key = fields.String()
    status = fields.String(validate=validate.OneOf(INSTANCE_STATUSES))
    business_key = fields.String()
    unit = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "a unit's code: only what belongs to it and to the units under it"},
    )


class HistoryEventSchema(Schema):
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    event = fields.String()
    element_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    data = fields.Dict()


class InstanceCancelSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class MessageSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    business_key = fields.String(validate=validate.Length(max=200))
    instance_id = fields.String(validate=validate.Length(max=36))
    payload = fields.Dict(load_default=dict)


class MessageResultSchema(Schema):
    instance_ids = fields.List(
        fields.String(), metadata={"description": "the instances the message was correlated to"}
    )
