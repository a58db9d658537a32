"""Assignment by post: a task given to whoever holds a post in a unit, not to a named person.

A lane (``lane:TaskForce`` = ``post:书记@data:unit``) or a task (``assignment`` property) may name
a post and where to look for it: the unit whose code is in a process variable (``data:unit``), that
unit's parent (``parent-of:data:unit``) or the starter's own units (``starter``). The rule is
resolved when the task is created:

- one holder: the task is theirs (``assignee``) and *follows the post* (``post_assignee``): if the
  post changes hands before they took it up elsewhere, it moves to the new holder;
- several holders: it waits in the queue of the synthetic group ``post:<unit>:<post>``, which every
  holder's inbox reads beside their own groups (so the inbox stays one statement, and who is in
  the queue is decided when the inbox is read: a new holder sees it at once);
- nobody (a vacant post, no unit in the data): the task is created unassigned and flagged
  (``unresolved``), an ``assignment.unresolved`` event is written, and admins see it listed; it
  resolves as soon as someone takes the post (``reresolve``, called by ``organisation.set_posts``
  in the same transaction).

Deactivated people never hold a post here. A task someone claimed or was handed stays with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from . import audit, inbox
from .definitions.policy import parse_post_rule
from .postqueues import is_post_group, post_group, split_post_group
from .tables import HumanTask, TaskCandidate, Unit, User, UserPost


def holders_of(s: Session, groups: Iterable[str]) -> list[str]:
    """The active holders of any of the post groups, sorted."""
    pairs = [p for p in (split_post_group(g) for g in groups) if p is not None]
    if not pairs:
        return []
    condition: ColumnElement[bool] | None = None
    for code, post in pairs:
        one = (Unit.code == code) & (UserPost.post == post)
        condition = one if condition is None else condition | one
    assert condition is not None
    return sorted(
        set(
            s.scalars(
                select(UserPost.username)
                .join(Unit, Unit.id == UserPost.unit_id)
                .join(User, User.username == UserPost.username)
                .where(condition, User.active.is_(True))
            )
        )
    )


def sole_unit(s: Session, username: str) -> str | None:
    """The code of the one unit ``username`` holds posts in; None for no unit or several."""
    codes = list(
        s.scalars(
            select(Unit.code)
            .join(UserPost, UserPost.unit_id == Unit.id)
            .where(UserPost.username == username)
            .distinct()
            .limit(2)
        )
    )
    return codes[0] if len(codes) == 1 else None


@dataclass(frozen=True)
class Resolution:
    """Who a post rule gives a new task to."""

    groups: list[str]  # the post queues (empty when no unit could be found)
    assignee: str | None  # the one holder, or None
    unresolved: dict[str, Any] | None  # why nobody: ``reason`` vacant | no-unit | unknown-unit


def _units(s: Session, codes: Iterable[str]) -> dict[str, Unit]:
    wanted = [c for c in codes if c]
    if not wanted:
        return {}
    return {u.code: u for u in s.scalars(select(Unit).where(Unit.code.in_(wanted)))}


def _decide(s: Session, groups: list[str], post: str, names: list[str]) -> Resolution:
    people = holders_of(s, groups)
    if not people:
        return Resolution(groups, None, {"reason": "vacant", "post": post, "units": names})
    return Resolution(groups, people[0] if len(people) == 1 else None, None)


def resolve(s: Session, rule: str, data: dict[str, Any], starter: str | None) -> Resolution:
    """Resolve a ``post:POST@SCOPE`` rule against a task's data and its instance's starter."""
    parsed = parse_post_rule(rule)
    if parsed is None:  # refused at deploy; a version deployed before the check names nobody
        return Resolution([], None, {"reason": "bad-rule", "rule": rule})
    post, scope, variable = parsed
    if scope == "starter":
        codes = list(
            s.scalars(
                select(Unit.code)
                .join(UserPost, UserPost.unit_id == Unit.id)
                .where(UserPost.username == (starter or ""))
                .distinct()
                .order_by(Unit.code)
            )
        )
        if not codes:
            return Resolution([], None, {"reason": "starter-no-unit", "post": post, "starter": starter})
        units = _units(s, codes)
    else:
        value = data.get(variable or "")
        if not isinstance(value, str) or not value.strip():
            return Resolution([], None, {"reason": "no-unit", "post": post, "variable": variable})
        found = _units(s, [value.strip()]).get(value.strip())
        if found is None:
            return Resolution([], None, {"reason": "unknown-unit", "post": post, "unit": value})
        if scope == "parent-of":
            parent = s.get(Unit, found.parent_id) if found.parent_id is not None else None
            if parent is None:
                return Resolution([], None, {"reason": "no-parent", "post": post, "unit": found.name})
            found = parent
        units = {found.code: found}
    ordered = sorted(units.values(), key=lambda u: u.path)
    return _decide(s, [post_group(u.code, post) for u in ordered], post, [u.name for u in ordered])


def flag_new_task(
    s: Session, ht: HumanTask, resolution: Resolution, *, now: datetime, actor: str | None
) -> None:
    """Mark a task just created from a post rule: who it follows, or the incident if nobody holds the post."""
    ht.post_assignee = resolution.assignee
    ht.unresolved = resolution.unresolved
    if resolution.unresolved is not None:
        audit.record(
            s,
            audit.ASSIGNMENT_UNRESOLVED,
            now,
            actor=actor,
            instance_id=ht.instance_id,
            element_id=ht.element_id,
            task_id=ht.id,
            data=resolution.unresolved,
        )


def reresolve(
    s: Session, groups: Iterable[str], *, leaving: Iterable[str] = (), now: datetime, actor: str | None
) -> int:
    """Give the open, untaken tasks of these post queues to whoever holds the posts now.

    Tasks waiting in the queues and tasks that followed someone in ``leaving`` (people who left
    a post) are looked at; a task someone claimed or was handed stays. Returns how many moved.
    """
    wanted = {g for g in groups if is_post_group(g)}
    if not wanted:
        return 0
    ordered, tasks = sorted(wanted), list[HumanTask]()
    for i in range(0, len(ordered), 500):  # an import may change thousands of posts at once
        queued = select(TaskCandidate.task_id).where(TaskCandidate.group.in_(ordered[i : i + 500]))
        tasks += s.scalars(select(HumanTask).where(HumanTask.id.in_(queued), HumanTask.status == "open"))
    people = sorted(set(leaving))
    for i in range(0, len(people), 500):
        tasks += [
            ht
            for ht in s.scalars(
                select(HumanTask).where(
                    HumanTask.assignee.in_(people[i : i + 500]),
                    HumanTask.post_assignee == HumanTask.assignee,
                    HumanTask.status == "open",
                )
            )
            if wanted & set(ht.candidate_groups or [])
        ]
    moved = 0
    for ht in {t.id: t for t in tasks}.values():
        moved += follow_post(s, ht, now=now, actor=actor)
    return moved


def follow_post(s: Session, ht: HumanTask, *, now: datetime, actor: str | None) -> int:
    """Re-resolve one task from its post queues; 1 when its assignee, queue or flag changed."""
    groups = [g for g in ht.candidate_groups or [] if is_post_group(g)]
    if ht.assignee is not None and ht.assignee != ht.post_assignee:
        return 0  # claimed or handed over: it stays with its holder
    people = holders_of(s, groups)
    if ht.assignee is not None and ht.assignee in people:
        return 0  # the person it follows still holds the post
    before = (ht.assignee, ht.unresolved)
    ht.assignee = ht.post_assignee = people[0] if len(people) == 1 else None
    if people:
        ht.unresolved = None
    else:
        names = [u.name for u in _units(s, [p[0] for p in map(split_post_group, groups) if p]).values()]
        post = next((p[1] for p in map(split_post_group, groups) if p), "")
        ht.unresolved = {"reason": "vacant", "post": post, "units": sorted(names)}
    if (ht.assignee, ht.unresolved) == before:
        return 0
    inbox.reindex(s, ht)
    audit.record(
        s,
        audit.ASSIGNMENT_UNRESOLVED if ht.unresolved else audit.ASSIGNMENT_RESOLVED,
        now,
        actor=actor,
        instance_id=ht.instance_id,
        element_id=ht.element_id,
        task_id=ht.id,
        data=ht.unresolved or {"from": before[0], "assignee": ht.assignee, "candidates": people},
    )
    return 1


def unresolved_tasks(s: Session, *, limit: int = 200) -> list[HumanTask]:
    """Open tasks nobody could be given (a vacant post, no unit): the incidents admins list."""
    return list(
        s.scalars(
            select(HumanTask)
            .where(HumanTask.status == "open", HumanTask.unresolved.is_not(None))
            .order_by(HumanTask.created_at.desc(), HumanTask.id)
            .limit(limit)
        )
    )


__all__ = [
    "Resolution",
    "flag_new_task",
    "follow_post",
    "holders_of",
    "reresolve",
    "resolve",
    "sole_unit",
    "unresolved_tasks",
]
