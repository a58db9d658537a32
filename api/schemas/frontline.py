"""Front-line dispatch (五个一线): posts to fill, cadres on post, list entries, the dashboard."""

from __future__ import annotations

from marshmallow import fields, validate

from engine import FRONT_LINES, LIST_KINDS, ROTATIONS

from .base import Schema
from .common import PageArgsSchema

FRONT_LINE = validate.OneOf(tuple(FRONT_LINES))
RANKS = fields.List(
    fields.String(validate=validate.Length(min=1, max=50)),
    validate=validate.Length(max=20),
    metadata={"description": "ranks that may hold the post (科级, 股级); empty: any"},
)


class FrontlinePostCreateSchema(Schema):
    front_line = fields.String(
        required=True, validate=FRONT_LINE, metadata={"description": " | ".join(FRONT_LINES)}
    )
    unit = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the receiving unit's code"},
    )
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    duties = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=500))
    supervisor = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the receiving unit's person who manages its cadres day to day"},
    )
    ranks = RANKS
    field = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the speciality asked for"},
    )
    rotation_months = fields.Integer(
        allow_none=True,
        validate=validate.OneOf(ROTATIONS),
        metadata={
            "description": "months after which the cadre moves to another post (信访: 3); none: no rotation"
        },
    )


class FrontlinePostUpdateSchema(FrontlinePostCreateSchema):
    front_line = fields.String(validate=FRONT_LINE)
    unit = fields.String(validate=validate.Length(min=1, max=64))
    title = fields.String(validate=validate.Length(min=1, max=200))
    duties = fields.String(validate=validate.Length(min=1, max=4000))
    capacity = fields.Integer(validate=validate.Range(min=1, max=500))
    supervisor = fields.String(validate=validate.Length(min=1, max=200))
    active = fields.Boolean(metadata={"description": "false: closed to new dispatches"})


class FrontlinePostSchema(Schema):
    id = fields.Integer()
    front_line = fields.String()
    unit = fields.String()
    unit_name = fields.String()
    title = fields.String()
    duties = fields.String()
    ranks = fields.List(fields.String())
    field = fields.String(allow_none=True)
    capacity = fields.Integer()
    filled = fields.Integer()
    vacant = fields.Integer()
    rotation_months = fields.Integer(allow_none=True)
    supervisor = fields.String()
    supervisor_name = fields.String()
    active = fields.Boolean()
    holders = fields.List(fields.String(), metadata={"description": "names of the cadres on the post now"})


class FrontlinePostArgsSchema(PageArgsSchema):
    front_line = fields.String(validate=FRONT_LINE)


class StintArgsSchema(PageArgsSchema):
    all = fields.Boolean(load_default=False, metadata={"description": "also stints that ended"})


class StintSchema(Schema):
    instance_id = fields.String()
    username = fields.String()
    name = fields.String()
    post_id = fields.Integer()
    post_title = fields.String()
    front_line = fields.String()
    unit_name = fields.String()
    origin_unit_name = fields.String()
    rank = fields.String(allow_none=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    end_reason = fields.String(allow_none=True, metadata={"description": "rotated | finished | cancelled"})


class ListEntryCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(tuple(LIST_KINDS)))
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class FrontlineEntrySchema(Schema):
    at = fields.DateTime()
    kind = fields.String()
    instance_id = fields.String()
    detail = fields.String()
    by = fields.String(allow_none=True)


class DashboardArgsSchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))


class DashboardRowSchema(Schema):
    post_id = fields.Integer()
    front_line = fields.String()
    title = fields.String()
    unit_name = fields.String()
    capacity = fields.Integer()
    filled = fields.Integer()
    vacant = fields.Integer()
    by_rank = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_origin = fields.Dict(keys=fields.String(), values=fields.Integer())
    overdue = fields.Integer(
        metadata={"description": "reports, bulletins and reviews open past their due time"}
    )
    positive = fields.Integer()
    negative = fields.Integer()


class DashboardSchema(Schema):
    items = fields.List(fields.Nested(DashboardRowSchema))
