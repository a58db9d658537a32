"""Moving running instances to another version of their process (admins)."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema

_ID = fields.String(validate=validate.Length(min=1, max=200))


class MigrateArgsSchema(Schema):
    """``{process_key, from_version, to_version, mapping?, instance_ids?, dry_run?}``."""

    process_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    from_version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    to_version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    mapping = fields.Dict(
        keys=_ID,
        values=_ID,
        load_default=dict,
        validate=validate.Length(max=1000),
        metadata={"description": "old element id -> new element id, for renamed or split elements"},
    )
    instance_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "only these instances (default: every running one of from_version)"},
    )
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "say what would happen, change nothing"}
    )


class MigrationProblemSchema(Schema):
    element_id = fields.String(allow_none=True)
    kind = fields.String(
        metadata={
            "description": "no_target | type_changed | not_carried | fails | status | version | conflict "
            "(these keep the instance where it is) | timer_changed | form_changed | done_removed (told only)"
        }
    )
    message = fields.String(metadata={"description": "in words, English / 中文"})
    blocking = fields.Boolean()


class MigrationItemSchema(Schema):
    id = fields.String()
    ok = fields.Boolean(metadata={"description": "moved (or, in a dry run, would move)"})
    problems = fields.List(fields.Nested(MigrationProblemSchema))


class MigrationResultSchema(Schema):
    items = fields.List(fields.Nested(MigrationItemSchema))
    moved = fields.Integer()
    total = fields.Integer()
    dry_run = fields.Boolean()
