"""催办 urge and 抄送 CC: telling people, without moving the workflow."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import audit, rules
from ..errors import ConflictError, NotFoundError
from ..records import Page
from ..runtime.step import Step
from ..store import counted_page
from ..tables import AuditEvent, CarbonCopy, Instance
from .common import CcRecord, comment, get_task, require_users

URGE_INTERVAL = timedelta(minutes=10)


def urge(step: Step, task_id: str, actor: str, text: str | None, *, system: bool = False) -> None:
    """Remind whoever holds the task (``system``: the engine's own timeout reminder, never throttled)."""
    s = step.session
    ht = get_task(s, task_id)
    row = step.lock_instance(ht.instance_id)
    if ht.status not in ("open", "waiting"):
        raise ConflictError(f"task {task_id} is {ht.status}; there is nobody to remind")
    if not system:
        rules.require("urge", rules.actor_of(s, actor), ht)
    now = step.now
    last = s.scalar(
        select(func.max(AuditEvent.at)).where(AuditEvent.task_id == task_id, AuditEvent.event == "task.urge")
    )
    if last is not None and not system and now - last < URGE_INTERVAL:
        again = (last + URGE_INTERVAL).isoformat()
        raise ConflictError(
            f"already urged at {last.isoformat()}; next reminder possible at {again} / 催办过于频繁"
        )
    audit.record(
        s,
        "task.urge",
        now,
        actor=actor,
        instance_id=row.id,
        element_id=ht.element_id,
        task_id=ht.id,
        data={"comment": text, "assignee": ht.assignee},
    )
    comment(s, ht, actor, "urge", text, now)
    step.emit(
        "task.urged",
        row,
        {
            "task_id": ht.id,
            "element_id": ht.element_id,
            "name": ht.name,
            "assignee": ht.assignee,
            "candidate_groups": ht.candidate_groups,
            "by": actor,
            "comment": text,
        },
    )


def copy_to(
    step: Step, instance_id: str, actor: str, usernames: list[str], *, element_id: str | None = None
) -> list[str]:
    s = step.session
    row = step.instance(instance_id)
    rules.require("cc", rules.actor_of(s, actor), row)
    require_users(s, usernames, tenant=row.tenant)
    added = add_copies(s, row, usernames, actor, element_id, step.now)
    audit.record(s, "instance.cc", step.now, actor=actor, instance_id=row.id, data={"usernames": added})
    return added


def add_copies(
    s: Session, row: Instance, usernames: list[str], by: str | None, element_id: str | None, now: datetime
) -> list[str]:
    have = set(s.scalars(select(CarbonCopy.username).where(CarbonCopy.instance_id == row.id)))
    added = [u for u in dict.fromkeys(usernames) if u not in have]
    for u in added:
        s.add(
            CarbonCopy(
                instance_id=row.id, username=u, by=by, element_id=element_id, at=now, tenant=row.tenant
            )
        )
    return added


def list_cc(
    step: Step, username: str, *, unread_only: bool, offset: int, limit: int, q: str | None = None
) -> Page:
    """Instances copied to ``username``, newest first; ``q`` searches their title and business key."""
    stmt = (
        select(CarbonCopy, Instance)
        .join(Instance, Instance.id == CarbonCopy.instance_id)
        .where(CarbonCopy.username == username)
    )
    if unread_only:
        stmt = stmt.where(CarbonCopy.read_at.is_(None))
    if q:
        stmt = stmt.where(
            or_(
                Instance.data["title"].as_string().icontains(q, autoescape=True),
                Instance.business_key.icontains(q, autoescape=True),
            )
        )
    rows, total = counted_page(
        step.session, stmt, CarbonCopy.at.desc(), CarbonCopy.id.desc(), offset=offset, limit=limit
    )
    items = [
        CcRecord(
            i.id,
            i.process_key,
            i.business_key,
            (i.data or {}).get("title"),
            c.by,
            c.element_id,
            c.at,
            c.read_at,
        )
        for c, i in rows
    ]
    return Page(items, total)


def mark_read(step: Step, instance_id: str, username: str) -> None:
    cc = step.session.scalars(
        select(CarbonCopy).where(CarbonCopy.instance_id == instance_id, CarbonCopy.username == username)
    ).first()
    if cc is None:
        raise NotFoundError(f"instance {instance_id} was not copied to {username}")
    if cc.read_at is None:
        cc.read_at = step.now
