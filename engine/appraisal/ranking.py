"""Rankings read from the ledger: the subjects a scheme scored in a period, ordered by total and,
on equal totals, by the declared tie rule (``order_key``), with each dimension and the awards
given or proposed.

The tie rule: equal totals are ordered by the heaviest dimension (the first declared among equal
weights), then the next heaviest, and so on; subjects equal on every dimension share a rank, and
a quota whose boundary falls between them is refused (``awards.propose``): the 研究论证 decides.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..tables import ScoreEntry, Unit, User
from . import schemes
from .periods import Period
from .tables import Award, AwardList


@dataclass(frozen=True)
class RankingRow:
    """One subject's place in a ranking: rank, name, total, each dimension, awards (given or proposed)."""

    rank: int
    subject_kind: str
    subject: str
    name: str
    total: float
    dimensions: dict[str, float]
    awards: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)


def order_key(definition: dict[str, Any], total: float, dims: dict[str, float]) -> tuple[float, ...]:
    """Sort key of the tie rule: total, then dimensions heaviest first (all descending)."""
    return (-total, *(-dims.get(key, 0.0) for key in schemes.weight_order(definition)))


def names(s: Session, kind: str, subjects: list[str], tenant: str | None) -> dict[str, str]:
    """Unit names or people's display names of ``subjects`` (a name, never a code, on every page)."""
    if not subjects:
        return {}
    if kind == "unit":
        where = Unit.tenant.is_(None) if tenant is None else Unit.tenant == tenant
        return {
            k: v for k, v in s.execute(select(Unit.code, Unit.name).where(Unit.code.in_(subjects), where))
        }
    return {
        k: v
        for k, v in s.execute(select(User.username, User.display_name).where(User.username.in_(subjects)))
    }


def ranking(s: Session, tenant: str | None, definition: dict[str, Any], period: Period) -> list[RankingRow]:
    """The scheme's ranking of ``period`` (as closed panels wrote it to the ledger) in ``tenant``."""
    where = ScoreEntry.tenant.is_(None) if tenant is None else ScoreEntry.tenant == tenant
    totals: dict[str, float] = {}
    dims: dict[str, dict[str, float]] = defaultdict(dict)
    for row in s.scalars(
        select(ScoreEntry)
        .where(where, ScoreEntry.scheme == definition["name"], ScoreEntry.period == str(period))
        .order_by(ScoreEntry.id)
    ):  # a panel closed again later for the same period: its rows replace the earlier ones
        if row.dimension is None:
            totals[row.subject] = row.points
        else:
            dims[row.subject][row.dimension] = row.points
    kind = definition["subject_kind"]
    named = names(s, kind, list(totals), tenant)
    given, proposed = _awards(s, tenant, kind, str(period))
    ordered = sorted(totals, key=lambda x: (order_key(definition, totals[x], dims[x]), x))
    out: list[RankingRow] = []
    for i, subject in enumerate(ordered):
        key = order_key(definition, totals[subject], dims[subject])
        tied = out and order_key(definition, out[-1].total, out[-1].dimensions) == key
        out.append(
            RankingRow(
                out[-1].rank if tied else i + 1,
                kind,
                subject,
                named.get(subject, subject),
                totals[subject],
                dims[subject],
                given.get(subject, []),
                proposed.get(subject, []),
            )
        )
    return out


def _awards(
    s: Session, tenant: str | None, kind: str, period: str
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    given: dict[str, list[str]] = defaultdict(list)
    proposed: dict[str, list[str]] = defaultdict(list)
    for a in s.scalars(
        select(Award).where(
            Award.tenant.is_(None) if tenant is None else Award.tenant == tenant,
            Award.subject_kind == kind,
            Award.period == period,
        )
    ):
        given[a.subject].append(a.kind)
    for lst in s.scalars(
        select(AwardList).where(
            AwardList.tenant.is_(None) if tenant is None else AwardList.tenant == tenant,
            AwardList.subject_kind == kind,
            AwardList.period == period,
            AwardList.status == "proposed",
        )
    ):
        for entry in lst.entries:
            proposed[entry["subject"]].append(lst.kind)
    return given, proposed
