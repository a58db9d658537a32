"""The process designer (流程设计, admins): definitions and versions, the bpmn-js modeler and the
dmn-js editor on the latest version, validate (problems pinned to elements) and deploy."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request

from engine import DefinitionInvalidError, EngineError, NotFoundError

from .common import current_user, get_engine, permission_required

bp = Blueprint("designer", __name__, url_prefix="/designer")

MAX_FILES = 10


@bp.get("")
@permission_required("deploy")
def index():
    """Every process definition with its versions and their files."""
    engine = get_engine()
    rows = []
    for latest in engine.list_definitions():
        full = engine.get_definition(latest.key)
        files = {v: sorted(engine.definition_files(latest.key, v)) for v in full.versions}
        rows.append({"definition": full, "files": files})
    return render_template("pages/designer/index.html", rows=rows)


@bp.get("/<key>")
@permission_required("deploy")
def edit(key: str):
    """Open the modeler on the latest version (or ``?version=``) of one definition."""
    engine = get_engine()
    try:
        definition = engine.get_definition(key, request.args.get("version", type=int))
        files = engine.definition_files(key, definition.version)
    except NotFoundError:
        abort(404)
    bpmn = {n: x for n, x in sorted(files.items()) if n.endswith(".bpmn")}
    dmn = {n: x for n, x in sorted(files.items()) if n.endswith(".dmn")}
    return render_template("pages/designer/edit.html", definition=definition, bpmn=bpmn, dmn=dmn)


@bp.get("/<key>/versions/<int:version>/files/<path:filename>")
@permission_required("deploy")
def download(key: str, version: int, filename: str):
    """Download one file of one deployed version."""
    try:
        files = get_engine().definition_files(key, version)
    except NotFoundError:
        abort(404)
    if filename not in files:
        abort(404)
    return Response(files[filename], mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{key}-v{version}-{filename}"'})


def _files_from_request() -> dict[str, bytes]:
    body = request.get_json(silent=True) or {}
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict) or not files or len(files) > MAX_FILES:
        abort(400, description="files: {name: xml} expected")
    out = {}
    for name, xml in files.items():
        if not isinstance(name, str) or not isinstance(xml, str) or not name.endswith((".bpmn", ".dmn")) or "/" in name:
            abort(400, description="only .bpmn and .dmn files")
        out[name] = xml.encode()
    return out


def _problems(problems) -> list[dict]:
    return [p.as_dict() for p in problems]


@bp.post("/validate")
@permission_required("deploy")
def validate():
    """Check diagrams without deploying; problems carry the element id they belong to."""
    try:
        problems = get_engine().validate(_files_from_request())
    except DefinitionInvalidError as exc:
        problems = exc.problems
    return jsonify({"problems": _problems(problems)})


@bp.post("/deploy")
@permission_required("deploy")
def deploy():
    """Deploy the edited diagrams as the next version of their key."""
    try:
        record = get_engine().deploy(_files_from_request(), actor=current_user().username)
    except DefinitionInvalidError as exc:
        return jsonify({"problems": _problems(exc.problems), "detail": exc.detail}), 422
    except EngineError as exc:
        return jsonify({"problems": [], "detail": exc.detail}), 422
    return jsonify({"key": record.key, "version": record.version, "name": record.name}), 201
