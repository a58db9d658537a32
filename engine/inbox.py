"""The inbox: which tasks a person sees, answered from the task index without loading workflows.

``task_candidate`` holds a row per (group, task) exactly while the task is open and nobody holds
it, so "my groups' queue" needs no join: every assignment change calls ``reindex``. The queues of
the posts a person holds (``post:<unit>:<post>``) are read in the same statement, from their posts. The default
inbox (open tasks, no filters) is a page merged from per-group top-N ranges of that table's
``(tenant, group, created_at, task_id)`` index plus the person's own tasks; any other filter takes
the general join. Group names repeat across tenants, so a queue is a group in the person's tenant,
read in the same statement (``_queue_tenant``).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    Select,
    Subquery,
    bindparam,
    delete,
    func,
    literal_column,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from . import postqueues
from .tables import HumanTask, TaskCandidate, User


def reindex(s: Session, ht: HumanTask) -> None:
    """Make the candidate rows of ``ht`` match its state (open and unassigned, or none)."""
    s.execute(delete(TaskCandidate).where(TaskCandidate.task_id == ht.id))
    if ht.status == "open" and ht.assignee is None:
        for group in ht.candidate_groups or []:
            s.add(TaskCandidate(group=group, task_id=ht.id, created_at=ht.created_at, tenant=ht.tenant or ""))


_COLUMNS = tuple(
    HumanTask.__table__.c[name]
    for name in (
        "id",
        "instance_id",
        "process_key",
        "business_key",
        "element_id",
        "name",
        "lane",
        "candidate_groups",
        "assignee",
        "status",
        "created_at",
        "due_at",
        "completed_at",
        "completed_by",
        "form",
        "kind",
        "parent_id",
        "owner",
        "sign_mode",
        "returned",
        "title",
        "unresolved",
    )
)


def _queue_tenant(username: Any) -> ColumnElement[str]:
    """The person's tenant as ``task_candidate`` stores it (``""``: the implicit tenant)."""
    return func.coalesce(select(User.tenant).where(User.username == username).scalar_subquery(), "")


def page(
    conn: Connection,
    username: str,
    groups: list[str],
    scope: str,
    *,
    status: str | None,
    process_key: str | None,
    business_key: str | None,
    offset: int,
    limit: int,
    q: str | None = None,
    instances: Select[Any] | None = None,
) -> tuple[list[Row[*tuple[Any, ...]]], int]:
    """One inbox page, newest first, as ``human_task`` rows, and how many tasks there are in all.

    The open inbox without filters, what people look at all day, is one statement (page and total
    together, one round trip) built once per shape and compiled once by SQLAlchemy's cache.
    ``q`` searches the instance title, the task name and the business key (case-insensitive);
    ``instances`` (a select of instance ids) keeps their tasks only.
    """
    if status == "open" and not process_key and not business_key and not q and instances is None:
        params = {"username": username, "top": offset + limit, "offset": offset, "limit": limit}
        params.update((f"g{i}", g) for i, g in enumerate(groups))
        rows = list(conn.execute(_open_page(scope, len(groups)), params))
        if rows or (offset == 0 and limit > 0):
            return rows, rows[0].total if rows else 0
        # past the last page, or only the count asked for (``limit=0``: a tab's badge)
        return [], conn.execute(_open_total(scope, len(groups)), params).scalar_one()
    filters = [
        column == value
        for column, value in (
            (HumanTask.status, status),
            (HumanTask.process_key, process_key),
            (HumanTask.business_key, business_key),
        )
        if value
    ]
    if q:
        filters.append(matching(q))
    if instances is not None:
        filters.append(HumanTask.instance_id.in_(instances))
    return _filtered_page(conn, username, groups, scope, filters, offset, limit)


def matching(q: str) -> ColumnElement[bool]:
    """Tasks whose title, name or business key contains ``q``; ``%`` and ``_`` are plain characters."""
    return or_(
        *(
            column.icontains(q, autoescape=True)
            for column in (HumanTask.title, HumanTask.name, HumanTask.business_key)
        )
    )


# In the statement's text, not a parameter: PostgreSQL keeps one generic plan for a prepared
# statement, and with the status unknown there it reads all of a person's finished tasks too.
_OPEN: ColumnElement[str] = literal_column("'open'")


