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
