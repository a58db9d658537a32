"""Campaigns (年度榜单, 批次): creating one, its counts, the list import's outcome, statistics."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from .base import Schema
from .common import PageArgsSchema

DURATION = validate.Regexp(
    r"^P(?:\d+W|(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)$",
    error="an ISO 8601 duration such as P14D / 须为 ISO 8601 时长，如 P14D",
)
GROUPINGS = ("category", "unit", "rank", "status", "month")
CLAIM_RANKS = fields.List(
    fields.String(validate=validate.Length(min=1, max=50)),
    validate=validate.Length(max=20),
    metadata={
        "description": "only cadres holding a post of one of these ranks claim (科级, 股级); empty: anyone"
    },
)


class CampaignCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    organiser_unit = fields.String(required=True, validate=validate.Length(min=1, max=64))
    process_key = fields.String(load_default="claim_evaluate", validate=validate.Length(min=1, max=200))
    categories = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    submission_deadline = fields.AwareDateTime(allow_none=True)
    claim_ranks = CLAIM_RANKS
    key_prefix = fields.String(
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9_-]{0,38}$", error="letters, digits, '-' or '_' / 字母数字"
        ),
        metadata={"description": "business keys are this prefix and the problem's number, e.g. LN2026-"},
    )
    list_approved = fields.Boolean(
        load_default=False,
        metadata={"description": "the list was selected already: imported problems wait for publication"},
    )
    claim_window = fields.String(validate=DURATION, metadata={"description": "given at publication; P14D"})
    report_interval = fields.String(validate=DURATION, metadata={"description": "given at publication; P30D"})


class CampaignUpdateSchema(Schema):
    claim_ranks = CLAIM_RANKS


class CampaignSchema(Schema):
    id = fields.Integer()
    tenant = fields.String(allow_none=True)
    title = fields.String()
    year = fields.Integer()
    organiser_unit = fields.String()
    process_key = fields.String()
    categories = fields.List(fields.String())
    submission_deadline = fields.DateTime(allow_none=True)
    key_prefix = fields.String()
    list_approved = fields.Boolean()
    claim_window = fields.String()
    report_interval = fields.String()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    claim_ranks = fields.List(fields.String())
    problems = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer())


class ImportArgsSchema(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "1: check the list, write nothing"})


class ImportFileSchema(Schema):
    """Multipart upload: one ``file`` part, the .xlsx list as the template lays it out."""

    file = Upload(required=True)


class RowErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "the sheet's row; the header is row 1"})
    column = fields.String(metadata={"description": "the column's header, e.g. 类别"})
    message = fields.String()


class ImportResultSchema(Schema):
    imported = fields.Integer()
    instances = fields.List(fields.String())
    skipped = fields.List(fields.Integer(), metadata={"description": "编号 already in the campaign"})
    errors = fields.List(fields.Nested(RowErrorSchema))
    dry_run = fields.Boolean()


class PublishResultSchema(Schema):
    published = fields.Integer()
    instances = fields.List(fields.String())


class StatsArgsSchema(Schema):
    by = fields.String(load_default="category", validate=validate.OneOf(GROUPINGS))


class StatRowSchema(Schema):
    key = fields.String()
    problems = fields.Integer()
    claimed = fields.Integer()
    solved = fields.Integer()
    overdue = fields.Integer()
    people = fields.Integer()


class StatsSchema(Schema):
    by = fields.String()
    items = fields.List(fields.Nested(StatRowSchema))


class CampaignListArgsSchema(PageArgsSchema):
    pass


class AssessmentOpenedSchema(Schema):
    opened = fields.Integer(metadata={"description": "items given a year-end assessment task now"})
    instances = fields.List(fields.String())
    passed_over = fields.Integer(
        metadata={"description": "running items finished, assessed or already open: nothing opened twice"}
    )


class AssessmentRowSchema(Schema):
    instance_id = fields.String()
    number = fields.Integer()
    title = fields.String()
    lead_unit_name = fields.String()
    claimants = fields.List(fields.String(), metadata={"description": "display names, the leader first"})
    status = fields.String()
    progress_percent = fields.Integer(allow_none=True)
    rag = fields.String(allow_none=True)
    verdict = fields.String(allow_none=True, metadata={"description": "solved | unsolved | carry_over"})
    verdict_comment = fields.String()
    automatic = fields.Boolean(metadata={"description": "the verdict follows from its finished acceptance"})
    task_id = fields.String(allow_none=True, metadata={"description": "the open year_end_assessment task"})
    carried_to = fields.String(allow_none=True)
    viewable = fields.Boolean(metadata={"description": "the caller may open its instance (its history)"})
    public = fields.Boolean(metadata={"description": "the caller may read it on the board"})


class AssessmentSheetSchema(Schema):
    items = fields.List(fields.Nested(AssessmentRowSchema))


class CarryOverSchema(Schema):
    to_campaign = fields.Integer(required=True, validate=validate.Range(min=1))


class CarryOverResultSchema(Schema):
    carried = fields.Integer()
    instances = fields.List(fields.String(), metadata={"description": "the new items of to_campaign"})
    already = fields.List(fields.String(), metadata={"description": "old items carried before"})


class RecommendationSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    kind = fields.String(metadata={"description": "重点培养 | 提拔使用"})
    reason = fields.String()
    instance_id = fields.String()
    number = fields.Integer(allow_none=True)
    title = fields.String()
    at = fields.DateTime(allow_none=True)


class CampaignReportSchema(Schema):
    campaign_id = fields.Integer()
    title = fields.String()
    problems = fields.Integer()
    solved = fields.Integer()
    unsolved = fields.Integer()
    carried_over = fields.Integer()
    not_assessed = fields.Integer()
    people_recommended = fields.Integer()
    recommendations = fields.List(fields.Nested(RecommendationSchema))


class ArchiveEntrySchema(Schema):
    at = fields.DateTime(allow_none=True)
    kind = fields.String(
        metadata={"description": "claim | report | acceptance | assessment | score | recommendation"}
    )
    instance_id = fields.String()
    title = fields.String()
    detail = fields.String()
    campaign_id = fields.Integer(allow_none=True)
    campaign_title = fields.String()
    points = fields.Float(allow_none=True)


class ArchiveArgsSchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))


class ArchiveSchema(Schema):
    username = fields.String()
    items = fields.List(fields.Nested(ArchiveEntrySchema))
