"""三好创争: an objection during publicity, a 躺平奖 nomination, and the receipt for either."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema

TEXT = validate.Length(min=1, max=4000)


class ObjectionFilingSchema(Schema):
    against = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the proposed award's subject: the town's code or a person's username"},
    )
    reason = fields.String(required=True, validate=TEXT)


class NominationSchema(Schema):
    nominee = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the username of a cadre holding a post in the town"},
    )
    reason = fields.String(required=True, validate=TEXT)


class FiledSchema(Schema):
    """What the filer learns: the instance it reached and that instance's status (not its data,
    which an objector from the public need not see)."""

    id = fields.String(required=True)
    status = fields.String(required=True)
