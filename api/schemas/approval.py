"""The Chinese approval operations: request bodies and the shapes they return."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema
from .tasks import TaskSchema

COMMENT = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class HandOverSchema(Schema):
    to = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"description": "username"}
    )
    comment = COMMENT


class AddSignersSchema(Schema):
    usernames = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    mode = fields.String(required=True, validate=validate.OneOf(("before", "after", "parallel")))
    comment = COMMENT


class SignerListSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema), metadata={"description": "one sign task per signer"})


class ReturnSchema(Schema):
    to_element_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    comment = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReturnTargetSchema(Schema):
    element_id = fields.String()
    name = fields.String()
    task_id = fields.String()


class ReturnTargetListSchema(Schema):
    items = fields.List(
        fields.Nested(ReturnTargetSchema), metadata={"description": "newest first; the first is the default"}
    )


class CommentOnlySchema(Schema):
    comment = COMMENT


class CopySchema(Schema):
    usernames = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        required=True,
        validate=validate.Length(min=1, max=200),
    )


class CopyResultSchema(Schema):
    added = fields.List(
        fields.String(), metadata={"description": "people newly copied (the others already were)"}
    )
