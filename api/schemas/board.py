"""The claim-and-evaluate read models: board, claims, scores, leaderboard."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema
from .common import PageArgsSchema

PERIOD = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="format YYYY-MM / 格式应为 YYYY-MM")


class BoardItemSchema(Schema):
    instance_id = fields.String()
    title = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    points = fields.Raw(allow_none=True, metadata={"type": "number"})
    claim_deadline = fields.String(allow_none=True)
    deadline = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    claims = fields.List(fields.Dict())
    leader = fields.String(allow_none=True)
    rag = fields.String(metadata={"enum": ["green", "yellow", "red"]})
    open_for_claims = fields.Boolean()


class FiledClaimSchema(Schema):
    """What a claimant gets back: their claim and the challenge as the board shows it, nothing more of the instance."""

    instance_id = fields.String()
    claim = fields.Dict(
        metadata={"description": "kind, leader, members [{username, share}], plan, pledge, filed_at"}
    )
    challenge = fields.Nested(BoardItemSchema)


class BoardArgsSchema(PageArgsSchema):
    category = fields.String()
    unit = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "a unit's code: only what belongs to it and to the units under it"},
    )


class ClaimMemberSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=200))
    share = fields.Float(validate=validate.Range(min=0, max=100))


class ClaimCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["individual", "team"]))
    members = fields.List(fields.Nested(ClaimMemberSchema), load_default=list)
    plan = fields.String(required=True, validate=validate.Length(min=1, max=20_000))
    pledge = fields.String(required=True, validate=validate.Length(min=1, max=20_000))


class PeriodArgsSchema(PageArgsSchema):
    period = fields.String(validate=PERIOD, metadata={"description": "YYYY-MM; default: this month"})


class ExportArgsSchema(Schema):
    period = fields.String(validate=PERIOD)


class ScoreRowSchema(Schema):
    username = fields.String()
    points = fields.Float()
    instance_id = fields.String()
    reason = fields.String()
    awarded_at = fields.DateTime()


class LeaderRowSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    points = fields.Float()
    rank = fields.Integer()
