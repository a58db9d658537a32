"""Process definitions: deploy diagrams, list them, read their XML."""

from __future__ import annotations

from typing import Any

from flask import Response

from engine import (
    DefinitionDiff,
    DefinitionInvalidError,
    DefinitionRecord,
    InvalidInputError,
    NotFoundError,
    ProcessAnalytics,
)

from ..auth import require_permission, require_user
from ..extension import get_engine
from ..schemas.common import PageArgsSchema, page_schema, sliced
from ..schemas.definitions import (
    AnalyticsArgsSchema,
    AnalyticsSchema,
    DefinitionDiffSchema,
    DefinitionSchema,
    DeployArgsSchema,
    DeployResultSchema,
    DiffArgsSchema,
    ValidationResultSchema,
)
from .common import Blueprint, errors

blp = Blueprint(
    "Process definitions",
    __name__,
    url_prefix="/api/v1/process-definitions",
    description="Deployed process models (BPMN, DMN, forms).",
)

DefinitionPageSchema = page_schema(DefinitionSchema, "DefinitionPage")
ALLOWED_SUFFIXES = (".bpmn", ".dmn", ".json", ".xml")


@blp.route("", methods=["POST"])
@blp.arguments(DeployArgsSchema, location="files")
@blp.response(201, DeployResultSchema)
@errors(blp, 403, 413, 422)
def deploy(files: dict[str, Any]) -> DefinitionRecord:
    """Deploy one or more .bpmn/.dmn files as the next version of their process key (admins).

    An invalid diagram is refused with 422 and ``problems``, each naming its element id.
    """
    user = require_permission("deploy")
    return get_engine().deploy(_uploads(files), actor=user.username)


@blp.route("/validate", methods=["POST"])
@blp.arguments(DeployArgsSchema, location="files")
@blp.response(200, ValidationResultSchema)
@errors(blp, 403, 413, 422)
def validate(files: dict[str, Any]) -> dict[str, Any]:
    """Check .bpmn/.dmn files as a deployment would, storing nothing (admins).

    Valid files answer 200 with no ``problems``; invalid ones the 422 that deploying them would
    get, with ``problems``, each naming its element id.
    """
    require_permission("deploy")
    problems = get_engine().validate(_uploads(files))
    if problems:
        raise DefinitionInvalidError(
            f"{len(problems)} problem(s) in the diagrams / 流程图有 {len(problems)} 处问题", problems
        )
    return {"problems": []}


def _uploads(files: dict[str, Any]) -> dict[str, bytes]:
    """The multipart ``file`` parts by name; a part of another kind is refused (422) before anything is read."""
    uploads: dict[str, bytes] = {}
    for upload in files["file"]:
        name = upload.filename or ""
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            raise InvalidInputError(
                f"unsupported file '{name}'",
                {"file": [f"{name or '(unnamed)'}: .bpmn, .dmn or .json only / 仅支持 .bpmn、.dmn、.json"]},
            )
        uploads[name] = upload.read()
    return uploads


@blp.route("", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, DefinitionPageSchema)
@errors(blp, 422)
def list_definitions(args: dict[str, Any]) -> dict[str, Any]:
    """The latest version of each process definition."""
    return sliced(get_engine().list_definitions(viewer=require_user().username), args)


@blp.route("/<key>", methods=["GET"])
@blp.response(200, DefinitionSchema)
@errors(blp, 404)
def get_definition(key: str) -> DefinitionRecord:
    """The latest version of a definition, its lane mapping and all its versions."""
    return get_engine().get_definition(key, viewer=require_user().username)


@blp.route("/<key>/versions/<int:version>/xml", methods=["GET"])
@blp.response(200, content_type="application/xml", description="the deployed BPMN XML")
@errors(blp, 404)
def get_xml(key: str, version: int) -> Response:
    """The BPMN XML of one deployed version."""
    files = get_engine().definition_files(key, version, viewer=require_user().username)
    bpmn = [text for name, text in sorted(files.items()) if name.lower().endswith(".bpmn")]
    if not bpmn:
        raise NotFoundError(f"{key} v{version} has no BPMN file")
    return Response(bpmn[0], mimetype="application/xml")


@blp.route("/<key>/diff", methods=["GET"])
@blp.arguments(DiffArgsSchema, location="query")
@blp.response(200, DefinitionDiffSchema)
@errors(blp, 403, 404, 422)
def diff(args: dict[str, Any], key: str) -> dict[str, Any]:
    """What changed between two versions (designers and admins): element ids added, removed and
    changed, each changed element's properties before and after, and the forms and decision tables
    whose content differs. Layout moves are not changes."""
    user = require_permission("deploy")
    found = get_engine().diff_definition(
        key, from_version=args.get("from_"), to_version=args.get("to"), viewer=user.username
    )
    return diff_body(found)


def diff_body(found: DefinitionDiff) -> dict[str, Any]:
    """The diff as the API and the designer's comparison page give it."""
    elements: dict[str, Any] = {}
    for item in (*found.added, *found.removed):
        elements[item.id] = {"type": item.type, "name": item.name, "changes": []}
    for change in found.changed:
        elements[change.id] = {"type": change.type, "name": change.name, "changes": change.changes}
    return {
        "key": found.key,
        "from_version": found.from_version,
        "to_version": found.to_version,
        "added": [e.id for e in found.added],
        "removed": [e.id for e in found.removed],
        "changed": [e.id for e in found.changed],
        "elements": elements,
        "files_added": found.files_added,
        "files_removed": found.files_removed,
        "files_changed": found.files_changed,
    }


@blp.route("/<key>/analytics", methods=["GET"])
@blp.arguments(AnalyticsArgsSchema, location="query")
@blp.response(200, AnalyticsSchema)
@errors(blp, 403, 404, 422)
def analytics(args: dict[str, Any], key: str) -> ProcessAnalytics:
    """Where work waits (designers and admins): per element, over ``[since, until)`` (default the
    last 30 days), how many passed, the median and 95th-percentile wait from arrival to completion,
    how many wait now and how many of those are overdue."""
    user = require_permission("deploy")
    return get_engine().analytics(key, since=args.get("since"), until=args.get("until"), viewer=user.username)
