"""Attachments: an upload's form fields and file, and the stored file as the API shows it."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from engine import ATTACHMENT_KINDS

from .base import Schema


class AttachmentFormSchema(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(ATTACHMENT_KINDS),
        metadata={
            "description": "pledge: the signed 军令状 of a claim; evidence: for a progress or completion report"
        },
    )


class AttachmentFileSchema(Schema):
    """Multipart upload: one ``file`` part, a PDF, PNG or JPEG (read from its bytes)."""

    file = Upload(required=True)


class AttachmentSchema(Schema):
    id = fields.String()
    instance_id = fields.String()
    filename = fields.String()
    content_type = fields.String(metadata={"enum": ["application/pdf", "image/png", "image/jpeg"]})
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String()
    kind = fields.String(metadata={"enum": list(ATTACHMENT_KINDS)})
    uploaded_by = fields.String()
    created_at = fields.DateTime()
