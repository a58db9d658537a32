"""The catalogue of posts on the five front lines (锻炼岗位): create, change, list, and what a post
has free. The organisation department manages it (``manage_frontline``); everyone of the tenant
reads it, since a cadre nominating themself picks a front line from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import rules
from ..errors import InvalidInputError, NotFoundError
from ..runtime.step import Step
from ..tables import Unit, User
from .records import FrontlinePostRecord
from .tables import FrontlinePost, FrontlineStint

#: The five front lines (五个一线): key -> name.
FRONT_LINES = {
    "project": "重大项目建设",
    "investment": "招商引资",
    "rural": "乡村振兴",
    "petition": "信访维稳",
    "community": "社区服务",
}
ROTATIONS = (1, 2, 3, 4, 6, 12)  # months after which a rotating post moves its cadre on (信访: 3)
FIELDS = (
    "front_line",
    "unit",
    "title",
    "duties",
    "ranks",
    "field",
    "capacity",
    "rotation_months",
    "supervisor",
    "active",
)


def require_organiser(s: Session, username: str) -> rules.Actor:
    actor = rules.actor_of(s, username)
    rules.require("manage_frontline", actor)
    return actor


def visible_post(s: Session, viewer: str, post_id: int) -> FrontlinePost:
    """The post, or 404 when it is unknown or another tenant's."""
    post = s.get(FrontlinePost, post_id) if 1 <= post_id <= 2**31 - 1 else None  # larger: no row
    if post is None or not rules.in_tenant(rules.actor_of(s, viewer), post.tenant):
        raise NotFoundError(f"no front-line post {post_id}")
    return post


def create(step: Step, body: dict[str, Any]) -> FrontlinePostRecord:
    s = step.session
    actor = require_organiser(s, step.actor or "")
    values = _checked(s, actor.tenant, body, partial=False)
    post = FrontlinePost(
        tenant=actor.tenant, created_by=step.actor, created_at=step.now, **{"active": True, **values}
    )
    s.add(post)
    s.flush()
    return records(s, [post])[0]


def update(step: Step, post_id: int, body: dict[str, Any]) -> FrontlinePostRecord:
    s = step.session
    actor = require_organiser(s, step.actor or "")
    post = visible_post(s, step.actor or "", post_id)
    values = _checked(s, actor.tenant, body, partial=True)
    capacity = values.get("capacity")
    if capacity is not None and capacity < filled(s, [post.id]).get(post.id, 0):
        raise InvalidInputError(
            "capacity below the cadres on the post",
            {"capacity": ["fewer places than cadres on the post now / 容量不能少于在岗人数"]},
        )
    for name, value in values.items():
        setattr(post, name, value)
    s.flush()
    return records(s, [post])[0]


