"""People, groups, API tokens and login links."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema
from .units import PostSchema


class UserSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    groups = fields.List(fields.String())
    roles = fields.List(fields.String())
    active = fields.Boolean(
        metadata={"description": "false: the user cannot log in and their tokens and sessions are refused"}
    )
    tenant = fields.String(
        allow_none=True,
        metadata={"description": "the county (root unit) the user belongs to; null: the installation"},
    )
    units = fields.List(
        fields.Nested(PostSchema),
        metadata={"description": "the posts the user holds: {unit, post, rank}"},
    )


class UserUpsertSchema(Schema):
    """``PUT /users/{username}``: absent fields keep their value."""

    display_name = fields.String(validate=validate.Length(min=1, max=300))
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=200)))
    roles = fields.List(
        fields.String(
            validate=validate.Regexp(
                r"^(admin|oa-service)(@[A-Za-z0-9][A-Za-z0-9_.-]{0,63})?$",
                error="admin or oa-service, optionally scoped to a unit: admin@<unit code> / 角色无效",
            )
        ),
        metadata={
            "description": "``admin``, ``oa-service``, or either scoped to a unit's subtree: ``admin@<unit>``"
        },
    )
    active = fields.Boolean(
        metadata={
            "description": "false deactivates: tokens and web sessions stop at once, held tasks go back "
            "to their groups' queue; true restores login (not the tasks)"
        }
    )
    units = fields.List(
        fields.Nested(PostSchema),
        validate=validate.Length(max=50),
        metadata={"description": "replaces the posts the user holds; all in one tenant"},
    )


class GroupSchema(Schema):
    name = fields.String()
    members = fields.List(fields.String())


class TokenSchema(Schema):
    """A newly issued token: the only response that carries the secret."""

    id = fields.Integer()
    username = fields.String()
    token = fields.String(metadata={"description": "shown once; only its digest is stored"})
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "null: never expires"})


class TokenCreateSchema(Schema):
    """``POST /users/{username}/tokens`` (body optional)."""

    expires_in = fields.String(
        validate=validate.Length(min=1, max=20),
        metadata={
            "description": "lifetime such as 90d, 12h, 30m, or never; default: the server's JIEBANG_TOKEN_EXPIRES_IN"
        },
    )


class TokenInfoSchema(Schema):
    """A token as listed: never the secret."""

    id = fields.Integer()
    username = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True, metadata={"description": "to the minute"})
    revoked_at = fields.DateTime(allow_none=True)
    status = fields.String(metadata={"description": "active | expired | revoked"})


class TokenListArgsSchema(Schema):
    """``GET /tokens``: your own tokens; an admin may name another user."""

    username = fields.String(validate=validate.Length(min=1, max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class LoginLinkCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=200))
    next = fields.String(
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "a path on this site, e.g. /tasks/<id>"},
    )


class LoginLinkSchema(Schema):
    url = fields.String()
    expires_at = fields.DateTime()
