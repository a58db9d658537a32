"""What appraisals leave in a subject's archive: the awards it was given (with their reasons) and
its place in each ranking it was scored in. The person archive (``campaigns/archive.py``) adds
``entries(…, "person", username)``; the unit archive is ``unit_archive``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rules
from ..errors import NotFoundError
from ..tables import ScoreEntry, Unit, UserPost
from . import schemes
from .periods import Period
from .ranking import ranking
from .tables import Award


@dataclass(frozen=True)
class AppraisalEntry:
    """One line of a subject's archive from appraisals: an award or a ranking result."""

    at: datetime
    kind: str  # award | ranking
    title: str  # the award kind, or the scheme's title
    detail: str  # the reason, or the rank and total
    period: str
    points: float | None
    instance_id: str | None
    rank: int | None = None  # a ranking's place, and how many were placed (pages word it themselves)
    placed: int | None = None


def entries(s: Session, tenant: str | None, subject_kind: str, subject: str) -> list[AppraisalEntry]:
    """The subject's awards and ranking results, oldest first."""
    where = ScoreEntry.tenant.is_(None) if tenant is None else ScoreEntry.tenant == tenant
    out = [
        AppraisalEntry(a.given_at, "award", a.kind, a.reason, a.period, None, a.instance_id)
        for a in s.scalars(
            select(Award).where(
                Award.subject_kind == subject_kind,
                Award.subject == subject,
                Award.tenant.is_(None) if tenant is None else Award.tenant == tenant,
            )
        )
    ]
    totals = s.scalars(
        select(ScoreEntry).where(
            where,
            ScoreEntry.subject_kind == subject_kind,
            ScoreEntry.subject == subject,
            ScoreEntry.scheme.is_not(None),
            ScoreEntry.dimension.is_(None),
        )
    ).all()
    for row in totals:
        try:
            definition = schemes.find(s, tenant, row.scheme or "")
        except NotFoundError:  # a result another mechanism wrote (考核捆绑): its reason says it all
            out.append(
                AppraisalEntry(
                    row.awarded_at,
                    "bundled",
                    row.scheme or "",
                    row.reason,
                    row.period,
                    row.points,
                    row.instance_id,
                )
            )
            continue
        placed = {r.subject: r for r in ranking(s, tenant, definition, Period.parse(row.period))}
        mine = placed.get(subject)
        if mine is None or mine.total != row.points:
            continue  # a result a later close of the same panel period replaced
        title = str(definition.get("title") or definition["name"])
        detail = f"{row.period} 第{mine.rank}名（共{len(placed)}名），总分{row.points:g}"
        out.append(
            AppraisalEntry(
                row.awarded_at,
                "ranking",
                title,
                detail,
                row.period,
                row.points,
                row.instance_id,
                rank=mine.rank,
                placed=len(placed),
            )
        )
    return sorted(out, key=lambda e: e.at)


def unit_archive(s: Session, code: str, viewer: str) -> tuple[Unit, list[AppraisalEntry]]:
    """A unit's archive: its own leaders (``rules.LEADING_POSTS`` in the unit), organisers and
    admins read it; another tenant's or an unknown unit is 404."""
    actor = rules.actor_of(s, viewer)
    unit = s.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not rules.in_tenant(actor, unit.tenant):
        raise NotFoundError(f"no unit '{code}'")
    leads = s.scalar(
        select(UserPost.id).where(
            UserPost.unit_id == unit.id,
            UserPost.username == viewer,
            UserPost.post.in_(rules.LEADING_POSTS),
        )
    )
    if leads is None:
        rules.require("read_archives", actor)
    return unit, entries(s, unit.tenant, "unit", code)
