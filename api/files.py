"""Stored attachments as the API and the pages hand them out: always a download, never rendered.

A file someone uploaded is served with the type its bytes were found to be, ``nosniff`` and a
sandboxing CSP, so a crafted PDF or image cannot run as a page of Jinja's origin.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from engine import AttachmentRecord


def attachment_response(record: AttachmentRecord, content: bytes) -> Response:
    """The bytes as a download: the stored type, ``nosniff``, and the name in RFC 6266 form."""
    ascii_name = record.filename.encode("ascii", "ignore").decode().replace('"', "").strip() or "file"
    return Response(
        content,
        mimetype=record.content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(record.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
