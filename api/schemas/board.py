"""The claim-and-evaluate read models: board, claims, scores, leaderboard."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema
from .common import PageArgsSchema

PERIOD = validate.Regexp(
    r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$",
    error="format YYYY-MM, YYYY-Qn or YYYY / 格式应为 YYYY-MM、YYYY-Qn 或 YYYY",
)


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
        metadata={
            "description": "kind, leader, principal?, filed_by, members [{username, share} or "
            "{name, unit, phone, share}], plan, pledge, pledge_file?, filed_at"
        }
    )
    challenge = fields.Nested(BoardItemSchema)


class BoardArgsSchema(PageArgsSchema):
    category = fields.String()
    unit = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "a unit's code: only what belongs to it and to the units under it"},
    )


class ClaimMemberSchema(Schema):
    """A member with a login (``username``) or without one (``name``, ``unit``, ``phone``)."""

    username = fields.String(validate=validate.Length(min=1, max=200))
    name = fields.String(validate=validate.Length(min=1, max=50), metadata={"description": "without a login"})
    unit = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "without a login: a unit's code of the tenant, or a company's name"},
    )
    phone = fields.String(
        validate=validate.Length(min=7, max=20),
        metadata={"description": "without a login: 13800138000, 0315-1234567"},
    )
    share = fields.Float(validate=validate.Range(min=0, max=100))


class ClaimCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["individual", "team"]))
    members = fields.List(
        fields.Nested(ClaimMemberSchema), load_default=list, validate=validate.Length(max=50)
    )
    plan = fields.String(required=True, validate=validate.Length(min=1, max=20_000))
    pledge = fields.String(required=True, validate=validate.Length(min=1, max=20_000))
    leader = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "挂帅领导, a username; default: the filer"},
    )
    principal = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "主要负责人, a member's username; required on a campaign's problem"},
    )
    pledge_file = fields.String(
        validate=validate.Length(min=1, max=36),
        metadata={"description": "the id of the signed 军令状 uploaded to this challenge (kind pledge)"},
    )


class PeriodArgsSchema(PageArgsSchema):
    period = fields.String(
        validate=PERIOD,
        metadata={
            "description": "YYYY-MM, YYYY-Qn or YYYY (with the periods inside it); default: this month"
        },
    )


class ExportArgsSchema(Schema):
    period = fields.String(validate=PERIOD)


class ScoreRowSchema(Schema):
    username = fields.String(allow_none=True, metadata={"description": "the person, for person rows"})
    subject_kind = fields.String(metadata={"enum": ["person", "unit"]})
    subject = fields.String(metadata={"description": "a username or a unit code"})
    name = fields.String(metadata={"description": "the person's or the unit's name"})
    dimension = fields.String(
        allow_none=True, metadata={"description": "empty on a total or a claim's points"}
    )
    scheme = fields.String(allow_none=True, metadata={"description": "the appraisal scheme that scored it"})
    period = fields.String()
    points = fields.Float()
    instance_id = fields.String(allow_none=True)
    reason = fields.String()
    awarded_at = fields.DateTime()


class LeaderRowSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    points = fields.Float()
    rank = fields.Integer()