@functools.cache
def _open_total(scope: str, n_groups: int) -> Select[*tuple[Any, ...]]:
    """Open tasks assigned to the person plus distinct tasks queued for their groups."""
    parts = []
    if scope in ("mine", "involved"):
        parts.append(
            select(func.count())
            .where(HumanTask.assignee == bindparam("username"), HumanTask.status == _OPEN)
            .scalar_subquery()
        )
    if scope in ("candidate", "involved"):
        groups: list[BindParameter[str]] = [bindparam(f"g{i}") for i in range(n_groups)]
        # Two index ranges whose union drops a task queued twice. As one ORed condition the planner
        # read every queue row instead (73 ms at a million open tasks, bench/inbox.py).
        queued = [select(TaskCandidate.task_id).where(_posts_held())]
        if n_groups:
            queued.insert(
                0,
                select(TaskCandidate.task_id).where(
                    TaskCandidate.tenant == _queue_tenant(bindparam("username")),
                    TaskCandidate.group.in_(groups),
                ),
            )
        distinct = union(*queued).subquery() if len(queued) > 1 else queued[0].distinct().subquery()
        parts.append(select(func.count()).select_from(distinct).scalar_subquery())
    return select(functools.reduce(operator.add, parts).label("total"))


@functools.cache
def _open_page(scope: str, n_groups: int) -> Select[*tuple[Any, ...]]:
    """Each source yields at most offset+limit newest rows from an index range; the merge sorts those few."""
    top: BindParameter[int] = bindparam("top")
    sources: list[Select[*tuple[Any, ...]]] = []
    if scope in ("mine", "involved"):
        sources.append(
            select(HumanTask.id.label("id"), HumanTask.created_at.label("created_at"))
            .where(HumanTask.assignee == bindparam("username"), HumanTask.status == _OPEN)
            .order_by(HumanTask.created_at.desc(), HumanTask.id)
            .limit(top)
        )
    if scope in ("candidate", "involved"):
        for i in range(n_groups):
            sources.append(
                select(TaskCandidate.task_id.label("id"), TaskCandidate.created_at.label("created_at"))
                .where(
                    TaskCandidate.tenant == _queue_tenant(bindparam("username")),
                    TaskCandidate.group == bindparam(f"g{i}"),
                )
                .order_by(TaskCandidate.created_at.desc(), TaskCandidate.task_id)
                .limit(top)
            )
        sources.append(  # the queues of the posts they hold, read from their posts in this statement
            select(TaskCandidate.task_id.label("id"), TaskCandidate.created_at.label("created_at"))
            .where(_posts_held())
            .order_by(TaskCandidate.created_at.desc(), TaskCandidate.task_id)
            .limit(top)
        )
    merged = (
        union(*(select(q.subquery()) for q in sources)).subquery()
        if len(sources) > 1
        else sources[0].subquery()
    )
    ids = (
        select(merged.c.id, merged.c.created_at)
        .order_by(merged.c.created_at.desc(), merged.c.id)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
        .subquery()
    )
    return _tasks_in_order(ids).add_columns(_open_total(scope, n_groups).scalar_subquery().label("total"))


def _posts_held(username: str | None = None) -> ColumnElement[bool]:
    """Candidate rows in the queue of a post the person holds (``postqueues.py``); by default the
    person is the statement's ``username`` parameter."""
    who: str | BindParameter[str] = bindparam("username") if username is None else username
    return TaskCandidate.group.in_(postqueues.held_groups_query(who))


def _tasks_in_order(ids: Subquery) -> Select[*tuple[Any, ...]]:
    """The ``human_task`` rows of a page of ``(id, created_at)``, newest first."""
    return (
        select(*_COLUMNS)
        .join_from(ids, HumanTask, HumanTask.id == ids.c.id)
        .order_by(ids.c.created_at.desc(), ids.c.id)
    )


def _filtered_page(
    conn: Connection,
    username: str,
    groups: list[str],
    scope: str,
    filters: list[Any],
    offset: int,
    limit: int,
) -> tuple[list[Row[*tuple[Any, ...]]], int]:
    """Any other inbox (a status, a process, a search): the general join, page and total in one
    statement; a second counts only when the page lies past the last task."""
    mine = select(HumanTask.id, HumanTask.created_at).where(HumanTask.assignee == username, *filters)
    queued = union(  # the person's queues as two index ranges, a task queued twice once
        select(TaskCandidate.task_id).where(
            TaskCandidate.tenant == _queue_tenant(username), TaskCandidate.group.in_(groups or [""])
        ),
        select(TaskCandidate.task_id).where(_posts_held(username)),
    ).subquery()
    candidate = (
        select(HumanTask.id, HumanTask.created_at)
        .join(queued, queued.c.task_id == HumanTask.id)
        .where(HumanTask.assignee.is_(None), *filters)
    )
    ids_q = {"mine": mine, "candidate": candidate, "involved": union_all(mine, candidate)}[scope].subquery()
    ids = (
        select(ids_q.c.id, ids_q.c.created_at, func.count().over().label("total"))
        .order_by(ids_q.c.created_at.desc(), ids_q.c.id)
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    rows = list(conn.execute(_tasks_in_order(ids).add_columns(ids.c.total)))
    if rows or (offset == 0 and limit > 0):
        return rows, rows[0].total if rows else 0
    return [], conn.execute(select(func.count()).select_from(ids_q)).scalar_one()


__all__ = ["matching", "page", "reindex"]
