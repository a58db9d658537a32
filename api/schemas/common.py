"""Shapes shared by every resource: the problem document and pagination."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from .base import Schema


class ProblemSchema(Schema):
    """RFC 9457 problem details; ``api.errors`` renders every error in this shape."""

    type = fields.String(metadata={"example": "urn:jiebang:problem:not-found"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "field path -> messages"},
    )
    problems = fields.List(
        fields.Dict(), metadata={"description": "diagram problems, each with its element_id"}
    )


class PageArgsSchema(Schema):
    """``?page=1&per_page=50``."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


def page_schema(item: type[Schema], name: str, **extra: fields.Field) -> type[Schema]:
    """``{items, total, page, per_page}`` around ``item`` (plus ``extra`` fields)."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "total": fields.Integer(),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            **extra,
        },
        name=name,
    )


def paged(items: list[Any], total: int, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"], **extra}


def sliced(items: list[Any], args: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Page a list the engine returns whole."""
    start = (args["page"] - 1) * args["per_page"]
    return paged(items[start : start + args["per_page"]], len(items), args, **extra)


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=200),
        metadata={"description": "a retry with the same key and body returns the first result"},
    )


def offset_limit(args: dict[str, Any]) -> dict[str, int]:
    """Page arguments as the Engine's ``offset, limit``."""
    return {"offset": (args["page"] - 1) * args["per_page"], "limit": args["per_page"]}
