"""The process designer (流程设计, admins): definitions and versions, the bpmn-js modeler and the
dmn-js editor on the latest version. Its script validates and deploys through the REST API
(``POST /api/v1/process-definitions[/validate]``) with the session cookie and CSRF header."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from engine import NotFoundError

from .common import current_user, get_engine, permission_required

bp = Blueprint("designer", __name__, url_prefix="/designer")


@bp.get("")
@permission_required("deploy")
def index():
    """Every process definition with its versions and their files."""
    engine, me = get_engine(), current_user().username
    rows = []
    for latest in engine.list_definitions(viewer=me):
        full = engine.get_definition(latest.key, viewer=me)
        files = {v: sorted(engine.definition_files(latest.key, v, viewer=me)) for v in full.versions}
        rows.append({"definition": full, "files": files})
    return render_template("pages/designer/index.html", rows=rows)


@bp.get("/<key>")
@permission_required("deploy")
def edit(key: str):
    """Open the modeler on the latest version (or ``?version=``) of one definition."""
    engine = get_engine()
    try:
        me = current_user().username
        definition = engine.get_definition(key, request.args.get("version", type=int), viewer=me)
        files = engine.definition_files(key, definition.version, viewer=me)
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
        files = get_engine().definition_files(key, version, viewer=current_user().username)
    except NotFoundError:
        abort(404)
    if filename not in files:
        abort(404)
    return Response(
        files[filename],
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{key}-v{version}-{filename}"'},
    )
