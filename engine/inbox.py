"""The inbox: which tasks a person sees, answered from the task index without loading workflows.

``task_candidate`` holds a row per (group, task) exactly while the task is open and nobody holds
it, so "my groups' queue" needs no join: every assignment change calls ``reindex``. The default
inbox (open tasks, no filters) is a page merged from per-group top-N ranges of that table's
primary key plus the person's own tasks; any other filter takes the general join.
"""

from __future__ import annotations

from sqlalchemy import Select, delete, func, select, union, union_all
from sqlalchemy.orm import Session

from .tables import HumanTask, TaskCandidate


def reindex(s: Session, ht: HumanTask) -> None:
    """Make the candidate rows of ``ht`` match its state (open and unassigned, or none)."""
    s.execute(delete(TaskCandidate).where(TaskCandidate.task_id == ht.id))
    if ht.status == "open" and ht.assignee is None:
        for group in ht.candidate_groups or []:
            s.add(TaskCandidate(group=group, task_id=ht.id, created_at=ht.created_at))


def page_ids(
    s: Session,
    username: str,
    groups: list[str],
    scope: str,
    *,
    status: str | None,
    process_key: str | None,
    business_key: str | None,
    offset: int,
    limit: int,
) -> tuple[list[str], int]:
    """Task ids of one inbox page, newest first, and how many there are in all."""
    filters = []
    if status:
        filters.append(HumanTask.status == status)
    if process_key:
        filters.append(HumanTask.process_key == process_key)
    if business_key:
        filters.append(HumanTask.business_key == business_key)
    if status == "open" and not process_key and not business_key:
        return _default_page(s, username, groups, scope, offset, limit)
    mine = select(HumanTask.id, HumanTask.created_at).where(HumanTask.assignee == username, *filters)
    candidate = (
        select(HumanTask.id, HumanTask.created_at)
        .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
        .where(TaskCandidate.group.in_(groups or [""]), HumanTask.assignee.is_(None), *filters)
        .distinct()
    )
    ids_q = {"mine": mine, "candidate": candidate, "involved": union_all(mine, candidate)}[scope].subquery()
    total = s.scalar(select(func.count()).select_from(ids_q)) or 0
    ids = [r[0] for r in s.execute(select(ids_q.c.id).order_by(ids_q.c.created_at.desc(), ids_q.c.id).offset(offset).limit(limit))]
    return ids, total


def _default_page(s: Session, username: str, groups: list[str], scope: str, offset: int, limit: int) -> tuple[list[str], int]:
    """Open tasks: each source yields at most offset+limit newest rows from an index range, then merge."""
    top = offset + limit
    sources: list[Select] = []
    total = 0
    if scope in ("mine", "involved"):
        mine = HumanTask.assignee == username, HumanTask.status == "open"
        total += s.scalar(select(func.count()).where(*mine)) or 0
        sources.append(select(HumanTask.id.label("id"), HumanTask.created_at.label("created_at")).where(*mine)
                       .order_by(HumanTask.created_at.desc(), HumanTask.id).limit(top))
    if scope in ("candidate", "involved") and groups:
        total += s.scalar(select(func.count(TaskCandidate.task_id.distinct())).where(TaskCandidate.group.in_(groups))) or 0
        for group in groups:
            sources.append(select(TaskCandidate.task_id.label("id"), TaskCandidate.created_at.label("created_at"))
                           .where(TaskCandidate.group == group)
                           .order_by(TaskCandidate.created_at.desc(), TaskCandidate.task_id).limit(top))
    if not sources:
        return [], 0
    merged = union(*(select(q.subquery()) for q in sources)).subquery() if len(sources) > 1 else sources[0].subquery()
    page = select(merged.c.id).order_by(merged.c.created_at.desc(), merged.c.id).offset(offset).limit(limit)
    return [r[0] for r in s.execute(page)], total


__all__ = ["page_ids", "reindex"]