def _checked(s: Session, tenant: str | None, body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The post's fields from ``body``, each checked; every refusal by field, or none."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    unknown = sorted(set(body) - set(FIELDS))
    for name in unknown:
        errors[name] = ["unknown field / 未知字段"]
    required = ("front_line", "unit", "title", "duties", "capacity", "supervisor")
    for name in required:
        if not partial and body.get(name) in (None, ""):
            errors.setdefault(name, []).append("required / 必填项")
    if "front_line" in body and body["front_line"] is not None:
        if body["front_line"] not in FRONT_LINES:
            errors.setdefault("front_line", []).append("one of the five front lines / 须为五个一线之一")
        out["front_line"] = body["front_line"]
    for name, limit in (("title", 200), ("duties", 4000), ("field", 100)):
        if name in body and body[name] is not None:
            value = body[name]
            if not isinstance(value, str) or len(value.strip()) == 0 or len(value) > limit:
                errors.setdefault(name, []).append(f"1 to {limit} characters / 长度须为 1 至 {limit} 个字符")
            else:
                out[name] = value.strip()
    if "field" in body and body["field"] is None:
        out["field"] = None
    if "unit" in body and body["unit"] is not None:
        stmt = select(Unit.code).where(Unit.code == str(body["unit"]))
        stmt = stmt.where(Unit.tenant.is_(None) if tenant is None else Unit.tenant == tenant)
        if s.scalar(stmt) is None:
            errors.setdefault("unit", []).append("no such unit / 单位不存在")
        out["unit"] = str(body["unit"])
    if "supervisor" in body and body["supervisor"] is not None:
        same = User.tenant.is_(None) if tenant is None else User.tenant == tenant
        if s.scalar(select(User.username).where(User.username == str(body["supervisor"]), same)) is None:
            errors.setdefault("supervisor", []).append("no such person / 用户不存在")
        out["supervisor"] = str(body["supervisor"])
    if "capacity" in body and body["capacity"] is not None:
        capacity = body["capacity"]
        if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 500:
            errors.setdefault("capacity", []).append("1 to 500 places / 容量须为 1 至 500")
        out["capacity"] = capacity
    if "ranks" in body:
        ranks = body["ranks"] or []
        if not isinstance(ranks, list) or not all(isinstance(r, str) and 0 < len(r) <= 50 for r in ranks):
            errors.setdefault("ranks", []).append("a list of ranks / 须为职级列表")
        out["ranks"] = sorted(set(ranks)) if isinstance(ranks, list) else []
    elif not partial:
        out["ranks"] = []
    if "rotation_months" in body:
        months = body["rotation_months"]
        if months is not None and months not in ROTATIONS:
            errors.setdefault("rotation_months", []).append(
                "1, 2, 3, 4, 6 or 12 months / 轮岗周期须为 1、2、3、4、6 或 12 个月"
            )
        out["rotation_months"] = months
    if "active" in body and body["active"] is not None:
        if not isinstance(body["active"], bool):
            errors.setdefault("active", []).append("true or false / 须为是或否")
        out["active"] = body["active"]
    if errors:
        raise InvalidInputError("the post is invalid / 岗位信息有误", errors)
    return out


def filled(s: Session, post_ids: Iterable[int]) -> dict[int, int]:
    """How many cadres hold each post now."""
    ids = list(post_ids)
    if not ids:
        return {}
    rows = s.execute(
        select(FrontlineStint.post_id, func.count())
        .where(FrontlineStint.post_id.in_(ids), FrontlineStint.ended_at.is_(None))
        .group_by(FrontlineStint.post_id)
    )
    return {post_id: count for post_id, count in rows}


def listing(
    s: Session, viewer: str, *, front_line: str | None = None, active_only: bool = False
) -> list[FrontlinePostRecord]:
    """The tenant's posts by front line, unit and title."""
    actor = rules.actor_of(s, viewer)
    stmt = select(FrontlinePost).order_by(FrontlinePost.front_line, FrontlinePost.unit, FrontlinePost.id)
    where = rules.tenant_filter(actor, FrontlinePost.tenant)
    if where is not None:
        stmt = stmt.where(where)
    if front_line is not None:
        stmt = stmt.where(FrontlinePost.front_line == front_line)
    if active_only:
        stmt = stmt.where(FrontlinePost.active.is_(True))
    return records(s, list(s.scalars(stmt)))


def records(s: Session, posts: list[FrontlinePost]) -> list[FrontlinePostRecord]:
    """Posts as records, with their unit's and supervisor's names and their holders (a few statements for all)."""
    ids = [p.id for p in posts]
    counts = filled(s, ids)
    units = {
        code: name
        for code, name in s.execute(
            select(Unit.code, Unit.name).where(Unit.code.in_({p.unit for p in posts}))
        )
    }
    holders: dict[int, list[str]] = {}
    if ids:
        for post_id, name in s.execute(
            select(FrontlineStint.post_id, User.display_name)
            .join(User, User.username == FrontlineStint.username)
            .where(FrontlineStint.post_id.in_(ids), FrontlineStint.ended_at.is_(None))
            .order_by(FrontlineStint.started_at)
        ):
            holders.setdefault(post_id, []).append(name)
    people = {
        username: name
        for username, name in s.execute(
            select(User.username, User.display_name).where(User.username.in_({p.supervisor for p in posts}))
        )
    }
    return [
        FrontlinePostRecord(
            p.id,
            p.front_line,
            p.unit,
            units.get(p.unit, p.unit),
            p.title,
            p.duties,
            list(p.ranks or []),
            p.field,
            p.capacity,
            p.rotation_months,
            p.supervisor,
            people.get(p.supervisor, p.supervisor),
            p.active,
            counts.get(p.id, 0),
            holders.get(p.id, []),
        )
        for p in posts
    ]
