"""Reading the front line: who is on which post (the dispatch page), each cadre's record for the
growth archive, and the dashboard (filled and vacant places, cadres by rank and origin unit,
reviews overdue, list entries) Reads only; nothing here changes state.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from .. import rules
from ..tables import HumanTask, Instance, Unit, User, UserPost
from .process import PROCESS
from .records import DashboardRow, FrontlineEntryRecord, PoolRecord, StintRecord
from .tables import FrontlineEntry, FrontlinePost, FrontlineStint

REVIEW_TASKS = ("quarterly_review", "monthly_bulletin", "weekly_report")


def entries_of(s: Session, username: str, tenant: str | None) -> list[FrontlineEntryRecord]:
    """The person's front-line record in ``tenant``, oldest first (the growth archive calls this)."""
    same = FrontlineEntry.tenant.is_(None) if tenant is None else FrontlineEntry.tenant == tenant
    rows = s.scalars(
        select(FrontlineEntry)
        .where(FrontlineEntry.username == username, same)
        .order_by(FrontlineEntry.at, FrontlineEntry.id)
    )
    return [
        FrontlineEntryRecord(e.at, e.kind, e.instance_id, e.detail, e.by, dict(e.data or {})) for e in rows
    ]


def stints(s: Session, viewer: str, *, current_only: bool = True) -> list[StintRecord]:
    """The cadres on post now (or every stint), by front line and post."""
    actor = rules.actor_of(s, viewer)
    home, posted = aliased(Unit), aliased(Unit)
    stmt = (
        select(FrontlineStint, FrontlinePost, User.display_name, posted.name, home.name)
        .join(FrontlinePost, FrontlinePost.id == FrontlineStint.post_id)
        .join(User, User.username == FrontlineStint.username)
        .outerjoin(posted, posted.code == FrontlinePost.unit)
        .outerjoin(home, home.code == FrontlineStint.origin_unit)
        .order_by(FrontlinePost.front_line, FrontlinePost.id, FrontlineStint.started_at)
    )
    where = rules.tenant_filter(actor, FrontlineStint.tenant)
    if where is not None:
        stmt = stmt.where(where)
    if current_only:
        stmt = stmt.where(FrontlineStint.ended_at.is_(None))
    return [
        StintRecord(
            st.instance_id,
            st.username,
            name,
            post.id,
            post.title,
            post.front_line,
            unit_name or post.unit,
            origin or "",
            st.rank,
            st.started_at,
            st.ended_at,
            st.end_reason,
        )
        for st, post, name, unit_name, origin in s.execute(stmt)
    ]


def dashboard(s: Session, viewer: str, now: datetime) -> list[DashboardRow]:
    """Per post: capacity, filled, cadres by rank and origin unit, reviews overdue, list entries."""
    actor = rules.actor_of(s, viewer)
    stmt = select(FrontlinePost).order_by(FrontlinePost.front_line, FrontlinePost.id)
    where = rules.tenant_filter(actor, FrontlinePost.tenant)
    if where is not None:
        stmt = stmt.where(where)
    posts = list(s.scalars(stmt))
    current = stints(s, viewer)
    by_post: dict[int, list[StintRecord]] = {}
    for st in current:
        by_post.setdefault(st.post_id, []).append(st)
    overdue: Counter[int] = Counter()
    on_post = {st.instance_id: st.post_id for st in current}
    if on_post:
        for instance_id, count in s.execute(
            select(HumanTask.instance_id, func.count())
            .where(
                HumanTask.instance_id.in_(list(on_post)),
                HumanTask.status == "open",
                HumanTask.element_id.in_(REVIEW_TASKS),
                HumanTask.due_at.is_not(None),
                HumanTask.due_at < now,
            )
            .group_by(HumanTask.instance_id)
        ):
            overdue[on_post[instance_id]] += count
    lists: Counter[tuple[int, str]] = Counter()
    entries = select(FrontlineEntry.kind, FrontlineEntry.data).where(
        FrontlineEntry.kind.in_(("list_positive", "list_negative"))
    )
    mine = rules.tenant_filter(actor, FrontlineEntry.tenant)
    for kind, data in s.execute(entries if mine is None else entries.where(mine)):
        post = (data or {}).get("post")
        if isinstance(post, int):
            lists[(post, kind)] += 1
    units = {
        code: name
        for code, name in s.execute(
            select(Unit.code, Unit.name).where(Unit.code.in_({p.unit for p in posts}))
        )
    }
    return [
        DashboardRow(
            p.id,
            p.front_line,
            p.title,
            units.get(p.unit, p.unit),
            p.capacity,
            len(by_post.get(p.id, [])),
            dict(Counter(st.rank or "" for st in by_post.get(p.id, []))),
            dict(Counter(st.origin_unit_name for st in by_post.get(p.id, []))),
            overdue[p.id],
            lists[(p.id, "list_positive")],
            lists[(p.id, "list_negative")],
        )
        for p in posts
    ]


