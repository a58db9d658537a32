"""Process definitions (the deployed process models)."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields

from .base import Schema


class DefinitionSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String(metadata={"description": "the process's name in the diagram (Chinese)"})
    name_en = fields.String(
        allow_none=True,
        metadata={
            "description": "the process's English name (its name_en property); null when the diagram has none"
        },
    )
    lanes = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "lane -> who works it (group:x, starter, data:field)"},
    )
    forms = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "element id -> form file"}
    )
    created_at = fields.DateTime()
    deployed_by = fields.String(allow_none=True)
    notes = fields.List(fields.String())
    versions = fields.List(fields.Integer())


class DeployArgsSchema(Schema):
    """Multipart upload: one or more ``file`` parts (.bpmn, .dmn, form .json)."""

    file = fields.List(Upload(), required=True)


class DeployResultSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String()


class ValidationResultSchema(Schema):
    """Files that would deploy: no problems (invalid ones answer 422 with ``problems``)."""

    problems = fields.List(
        fields.Dict(),
        metadata={"description": "always empty here; the 422 lists each problem with its element_id"},
    )


class PropertyChangeSchema(Schema):
    property = fields.String(
        metadata={"description": "name, condition, script, timer, lane, property:<name>, form content, …"}
    )
    before = fields.String(allow_none=True)
    after = fields.String(allow_none=True)


class DiffElementSchema(Schema):
    type = fields.String(metadata={"description": "the BPMN element type, e.g. userTask"})
    name = fields.String()
    changes = fields.List(fields.Nested(PropertyChangeSchema))


class DiffArgsSchema(Schema):
    from_ = fields.Integer(
        data_key="from", metadata={"description": "the older version; default: the one before `to`"}
    )
    to = fields.Integer(metadata={"description": "the newer version; default: the newest"})


class DefinitionDiffSchema(Schema):
    """Element ids added, removed and changed from one version to another; ``elements`` describes each."""

    key = fields.String()
    from_ = fields.Integer(data_key="from", attribute="from_version")
    to = fields.Integer(attribute="to_version")
    added = fields.List(fields.String())
    removed = fields.List(fields.String())
    changed = fields.List(fields.String())
    elements = fields.Dict(keys=fields.String(), values=fields.Nested(DiffElementSchema))
    files_added = fields.List(fields.String())
    files_removed = fields.List(fields.String())
    files_changed = fields.List(
        fields.String(), metadata={"description": "forms and decision tables whose content differs"}
    )


class AnalyticsArgsSchema(Schema):
    since = fields.AwareDateTime(metadata={"description": "from (default: 30 days before `until`)"})
    until = fields.AwareDateTime(metadata={"description": "to, excluded (default: now)"})


class ElementStatsSchema(Schema):
    element_id = fields.String()
    name = fields.String(metadata={"description": "the element's name in the diagram"})
    passed = fields.Integer(metadata={"description": "completed in the period"})
    wait_p50_s = fields.Float(allow_none=True, metadata={"description": "median wait, arrival to completion"})
    wait_p95_s = fields.Float(allow_none=True)
    open = fields.Integer(metadata={"description": "waiting now"})
    overdue = fields.Integer(metadata={"description": "waiting now past their due time"})


class AnalyticsSchema(Schema):
    key = fields.String()
    since = fields.DateTime()
    until = fields.DateTime()
    items = fields.List(fields.Nested(ElementStatsSchema))
