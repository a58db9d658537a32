"""Who may see and do what: one place for the rules the API, the pages and the engine share.

An instance is visible to admins and the OA service account, its starter, anyone who holds,
held or delegated one of its tasks, members of a candidate group of one of its open tasks, and
the people it was copied to (``visible_instances``: one SQL condition, used for single instances
and for lists alike). A task is visible to whoever may see its instance. Only its starter or an
admin cancels an instance.

Roles are privileges: ``admin`` holds every privilege, ``oa-service`` the service's own. Acting
on someone's behalf never raises privileges: while a service acts as a person
(``acting_with``), that person's roles count only as far as the service holds them too. Nobody
grants a role they do not hold (only admins grant ``admin`` and ``oa-service``), and nobody mints
a token or a login link for someone who holds a privilege they lack.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from .tables import CarbonCopy, HumanTask, Instance, Membership, TaskCandidate, User

PRIVILEGED_ROLES = ("admin", "oa-service")
_IMPLIED = {"admin": frozenset(PRIVILEGED_ROLES), "oa-service": frozenset({"oa-service"})}

# The roles of the service acting on someone's behalf in this request (None: nobody is acting).
_acting_cap: ContextVar[frozenset[str] | None] = ContextVar("jiebang_acting_cap", default=None)


def acting_with(service_roles: Iterable[str] | None) -> None:
    """Cap every role check of this request (thread or task) at ``service_roles``; ``None`` lifts the cap."""
    _acting_cap.set(None if service_roles is None else privileges(service_roles))


def effective_roles(roles: Iterable[str]) -> set[str]:
    """A person's roles as they count now: capped by the acting service's privileges, if one acts."""
    cap = _acting_cap.get()
    return set(roles) if cap is None else set(roles) & cap


def roles_of(s: Session, username: str) -> set[str]:
    user = s.get(User, username)
    return effective_roles(user.roles or []) if user is not None else set()


def privileges(roles: Iterable[str]) -> frozenset[str]:
    """Everything a set of roles allows (``admin`` includes the service's privileges)."""
    out: set[str] = set()
    for role in roles:
        out |= _IMPLIED.get(role, {role})
    return frozenset(out)


def outranks(target_roles: Iterable[str], caller_roles: Iterable[str]) -> bool:
    """True when the target holds a privilege the caller lacks (so no token or login link for them)."""
    return bool(privileges(target_roles) - privileges(caller_roles))


def refused_grants(caller_roles: Iterable[str], current: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The role changes (granted or withdrawn) the caller may not make.

    Nobody changes a role they do not hold, and only admins change ``admin`` or ``oa-service``.
    """
    mine = set(caller_roles)
    if "admin" in mine:
        return []
    return sorted(r for r in set(current) ^ set(wanted) if r in PRIVILEGED_ROLES or r not in mine)


def may_cancel(s: Session, row: Instance, username: str) -> bool:
    return row.started_by == username or "admin" in roles_of(s, username)


def is_admin(s: Session, username: str) -> bool:
    return "admin" in roles_of(s, username)


def visible_instances(s: Session, username: str) -> ColumnElement[bool] | None:
    """The condition on ``Instance`` rows ``username`` may see; ``None`` when they see every instance."""
    user = s.get(User, username)
    if user is None:
        return Instance.started_by == username
    if effective_roles(user.roles or []) & set(PRIVILEGED_ROLES):
        return None
    worked = exists().where(
        HumanTask.instance_id == Instance.id,
        or_(HumanTask.assignee == username, HumanTask.completed_by == username, HumanTask.owner == username),
    )
    candidate = exists().where(
        TaskCandidate.task_id == HumanTask.id,
        HumanTask.instance_id == Instance.id,
        TaskCandidate.group.in_(select(Membership.group).where(Membership.username == username)),
    )
    copied = exists().where(CarbonCopy.instance_id == Instance.id, CarbonCopy.username == username)
    return or_(Instance.started_by == username, worked, candidate, copied)


def may_view_instance(s: Session, row: Instance, username: str) -> bool:
    condition = visible_instances(s, username)
    if condition is None:
        return True
    return bool(s.scalar(select(exists().where(Instance.id == row.id, condition))))
