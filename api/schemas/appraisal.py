"""Appraisals: schemes, panels and scores, rankings, award lists under publicity, objections,
awards and a unit's archive."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema
from .board import PERIOD
from .common import PageArgsSchema

SUBJECT_KIND = fields.String(validate=validate.OneOf(("person", "unit")))
NAME = validate.Length(min=1, max=200)


class DimensionSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    weight = fields.Float(required=True)
    min = fields.Float(required=True)
    max = fields.Float(required=True)


class AwardQuotaSchema(Schema):
    kind = fields.String(required=True, validate=validate.Length(min=1, max=64))
    quota = fields.Integer(required=True)


class SchemeCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.String(validate=validate.Length(max=200))
    subject_kind = fields.String(required=True, validate=validate.OneOf(("person", "unit")))
    dimensions = fields.List(
        fields.Nested(DimensionSchema), required=True, validate=validate.Length(min=1, max=30)
    )
    rule = fields.String(
        load_default="weighted_sum",
        validate=validate.OneOf(("weighted_sum", "dmn")),
        metadata={"description": "weighted_sum: Σ weight × score; dmn: the decision's output 'total'"},
    )
    decision = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "dmn: the decision id, deployed with process_key"},
    )
    aggregation = fields.String(load_default="mean", validate=validate.OneOf(("mean", "trimmed", "weighted")))
    group_weights = fields.Dict(keys=fields.String(validate=NAME), values=fields.Float())
    award = fields.Nested(AwardQuotaSchema)
    campaign = fields.Integer(metadata={"description": "the campaign the scheme is for"})
    process_key = fields.String(
        validate=NAME,
        metadata={"description": "the process the scheme is for (dmn: whose .dmn holds the decision)"},
    )


class SchemeSchema(Schema):
    name = fields.String()
    title = fields.String()
    subject_kind = fields.String()
    dimensions = fields.List(fields.Nested(DimensionSchema))
    rule = fields.String()
    decision = fields.String(allow_none=True)
    process_key = fields.String(allow_none=True)
    aggregation = fields.String()
    group_weights = fields.Dict()
    award = fields.Nested(AwardQuotaSchema, allow_none=True)
    shipped = fields.Boolean(metadata={"description": "shipped with Jiebang (三好创争's 四强, 四高, 四优)"})


class ScorerSchema(Schema):
    username = fields.String(required=True, validate=NAME)
    group = fields.String(load_default="", validate=validate.Length(max=100))


class PanelCreateSchema(Schema):
    scheme = fields.String(required=True, validate=validate.Length(min=1, max=64))
    period = fields.String(required=True, validate=PERIOD)
    subjects = fields.List(
        fields.String(validate=NAME), required=True, validate=validate.Length(min=1, max=500)
    )
    scorers = fields.List(
        fields.Nested(ScorerSchema), required=True, validate=validate.Length(min=1, max=200)
    )
    instance_id = fields.String(validate=validate.Length(max=36))


class PanelSchema(Schema):
    id = fields.Integer()
    scheme = fields.String()
    title = fields.String()
    period = fields.String()
    subject_kind = fields.String()
    subjects = fields.List(fields.String())
    scorers = fields.List(fields.Nested(ScorerSchema))
    dimensions = fields.List(fields.Nested(DimensionSchema))
    status = fields.String(metadata={"enum": ["open", "closed"]})
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    instance_id = fields.String(allow_none=True)
    results = fields.Dict(metadata={"description": "on closing: {subject: {dimension: score, total}}"})


class ScoreSubmitSchema(Schema):
    subject = fields.String(required=True, validate=NAME)
    scores = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    replace = fields.Boolean(load_default=False, metadata={"description": "replace my earlier scores"})


class ScoreSheetSchema(Schema):
    panel_id = fields.Integer()
    scorer = fields.String()
    subject = fields.String()
    scores = fields.Dict()
    submitted_at = fields.DateTime()


class RankingArgsSchema(PageArgsSchema):
    scheme = fields.String(required=True, validate=validate.Length(min=1, max=64))
    period = fields.String(
        validate=PERIOD, metadata={"description": "YYYY, YYYY-Qn or YYYY-MM; default: this year"}
    )
    subject_kind = SUBJECT_KIND


class RankingExportArgsSchema(Schema):
    scheme = fields.String(required=True, validate=validate.Length(min=1, max=64))
    period = fields.String(validate=PERIOD)
    subject_kind = SUBJECT_KIND


class RankingRowSchema(Schema):
    rank = fields.Integer()
    subject_kind = fields.String()
    subject = fields.String()
    name = fields.String()
    total = fields.Float()
    dimensions = fields.Dict(keys=fields.String(), values=fields.Float())
    awards = fields.List(fields.String(), metadata={"description": "awards given for the period"})
    proposed = fields.List(fields.String(), metadata={"description": "award lists it is on, under publicity"})


class AwardArgsSchema(PageArgsSchema):
    period = fields.String(validate=PERIOD)
    kind = fields.String(validate=validate.Length(min=1, max=64))


class AwardExportArgsSchema(Schema):
    period = fields.String(validate=PERIOD)
    kind = fields.String(validate=validate.Length(min=1, max=64))


class AwardSchema(Schema):
    kind = fields.String()
    subject_kind = fields.String()
    subject = fields.String()
    name = fields.String()
    period = fields.String()
    reason = fields.String()
    rank = fields.Integer(allow_none=True)
    instance_id = fields.String(allow_none=True)
    given_at = fields.DateTime()
    given_by = fields.String(allow_none=True)


class EntrySchema(Schema):
    subject = fields.String(required=True, validate=NAME)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class AwardListCreateSchema(Schema):
    period = fields.String(required=True, validate=PERIOD)
    scheme = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "select from its ranking"}
    )
    kind = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "default: the scheme's"}
    )
    quota = fields.Integer(metadata={"description": "places; never above the kind's quota"})
    subject_kind = SUBJECT_KIND
    entries = fields.List(
        fields.Nested(EntrySchema), metadata={"description": "nominated (躺平奖): each with a reason"}
    )
    days = fields.Integer(load_default=5, metadata={"description": "working days of publicity (公示)"})
    instance_id = fields.String(validate=validate.Length(max=36))


class ListEntrySchema(Schema):
    subject = fields.String()
    name = fields.String()
    rank = fields.Integer()
    total = fields.Float()
    reason = fields.String()


class ObjectionCreateSchema(Schema):
    subject = fields.String(required=True, validate=NAME)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ObjectionDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("upheld", "dismissed")))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ObjectionSchema(Schema):
    id = fields.Integer()
    list_id = fields.Integer()
    subject = fields.String()
    name = fields.String()
    reason = fields.String()
    filed_by = fields.String()
    filed_at = fields.DateTime()
    status = fields.String(metadata={"enum": ["open", "upheld", "dismissed"]})
    note = fields.String(allow_none=True)
    handled_by = fields.String(allow_none=True)
    handled_at = fields.DateTime(allow_none=True)


class AwardListSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    period = fields.String()
    subject_kind = fields.String()
    scheme = fields.String(allow_none=True)
    quota = fields.Integer()
    entries = fields.List(fields.Nested(ListEntrySchema))
    reserve = fields.List(fields.Nested(ListEntrySchema))
    status = fields.String(metadata={"enum": ["proposed", "final"]})
    proposed_at = fields.DateTime()
    window_ends = fields.DateTime(metadata={"description": "publicity ends (working days, local time)"})
    finalised_at = fields.DateTime(allow_none=True)
    open_for_objections = fields.Boolean()
    objections = fields.List(fields.Nested(ObjectionSchema))
    instance_id = fields.String(allow_none=True)


class AwardListArgsSchema(PageArgsSchema):
    period = fields.String(validate=PERIOD)


class UnitArchiveArgsSchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))


class UnitArchiveEntrySchema(Schema):
    at = fields.DateTime()
    kind = fields.String(metadata={"enum": ["award", "ranking", "bundled"]})
    title = fields.String()
    detail = fields.String()
    period = fields.String()
    points = fields.Float(allow_none=True)
    instance_id = fields.String(allow_none=True)


class UnitArchiveSchema(Schema):
    code = fields.String()
    name = fields.String()
    items = fields.List(fields.Nested(UnitArchiveEntrySchema))
