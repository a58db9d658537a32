"""People, groups, API tokens and login links."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema


class UserSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    groups = fields.List(fields.String())
    roles = fields.List(fields.String())


class UserUpsertSchema(Schema):
    """``PUT /users/{username}``: absent fields keep their value."""

    display_name = fields.String(validate=validate.Length(min=1, max=300))
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=200)))
    roles = fields.List(fields.String(validate=validate.OneOf(["admin", "oa-service"])))


class GroupSchema(Schema):
    name = fields.String()
    members = fields.List(fields.String())


class TokenSchema(Schema):
    username = fields.String()
    token = fields.String(metadata={"description": "shown once; only its digest is stored"})


class LoginLinkCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=200))
    next = fields.String(validate=validate.Length(min=1, max=2000), metadata={"description": "a path on this site, e.g. /tasks/<id>"})


class LoginLinkSchema(Schema):
    url = fields.String()
    expires_at = fields.DateTime()
