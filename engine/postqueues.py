"""Post queues: the candidate group ``post:<unit code>:<post>`` of a post's holders in one unit.

A task several people's post gives them (``assignment.py``) waits in such a queue; the inbox and
the rulebook read a person's post queues beside their groups, straight from ``user_post``, so who
is in the queue is decided when it is read and needs no copy to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, literal, select
from sqlalchemy.orm import Session

from .tables import Unit, User, UserPost

POST_GROUP = "post:"


def post_group(unit_code: str, post: str) -> str:
    """The queue of a post's holders in one unit: ``post:<unit code>:<post>``."""
    return f"{POST_GROUP}{unit_code}:{post}"


def split_post_group(group: str) -> tuple[str, str] | None:
    """``post:<unit>:<post>`` -> ``(unit code, post)``; None for an ordinary group (unit codes hold no colon)."""
    if not group.startswith(POST_GROUP):
        return None
    code, colon, post = group[len(POST_GROUP) :].partition(":")
    return (code, post) if colon and code and post else None


def is_post_group(group: str) -> bool:
    return split_post_group(group) is not None


def held_groups_query(username: str | ColumnElement[str] | Any) -> Select[Any]:
    """The post groups an active user holds, as one SQL select (for ``IN``; ``username`` may be a bound parameter)."""
    name = UserPost.username == username
    return (
        select((literal(POST_GROUP) + Unit.code + literal(":") + UserPost.post).label("group"))
        .select_from(UserPost)
        .join(Unit, Unit.id == UserPost.unit_id)
        .join(User, User.username == UserPost.username)
        .where(name, User.active.is_(True))
    )


def held_groups(s: Session, username: str) -> list[str]:
    """The post groups ``username`` holds (none once deactivated)."""
    return sorted(s.scalars(held_groups_query(username)))


def held_groups_of(s: Session, usernames: Iterable[str], chunk: int = 500) -> dict[str, set[str]]:
    """The post groups each of many active users holds (for a bulk change of posts, as an import makes)."""
    names = sorted(set(usernames))
    out: dict[str, set[str]] = {}
    for i in range(0, len(names), chunk):
        query = held_groups_query(UserPost.username).add_columns(UserPost.username)
        for group, username in s.execute(query.where(UserPost.username.in_(names[i : i + chunk]))):
            out.setdefault(username, set()).add(group)
    return out


def plain_groups(groups: Iterable[str]) -> list[str]:
    """A person's groups without any merely named like a post's queue: only holding the post gives that."""
    return [g for g in groups if not is_post_group(g)]


__all__ = [
    "POST_GROUP",
    "held_groups",
    "held_groups_of",
    "held_groups_query",
    "is_post_group",
    "plain_groups",
    "post_group",
    "split_post_group",
]
