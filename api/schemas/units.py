"""The organisation: units (counties, towns, villages…), the people in their posts, org imports."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from .base import Schema

UNIT_KINDS = ("county", "town", "department", "village", "community", "office", "company", "team")


class UnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": list(UNIT_KINDS)})
    parent = fields.String(allow_none=True, metadata={"description": "null: the unit is a tenant's root"})
    attributes = fields.Dict(
        keys=fields.String(), metadata={"description": "e.g. {村类别: 深度贫困村 | 一般贫困村 | 非贫困村}"}
    )


class MemberSchema(Schema):
    """A person holding a post in a unit."""

    username = fields.String()
    display_name = fields.String()
    post = fields.String(metadata={"example": "书记"})
    rank = fields.String(allow_none=True, metadata={"example": "科级"})


class UnitDetailSchema(UnitSchema):
    children = fields.List(fields.Nested(UnitSchema))
    members = fields.List(fields.Nested(MemberSchema))


class UnitUpsertSchema(Schema):
    """``PUT /units/{code}``: no ``parent`` makes the unit a new tenant (installation admins only)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    parent = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    attributes = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=100)))


class UnitQueryArgsSchema(Schema):
    """``GET /units``: filters and paging."""

    parent = fields.String(validate=validate.Length(min=1, max=64))
    kind = fields.String(validate=validate.OneOf(UNIT_KINDS))
    q = fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": "part of a name or code"}
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PostSchema(Schema):
    """A post a user holds: ``{unit, post, rank?}``."""

    unit = fields.String(required=True, validate=validate.Length(min=1, max=64))
    post = fields.String(
        required=True, validate=validate.Length(min=1, max=100), metadata={"example": "驻村第一书记"}
    )
    rank = fields.String(allow_none=True, validate=validate.Length(max=50), metadata={"example": "股级"})


class ImportArgsSchema(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "1: check only, write nothing"})


class ImportUploadSchema(Schema):
    """Multipart: one ``file`` part, .xlsx (sheets 单位 and 人员) or .csv (one of them)."""

    file = Upload(required=True)


class ImportProblemSchema(Schema):
    sheet = fields.String(metadata={"example": "单位"})
    row = fields.Integer(metadata={"description": "as the spreadsheet numbers it (the header is row 1)"})
    column = fields.String(metadata={"example": "上级编码"})
    message = fields.String(metadata={"example": "上级单位 xx 不存在（文件和系统中都没有）"})


class CountsSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()


class ImportReportSchema(Schema):
    units = fields.Nested(CountsSchema)
    users = fields.Nested(CountsSchema)
    errors = fields.List(fields.Nested(ImportProblemSchema))


class ImportRefusedSchema(ImportReportSchema):
    """422: problem+json (type, title, status, detail) with the report; nothing was written."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
