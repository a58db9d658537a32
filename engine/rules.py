"""Who may see what: one place for the visibility rules the API and the pages share.

An instance is visible to admins and the OA service account, its starter, anyone who holds,
held or delegated one of its tasks, members of a candidate group of one of its open tasks, and
the people it was copied to. A task is visible to whoever may see its instance. Only its
starter or an admin cancels an instance.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from .tables import CarbonCopy, HumanTask, Instance, Membership, TaskCandidate, User

PRIVILEGED_ROLES = ("admin", "oa-service")


def may_cancel(s: Session, row: Instance, username: str) -> bool:
    if row.started_by == username:
        return True
    user = s.get(User, username)
    return user is not None and "admin" in (user.roles or [])


def may_view_instance(s: Session, row: Instance, username: str) -> bool:
    if row.started_by == username:
        return True
    user = s.get(User, username)
    if user is None:
        return False
    if set(user.roles or []) & set(PRIVILEGED_ROLES):
        return True
    worked = exists().where(
        HumanTask.instance_id == row.id,
        or_(HumanTask.assignee == username, HumanTask.completed_by == username, HumanTask.owner == username),
    )
    candidate = exists().where(
        TaskCandidate.task_id == HumanTask.id,
        HumanTask.instance_id == row.id,
        TaskCandidate.group.in_(select(Membership.group).where(Membership.username == username)),
    )
    copied = exists().where(CarbonCopy.instance_id == row.id, CarbonCopy.username == username)
    return bool(s.scalar(select(or_(worked, candidate, copied))))
