"""Positive and negative list entries (正面清单/负面清单) for a cadre on post: filed by the post's
manager or the organisation department at any time of the stint; the cadre's record keeps them
and the ``frontline`` diagram hears them as its engine-only message while a month runs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .. import rules
from ..errors import ConflictError, InvalidInputError, NotFoundError
from ..operations import deliver_message
from ..runtime.step import Step
from .process import LIST_KINDS, LIST_MESSAGE, PROCESS, record_entry
from .tables import FrontlineEntry, FrontlinePost, FrontlineStint


def add_list_entry(step: Step, instance_id: str, body: dict[str, Any]) -> FrontlineEntry:
    """A positive or negative list entry (正面清单/负面清单) for a cadre on post, by the post's
    supervisor or the organisation department: the cadre's record keeps it, and the diagram hears
    of it (its message) while one of the stint's months runs."""
    s = step.session
    actor = rules.actor_of(s, step.actor or "")
    row = step.lock_instance(instance_id)
    if row.process_key != PROCESS or not rules.in_tenant(actor, row.tenant):
        raise NotFoundError(f"no front-line instance '{instance_id}'")
    kind, raw = body.get("kind"), body.get("text")
    text = raw.strip() if isinstance(raw, str) else ""
    errors: dict[str, list[str]] = {}
    if kind not in LIST_KINDS:
        errors["kind"] = ["positive or negative / 须为正面或负面"]
    if not text or len(text) > 2000:
        errors["text"] = ["1 to 2000 characters / 长度须为 1 至 2000 个字符"]
    if errors:
        raise InvalidInputError("the list entry is invalid / 清单内容有误", errors)
    stint = s.scalar(
        select(FrontlineStint).where(FrontlineStint.instance_id == row.id, FrontlineStint.ended_at.is_(None))
    )
    supervisor = (
        s.scalar(select(FrontlinePost.supervisor).where(FrontlinePost.id == stint.post_id)) if stint else None
    )
    if step.actor != supervisor and not rules.allowed("manage_frontline", actor):
        rules.require("manage_frontline", actor)
    payload = {"kind": kind, "text": text, "by": step.actor}
    if stint is None:
        raise ConflictError("the cadre is not on a post now / 该干部当前不在岗")
    deliver_message(step, row.id, LIST_MESSAGE, payload)  # heard while a month runs; kept either way
    entry = record_entry(
        step,
        row,
        f"list_{kind}",
        f"{LIST_KINDS[str(kind)]}：{text}",
        data={"text": text, "post": stint.post_id},
    )
    s.flush()
    return entry
