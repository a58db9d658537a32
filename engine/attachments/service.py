"""The attachment store: signed 军令状 of claims and evidence of progress and completion reports.

The bytes live in the database (``attachments.content``, a LargeBinary), beside their instance:
simple to run (no second store to back up or to keep in step with the database) and
transactional (an upload commits or rolls back with its audit row, and a report that cites an
attachment sees it or nothing). Files are small (``DEFAULT_MAX_BYTES``, configurable) and few per
problem, so this is the right trade for a county's installation.

Nothing the client says about a file is trusted: its type is read from its first bytes (PDF,
PNG, JPEG only), its name is cut to a plain file name, its size and SHA-256 are computed here.
Who sees an instance's attachments is ``rules.py``'s (``read_attachments``, ``attach_pledge``,
``attach_evidence``); a cadre also sees the 军令状 they uploaded themselves, before any claim.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rules
from ..errors import FormInvalidError, InvalidInputError, NotFoundError, TooLargeError
from ..runtime.step import Step, Steps
from ..tables import HumanTask, Instance
from ..vocabulary import Event
from .tables import Attachment

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
KINDS = ("pledge", "evidence")  # 军令状, 佐证材料
REPORT_FORMS = ("progress_report.schema.json", "completion_report.schema.json")
MAX_PER_REPORT = 20
#: What a file is, by its first bytes: the only types the store keeps.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


@dataclass(frozen=True)
class AttachmentRecord:
    """An attachment without its bytes."""

    id: str
    instance_id: str
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime


def install(steps: Steps) -> None:
    steps.completion_checks.append(check_report)


def sniff(content: bytes) -> str | None:
    """The content type the bytes are, among the kept ones; ``None`` for anything else."""
    return next((kind for magic, kind in SIGNATURES if content.startswith(magic)), None)


def clean_filename(raw: str | None) -> str:
    """A plain file name: no folders, no control characters, at most 200 characters."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return name[-200:] or "file"


def upload(
    step: Step, instance_id: str, kind: str, filename: str | None, content: bytes, *, max_bytes: int
) -> AttachmentRecord:
    """Store one file of ``instance_id``: a 军令状 (``pledge``) or evidence; refused unless PDF/PNG/JPEG."""
    s, actor = step.session, rules.actor_of(step.session, step.actor or "")
    row = step.instance(instance_id)
    rules.require_tenant(actor, row)  # another tenant's instance: 404 before anything else
    if kind not in KINDS:
        raise InvalidInputError("unknown kind", {"kind": ["pledge or evidence / 须为 pledge 或 evidence"]})
    rules.require(f"attach_{kind}", actor, row)
    if len(content) > max_bytes:
        raise TooLargeError(
            f"the file is {len(content)} bytes; at most {max_bytes} / 文件超过 {max_bytes // (1024 * 1024)} MB"
        )
    content_type = sniff(content)
    if content_type is None:
        raise InvalidInputError(
            "not a PDF, PNG or JPEG file",
            {"file": ["only PDF, PNG or JPEG files / 仅接受 PDF、PNG 或 JPEG 文件"]},
        )
    stored = Attachment(
        id=str(uuid.uuid4()),
        tenant=row.tenant,
        instance_id=row.id,
        kind=kind,
        filename=clean_filename(filename),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=actor.username,
        created_at=step.now,
        content=content,
    )
    s.add(stored)
    s.flush()
    step.record(
        Event.ATTACHMENT_UPLOADED,
        actor=step.actor,
        instance_id=row.id,
        data={"attachment": stored.id, "kind": kind, "filename": stored.filename, "size": stored.size},
    )
    return record(stored)


def listing(s: Session, viewer: str, instance_id: str) -> list[AttachmentRecord]:
    """The instance's attachments ``viewer`` may see, oldest first (404 for another tenant's)."""
    row = s.get(Instance, instance_id)
    if row is None:
        raise NotFoundError(f"no process instance '{instance_id}'")
    actor = rules.actor_of(s, viewer)
    rules.require_tenant(actor, row)
    stmt = select(Attachment).where(Attachment.instance_id == row.id)
    if not rules.allowed("read_attachments", actor, row):
        if not rules.allowed("read_challenge", actor, row):
            rules.require("read_attachments", actor, row)
        stmt = stmt.where(Attachment.uploaded_by == viewer)  # a cadre's own 军令状 on a public challenge
    return [record(a) for a in s.scalars(stmt.order_by(Attachment.created_at, Attachment.id))]


def download(s: Session, viewer: str, attachment_id: str) -> tuple[AttachmentRecord, bytes]:
    """One attachment with its bytes, for whoever may see it (404 for an unknown or another tenant's)."""
    found = s.get(Attachment, attachment_id) if len(attachment_id) <= 36 else None
    row = s.get(Instance, found.instance_id) if found is not None else None
    if found is None or row is None:
        raise NotFoundError(f"no attachment '{attachment_id}'")
    actor = rules.actor_of(s, viewer)
    if not rules.in_tenant(actor, row.tenant):
        raise NotFoundError(f"no attachment '{attachment_id}'")
    if found.uploaded_by != viewer:
        rules.require("read_attachments", actor, row)
    return record(found), found.content


def check_pledge_file(s: Session, instance_id: str, filer: str, attachment_id: Any) -> None:
    """A claim's 军令状 is a ``pledge`` attachment of this challenge its filer uploaded."""
    found = s.get(Attachment, attachment_id) if isinstance(attachment_id, str) else None
    if (
        found is None
        or found.instance_id != instance_id
        or found.kind != "pledge"
        or found.uploaded_by != filer
    ):
        raise InvalidInputError(
            "unknown pledge file",
            {"pledge_file": ["not a 军令状 you uploaded to this challenge / 不是您为本题上传的军令状"]},
        )


def check_report(s: Session, row: Instance, ht: HumanTask, data: dict[str, Any]) -> None:
    """A completion check: a report's ``attachments`` are evidence uploaded to its own instance."""
    if ht.form not in REPORT_FORMS or not data.get("attachments"):
        return
    ids = data["attachments"]
    if not isinstance(ids, list) or len(ids) > MAX_PER_REPORT:
        raise FormInvalidError(
            "attachments invalid", {"attachments": [f"at most {MAX_PER_REPORT} / 最多 {MAX_PER_REPORT} 个"]}
        )
    wanted = [i for i in ids if isinstance(i, str) and len(i) <= 36]
    found = set(
        s.scalars(
            select(Attachment.id).where(
                Attachment.id.in_(wanted), Attachment.instance_id == row.id, Attachment.kind == "evidence"
            )
        )
    )
    errors = {
        f"attachments.{i}": ["not evidence uploaded to this problem / 不是本题上传的佐证材料"]
        for i, ident in enumerate(ids)
        if ident not in found
    }
    if errors:
        raise FormInvalidError("attachments invalid", errors)


def record(row: Attachment) -> AttachmentRecord:
    return AttachmentRecord(
        row.id,
        row.instance_id,
        row.kind,
        row.filename,
        row.content_type,
        row.size,
        row.sha256,
        row.uploaded_by,
        row.created_at,
    )
