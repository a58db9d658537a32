"""Attachments on the pages: download a 军令状 or evidence, and upload evidence from an instance's
or a task's page. Who sees and uploads what is the engine's rulebook, as for the API."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from engine import AttachmentRecord, EngineError, NotAllowedError, NotFoundError

from ..files import attachment_response
from .common import current_user, get_engine, login_required, one_language

bp = Blueprint("attachments", __name__)


@bp.get("/attachments/<attachment_id>")
@login_required
def download(attachment_id: str):
    """Download an attachment one may see (as a file, never shown inline)."""
    try:
        record, content = get_engine().download_attachment(attachment_id, current_user().username)
    except NotFoundError:
        abort(404)
    except NotAllowedError:
        abort(403)
    return attachment_response(record, content)


@bp.post("/instances/<instance_id>/attachments")
@login_required
def upload(instance_id: str):
    """Upload a file (evidence, or a 军令状) and go back to the page it was sent from."""
    back = _back(instance_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("请选择要上传的文件"), "error")
        return redirect(back)
    try:
        get_engine().upload_attachment(
            instance_id,
            current_user().username,
            kind=request.form.get("kind", "evidence"),
            filename=file.filename,
            content=file.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1),
            max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
        )
    except EngineError as exc:
        flash(one_language(exc.detail if not getattr(exc, "errors", None) else _first(exc)), "error")
        return redirect(back)
    flash(_("附件已上传"))
    return redirect(back)


def _first(exc: EngineError) -> str:
    errors = getattr(exc, "errors", None) or {}
    return next((m for msgs in errors.values() for m in msgs), exc.detail)


def _back(instance_id: str) -> str:
    """Where the upload came from: a page of this site (a task's), else the instance's page."""
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("instances.show", instance_id=instance_id)


def visible(instance_id: str) -> list[AttachmentRecord]:
    """The instance's attachments the current user may see (none when they may see none)."""
    try:
        return get_engine().list_attachments(instance_id, current_user().username)
    except EngineError:
        return []