def pool(s: Session, viewer: str) -> list[PoolRecord]:
    """The tenant's running front-line instances, oldest first (the organisation department's view)."""
    actor = rules.actor_of(s, viewer)
    stmt = (
        select(Instance)
        .where(Instance.process_key == PROCESS, Instance.status == "running")
        .order_by(Instance.created_at)
    )
    where = rules.tenant_filter(actor, Instance.tenant)
    if where is not None:
        stmt = stmt.where(where)
    rows = list(s.scalars(stmt))
    cadres = {str((r.data or {}).get("cadre") or "") for r in rows}
    names = {
        u: n for u, n in s.execute(select(User.username, User.display_name).where(User.username.in_(cadres)))
    }
    out = []
    for r in rows:
        data = r.data or {}
        cadre = str(data.get("cadre") or "")
        out.append(
            PoolRecord(
                r.id,
                cadre,
                names.get(cadre, cadre),
                str(data.get("intake") or ""),
                str(data.get("front_line") or ""),
                str(data.get("phase") or ""),
                list(r.active_elements or []),
                r.created_at,
            )
        )
    return out


def nominees(s: Session, viewer: str) -> dict[str, list[tuple[str, str]]]:
    """Whom ``viewer`` may nominate by each path, as (username, name): themself; the people of the
    units they lead (a leading post, and the units below); everyone of the county with a post,
    for the organisation department."""
    actor = rules.actor_of(s, viewer)
    me = s.scalar(select(User.display_name).where(User.username == viewer)) or viewer
    out: dict[str, list[tuple[str, str]]] = {"self": [(viewer, me)], "unit": [], "organisation": []}
    led = list(
        s.scalars(
            select(Unit.path)
            .join(UserPost, UserPost.unit_id == Unit.id)
            .where(UserPost.username == viewer, UserPost.post.in_(rules.LEADING_POSTS))
        )
    )
    people = (
        select(User.username, User.display_name)
        .join(UserPost, UserPost.username == User.username)
        .join(Unit, Unit.id == UserPost.unit_id)
        .where(User.active.is_(True))
        .distinct()
        .order_by(User.username)
    )
    mine = rules.tenant_filter(actor, User.tenant)
    if mine is not None:
        people = people.where(mine)
    if led:
        under = or_(*(Unit.path.startswith(path, autoescape=True) for path in led))
        out["unit"] = [(u, n) for u, n in s.execute(people.where(under)) if u != viewer]
    if rules.allowed("manage_frontline", actor):
        out["organisation"] = [(u, n) for u, n in s.execute(people)]
    return out


def list_target(s: Session, username: str, viewer: str) -> str | None:
    """The instance of ``username``'s stint on post when ``viewer`` may file list entries for it
    (the post's manager or the organisation department), else None."""
    row = s.execute(
        select(FrontlineStint.instance_id, FrontlinePost.supervisor, FrontlineStint.tenant)
        .join(FrontlinePost, FrontlinePost.id == FrontlineStint.post_id)
        .where(FrontlineStint.username == username, FrontlineStint.ended_at.is_(None))
    ).first()
    if row is None:
        return None
    actor = rules.actor_of(s, viewer)
    if not rules.in_tenant(actor, row.tenant):
        return None
    return row.instance_id if viewer == row.supervisor or rules.allowed("manage_frontline", actor) else None
