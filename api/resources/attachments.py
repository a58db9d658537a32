"""Attachments of an instance: upload a 军令状 or evidence, list them, download one."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from engine import AttachmentRecord

from ..auth import require_user
from ..extension import get_engine
from ..files import attachment_response
from ..schemas.attachments import AttachmentFileSchema, AttachmentFormSchema, AttachmentSchema
from .common import Blueprint, errors

MULTIPART_OVERHEAD = 64 * 1024  # the form's other parts and boundaries beside the file itself

blp = Blueprint(
    "Attachments",
    __name__,
    url_prefix="/api/v1",
    description="Files of an instance: the signed 军令状 of a claim, evidence of reports (PDF, PNG, JPEG).",
)


@blp.before_request
def _uploads_up_to_the_attachment_limit() -> None:
    if request.endpoint == f"{blp.name}.upload":
        request.max_content_length = current_app.config["ATTACHMENT_MAX_BYTES"] + MULTIPART_OVERHEAD


@blp.route("/process-instances/<instance_id>/attachments", methods=["POST"])
@blp.arguments(AttachmentFormSchema, location="form")
@blp.arguments(AttachmentFileSchema, location="files")
@blp.response(201, AttachmentSchema)
@errors(blp, 403, 404, 413, 422)
def upload(form: dict[str, Any], files: dict[str, Any], instance_id: str) -> AttachmentRecord:
    """Upload a file of the instance: a 军令状 (``kind=pledge``, anyone who may claim the challenge)
    or evidence (``kind=evidence``, whoever sees the instance). PDF, PNG or JPEG, checked by its bytes;
    larger than ``ATTACHMENT_MAX_BYTES`` (10 MB by default) is a 413."""
    file = files["file"]
    return get_engine().upload_attachment(
        instance_id,
        require_user().username,
        kind=form["kind"],
        filename=file.filename,
        content=file.read(),
        max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
    )


@blp.route("/process-instances/<instance_id>/attachments", methods=["GET"])
@blp.response(200, AttachmentSchema(many=True))
@errors(blp, 403, 404)
def list_attachments(instance_id: str) -> list[AttachmentRecord]:
    """The instance's attachments the caller may see, oldest first (their own 军令状 at least)."""
    return get_engine().list_attachments(instance_id, require_user().username)


@blp.route("/attachments/<attachment_id>", methods=["GET"])
@blp.response(200, content_type="application/octet-stream", description="the file's bytes as uploaded")
@errors(blp, 403, 404)
def download(attachment_id: str) -> Response:
    """Download an attachment, always as a file to save (never rendered in the browser)."""
    record, content = get_engine().download_attachment(attachment_id, require_user().username)
    return attachment_response(record, content)
