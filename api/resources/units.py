"""The organisation over the API: unit trees (a root is a tenant), and importing a county from a file.

Handlers are thin: the engine checks who may change which tenant (``rules.may_manage_org``) and
answers another tenant's units as unknown (404).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Response, request

from engine import ImportInvalidError, OrgImportReport, UnitDetail

from ..auth import require_permission, require_user
from ..errors import problem
from ..exports import XLSX_MIMETYPE
from ..extension import get_engine
from ..schemas.common import offset_limit, page_schema, paged
from ..schemas.units import (
    ImportArgsSchema,
    ImportRefusedSchema,
    ImportReportSchema,
    ImportUploadSchema,
    UnitDetailSchema,
    UnitQueryArgsSchema,
    UnitSchema,
    UnitUpsertSchema,
)
from .common import Blueprint, errors

IMPORT_MAX_BYTES = 10 * 1024 * 1024  # a county's workbook; other requests keep MAX_CONTENT_LENGTH

blp = Blueprint(
    "Organisation",
    __name__,
    url_prefix="/api/v1",
    description="Units as trees (county → town/department → village/community/office); a root is a tenant.",
)

UnitPageSchema = page_schema(UnitSchema, "UnitPage")


@blp.before_request
def _larger_uploads_for_imports() -> None:
    if request.endpoint == f"{blp.name}.import_org":
        request.max_content_length = IMPORT_MAX_BYTES


@blp.route("/units", methods=["GET"])
@blp.arguments(UnitQueryArgsSchema, location="query")
@blp.response(200, UnitPageSchema)
@errors(blp, 422)
def list_units(args: dict[str, Any]) -> dict[str, Any]:
    """Units of the caller's tenant from the root down; filters ``parent``, ``kind``, ``q`` (name or code)."""
    me = require_user()
    page = get_engine().list_units(
        viewer=me.username,
        parent=args.get("parent"),
        kind=args.get("kind"),
        q=args.get("q"),
        **offset_limit(args),
    )
    return paged(page.items, page.total, args)


@blp.route("/units/<code>", methods=["GET"])
@blp.response(200, UnitDetailSchema)
@errors(blp, 404)
def get_unit(code: str) -> dict[str, Any]:
    """A unit with its children and members (``{username, display_name, post, rank}``)."""
    me = require_user()
    return _detail(get_engine().get_unit(code, viewer=me.username))


@blp.route("/units/<code>", methods=["PUT"])
@blp.arguments(UnitUpsertSchema)
@blp.response(200, UnitSchema)
@errors(blp, 403, 404, 409, 422)
def put_unit(body: dict[str, Any], code: str) -> Any:
    """Create or update a unit; without ``parent`` it is a new tenant (installation admins only).

    A unit moves within its tree with everything under it; never into another tenant or under
    itself (422), and a tenant's root stays a root (409).
    """
    me = require_permission("manage_org")
    return get_engine().put_unit(
        code,
        name=body["name"],
        kind=body["kind"],
        parent=body.get("parent"),
        attributes=body.get("attributes"),
        actor=me.username,
    )


@blp.route("/units/<code>", methods=["DELETE"])
@blp.response(204)
@errors(blp, 403, 404, 409)
def delete_unit(code: str) -> None:
    """Remove a unit; 409 while units sit under it, people hold posts in it or instances are filed under it."""
    me = require_permission("manage_org")
    get_engine().delete_unit(code, actor=me.username)


@blp.route("/imports/org", methods=["POST"])
@blp.arguments(ImportArgsSchema, location="query")
@blp.arguments(ImportUploadSchema, location="files")
@blp.response(200, ImportReportSchema)
@blp.alt_response(422, schema=ImportRefusedSchema, description="bad cells, each with sheet, row and column")
@errors(blp, 403, 413)
def import_org(args: dict[str, Any], files: dict[str, Any]) -> Any:
    """Import units and people from an .xlsx (sheets 单位 and 人员) or .csv, all or nothing.

    Any bad cell answers 422 listing every problem with its sheet, row and column, and nothing is
    written; ``?dry_run=1`` checks and counts only.
    """
    me = require_permission("manage_org")
    upload = files["file"]
    try:
        return _report(
            get_engine().import_org(
                upload.read(), upload.filename or "", dry_run=args["dry_run"], actor=me.username
            )
        )
    except ImportInvalidError as exc:
        report = exc.report
        assert isinstance(report, OrgImportReport)
        body = _report(report)
        return problem(422, exc.detail, title=exc.title, errors=body.pop("errors"), **body)


@blp.route("/imports/org/template", methods=["GET"])
@blp.response(200, content_type=XLSX_MIMETYPE, description="the .xlsx to fill in, with example rows")
@errors(blp)
def import_template() -> Response:
    """The organisation import template: sheets 单位 and 人员 with Chinese headers, examples and the kinds."""
    require_user()
    return Response(
        get_engine().org_template(),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": 'attachment; filename="org-template.xlsx"'},
    )


def _detail(detail: UnitDetail) -> dict[str, Any]:
    return {**dataclasses.asdict(detail.unit), "children": detail.children, "members": detail.members}


def _report(report: OrgImportReport) -> dict[str, Any]:
    return dataclasses.asdict(report)
