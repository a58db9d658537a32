"""Attachments: the signed 军令状 of a claim and the evidence of reports, stored in the database
(``service.py`` says why). ``AttachmentsMixin`` gives ``Engine`` its attachment methods; each opens
one step and calls one function of ``service.py``.
"""

from __future__ import annotations

from ..runtime.step import Steps
from . import service
from .service import DEFAULT_MAX_BYTES, KINDS, AttachmentRecord

__all__ = ["DEFAULT_MAX_BYTES", "KINDS", "AttachmentRecord", "AttachmentsMixin"]


class AttachmentsMixin:
    """The façade's attachment methods (``Engine`` inherits them)."""

    steps: Steps

    def _install_attachments(self) -> None:
        service.install(self.steps)

    def upload_attachment(
        self,
        instance_id: str,
        actor: str,
        *,
        kind: str,
        filename: str | None,
        content: bytes,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> AttachmentRecord:
        """Store a 军令状 (``pledge``: anyone who may claim the challenge) or ``evidence`` (whoever
        sees the instance); PDF, PNG or JPEG by their bytes, at most ``max_bytes`` (413 beyond)."""
        with self.steps.write(actor) as step:
            return service.upload(step, instance_id, kind, filename, content, max_bytes=max_bytes)

    def list_attachments(self, instance_id: str, viewer: str) -> list[AttachmentRecord]:
        """The instance's attachments ``viewer`` may see, oldest first."""
        with self.steps.read(viewer) as step:
            return service.listing(step.session, viewer, instance_id)

    def download_attachment(self, attachment_id: str, viewer: str) -> tuple[AttachmentRecord, bytes]:
        """One attachment and its bytes, for whoever may see its instance (or uploaded it)."""
        with self.steps.read(viewer) as step:
            return service.download(step.session, viewer, attachment_id)
