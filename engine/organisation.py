"""The organisation: unit trees whose roots are tenants, and the posts people hold in units.

A county is the root of its tree and the tenant of everything under it; towns and county
departments hang below it, villages, communities and offices below those; companies and teams
(cross-unit task forces) may sit anywhere. ``Unit.path`` holds the ids from the root down, so
"this unit and everything under it" is one indexed prefix match (``subtree``).

A user's tenant is the root of the units they hold posts in: posts in two trees are refused, and
``User.tenant`` is kept here, beside the posts, so the hot path reads it with the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from . import assignment, postqueues
from .errors import ConflictError, InvalidInputError, NotFoundError
from .payload import check_json_value
from .records import PostRecord, UnitDetail, UnitRecord
from .tables import Instance, Unit, User, UserPost

UNIT_KINDS = ("county", "town", "department", "village", "community", "office", "company", "team")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_DEPTH = 12  # county → town → village is 3; task forces and offices add a few


@dataclass(frozen=True)
class PostAssignment:
    """One post a user is to hold: the unit's code, the post's name, the rank."""

    unit: str
    post: str
    rank: str | None = None


# ---- units ------------------------------------------------------------------------------------
def _check_code(code: str) -> None:
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise InvalidInputError(
            f"invalid unit code {code!r}",
            {
                "code": [
                    "1-64 letters, digits, '_', '.' or '-', starting with a letter or digit / 单位编码无效"
                ]
            },
        )


def _unit_row(s: Session, code: str) -> Unit:
    row = s.scalar(select(Unit).where(Unit.code == code))
    if row is None:
        raise NotFoundError(f"no unit '{code}'")
    return row


def _record(row: Unit, parent_code: str | None) -> UnitRecord:
    return UnitRecord(row.code, row.name, row.kind, parent_code, row.tenant, dict(row.attributes or {}))


def _parent_code(s: Session, row: Unit) -> str | None:
    return None if row.parent_id is None else s.scalar(select(Unit.code).where(Unit.id == row.parent_id))


def upsert_unit(
    s: Session,
    code: str,
    *,
    name: str,
    kind: str,
    parent: str | None,
    attributes: dict[str, Any] | None,
    now: datetime,
) -> UnitRecord:
    """Create or update a unit. A unit without a parent is a tenant's root.

    A unit may move within its tree (its subtree's paths follow) but never into another tree or
    under itself, and a root stays a root: a tenant's data is never re-homed by an edit.
    """
    _check_code(code)
    if kind not in UNIT_KINDS:
        raise InvalidInputError(
            f"unknown unit kind {kind!r}", {"kind": [f"one of {', '.join(UNIT_KINDS)} / 单位类型无效"]}
        )
    if not name or not name.strip() or len(name) > 300:
        raise InvalidInputError("invalid unit name", {"name": ["1-300 characters / 单位名称无效"]})
    if attributes is not None:
        check_json_value(attributes, "attributes")
    parent_row = s.scalar(select(Unit).where(Unit.code == parent)) if parent is not None else None
    if parent is not None and parent_row is None:
        raise InvalidInputError(f"no unit '{parent}'", {"parent": [f"no unit '{parent}' / 上级单位不存在"]})
    row = s.scalar(select(Unit).where(Unit.code == code))
    if parent_row is not None and parent_row.path.count("/") - 1 >= MAX_DEPTH:
        raise InvalidInputError(
            "the tree is too deep", {"parent": [f"at most {MAX_DEPTH} levels / 层级过深"]}
        )
    if row is None:
        row = Unit(
            code=code,
            name=name.strip(),
            kind=kind,
            parent_id=parent_row.id if parent_row else None,
            tenant=parent_row.tenant if parent_row else code,
            path="",
            attributes=attributes or {},
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        row.path = f"{parent_row.path if parent_row else '/'}{row.id}/"
    else:
        if (row.parent_id is None) != (parent_row is None) or (
            parent_row is not None and parent_row.tenant != row.tenant
        ):
            raise ConflictError(
                f"unit '{code}' cannot move to another tenant or change whether it is a tenant"
            )
        if parent_row is not None and parent_row.path.startswith(row.path):
            raise InvalidInputError(
                f"unit '{code}' cannot be placed under itself",
                {
                    "parent": [
                        "a unit cannot be placed under itself or its own units / 不能把单位放到它自己或其下级单位之下"
                    ]
                },
            )
        row.name, row.kind, row.updated_at = name.strip(), kind, now
        if attributes is not None:
            row.attributes = attributes
        if parent_row is not None and parent_row.id != row.parent_id:
            old, new = row.path, f"{parent_row.path}{row.id}/"
            for moved in s.scalars(select(Unit).where(Unit.path.startswith(old, autoescape=True))):
                moved.path = new + moved.path[len(old) :]
            row.parent_id = parent_row.id
    s.flush()
    return _record(row, parent_row.code if parent_row else None)


def get_unit(s: Session, code: str) -> UnitDetail:
    """A unit with its children and the people holding posts in it."""
    row = _unit_row(s, code)
    children = s.scalars(select(Unit).where(Unit.parent_id == row.id).order_by(Unit.code)).all()
    members = s.execute(
        select(UserPost.username, User.display_name, UserPost.post, UserPost.rank)
        .join(User, User.username == UserPost.username)
        .where(UserPost.unit_id == row.id)
        .order_by(UserPost.post, UserPost.username)
    ).all()
    return UnitDetail(
        _record(row, _parent_code(s, row)),
        [_record(c, row.code) for c in children],
        [PostRecord(m.username, m.display_name, row.code, m.post, m.rank) for m in members],
    )


def list_units(
    s: Session,
    *,
    tenant: str | None = None,
    parent: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[UnitRecord], int]:
    """Units by tenant (None: every tenant), parent, kind and a name or code search; a page and the total."""
    parent_unit = Unit.__table__.alias("parent_unit")
    query: Select[Any] = select(Unit, parent_unit.c.code).outerjoin(
        parent_unit, parent_unit.c.id == Unit.parent_id
    )
    if tenant is not None:
        query = query.where(Unit.tenant == tenant)
    if parent is not None:
        query = query.where(parent_unit.c.code == parent)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Unit.name.like(like, escape="\\"), Unit.code.like(like, escape="\\")))
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.execute(query.order_by(Unit.path).offset(offset).limit(limit)).all()
    return [_record(row, parent_code) for row, parent_code in rows], total


def delete_unit(s: Session, code: str) -> None:
    """Remove a unit that has no children, nobody in a post and no instance filed under it (409 otherwise)."""
    row = _unit_row(s, code)
    if s.scalar(select(func.count()).select_from(Unit).where(Unit.parent_id == row.id)):
        raise ConflictError(f"unit '{code}' still has units under it")
    if s.scalar(select(func.count()).select_from(UserPost).where(UserPost.unit_id == row.id)):
        raise ConflictError(f"unit '{code}' still has people in posts")
    if instances_filed_under(s, row.code):
        raise ConflictError(f"unit '{code}' still has process instances filed under it")
    s.delete(row)
    s.flush()


def instances_filed_under(s: Session, code: str) -> int:
    """How many instances belong to the unit: recorded at start (``Instance.unit``) or named in their data."""
    return (
        s.scalar(
            select(func.count())
            .select_from(Instance)
            .where(or_(Instance.unit == code, Instance.data["unit"].as_string() == code))
        )
        or 0
    )


def subtree(s: Session, code: str) -> Select[Any]:
    """The ids of a unit and every unit under it, as a subquery for ``IN``."""
    row = _unit_row(s, code)
    return select(Unit.id).where(Unit.path.startswith(row.path, autoescape=True))


def subtree_codes(s: Session, code: str) -> list[str]:
    """The codes of a unit and every unit under it, root first."""
    row = _unit_row(s, code)
    return list(
        s.scalars(
            select(Unit.code).where(Unit.path.startswith(row.path, autoescape=True)).order_by(Unit.path)
        )
    )


def tenant_of_unit(s: Session, code: str) -> str:
    return _unit_row(s, code).tenant


# ---- posts ------------------------------------------------------------------------------------
def set_posts(
    s: Session,
    username: str,
    posts: Sequence[PostAssignment],
    *,
    now: datetime | None = None,
    actor: str | None = None,
) -> list[PostRecord]:
    """Replace the posts a user holds, and with them the user's tenant.

    All posts must lie in one tenant's tree: a person belongs to one county. A user with no post
    keeps the tenant they had, so taking someone out of their last post does not hand their past
    work to the installation. Tasks given to a post that changes hands here follow it, in this
    transaction (``assignment.reresolve``).
    """
    user = s.get(User, username)
    if user is None:
        raise NotFoundError(f"no user '{username}'")
    rows: list[tuple[Unit, PostAssignment]] = []
    errors: dict[str, list[str]] = {}
    for i, wanted in enumerate(posts):
        if not wanted.post or not wanted.post.strip() or len(wanted.post) > 100:
            errors[f"units.{i}.post"] = ["1-100 characters / 职务无效"]
        if wanted.rank is not None and len(wanted.rank) > 50:
            errors[f"units.{i}.rank"] = ["at most 50 characters / 职级无效"]
        unit = s.scalar(select(Unit).where(Unit.code == wanted.unit))
        if unit is None:
            errors[f"units.{i}.unit"] = [f"no unit '{wanted.unit}' / 单位不存在"]
        else:
            rows.append((unit, wanted))
    tenants = {unit.tenant for unit, _ in rows}
    if len(tenants) > 1:
        errors["units"] = [
            f"posts in more than one tenant: {', '.join(sorted(tenants))} / 不能跨县（租户）任职"
        ]
    if errors:
        raise InvalidInputError("invalid posts", errors)
    if user.tenant is not None and tenants and tenants != {user.tenant}:
        raise ConflictError(
            f"user '{username}' belongs to tenant '{user.tenant}'; posts elsewhere are refused"
        )
    before = set(postqueues.held_groups(s, username))
    s.execute(delete(UserPost).where(UserPost.username == username))
    seen: set[tuple[int, str]] = set()
    for unit, wanted in rows:
        key = (unit.id, wanted.post.strip())
        if key in seen:
            continue
        seen.add(key)
        s.add(UserPost(username=username, unit_id=unit.id, post=key[1], rank=wanted.rank))
    if tenants:
        user.tenant = tenants.pop()
    s.flush()
    changed = before ^ set(postqueues.held_groups(s, username))
    if changed:
        assignment.reresolve(s, changed, leaving=[username], now=now or datetime.now(UTC), actor=actor)
    return posts_of(s, username)


def posts_of(s: Session, username: str) -> list[PostRecord]:
    rows = s.execute(
        select(UserPost.username, User.display_name, Unit.code, UserPost.post, UserPost.rank)
        .join(User, User.username == UserPost.username)
        .join(Unit, Unit.id == UserPost.unit_id)
        .where(UserPost.username == username)
        .order_by(Unit.path, UserPost.post)
    ).all()
    return [PostRecord(*r) for r in rows]


def holders(s: Session, post: str, unit_codes: Iterable[str]) -> list[str]:
    """Active users holding ``post`` in any of the units, sorted: who a post-assigned task goes to."""
    codes = list(unit_codes)
    if not codes:
        return []
    return list(
        s.scalars(
            select(UserPost.username)
            .join(Unit, Unit.id == UserPost.unit_id)
            .join(User, User.username == UserPost.username)
            .where(UserPost.post == post, Unit.code.in_(codes), User.active.is_(True))
            .distinct()
            .order_by(UserPost.username)
        )
    )


def tenant_of(s: Session, username: str) -> str | None:
    return s.scalar(select(User.tenant).where(User.username == username))


def tenant_of_parent(s: Session, parent: str) -> str:
    """The tenant a new unit under ``parent`` joins; an unknown parent is bad input (422), not 404."""
    found = s.scalar(select(Unit.tenant).where(Unit.code == parent))
    if found is None:
        raise InvalidInputError(f"no unit '{parent}'", {"parent": [f"no unit '{parent}' / 上级单位不存在"]})
    return found


def tenants_of_codes(s: Session, codes: Iterable[str]) -> set[str]:
    """The tenants of the stored units among ``codes`` (unknown codes are the caller's to report)."""
    wanted = set(codes)
    if not wanted:
        return set()
    return set(s.scalars(select(Unit.tenant).where(Unit.code.in_(wanted)).distinct()))
