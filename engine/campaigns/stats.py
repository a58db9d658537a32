"""A campaign's statistics: problems, claimed, solved, overdue and people, grouped one of five ways.

Read from ``campaign_problem`` (kept exact by the projection in ``service.refresh``) joined to the
instance's status in one indexed query; ranks come from the posts the people in claims hold.
``people`` counts distinct people named in claims (leaders and members, those without a login
too: by name and phone, with no rank).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..challenge.board import LOCAL_TZ
from ..errors import InvalidInputError
from ..tables import Instance, UserPost
from .records import StatRow
from .service import CLOSED, status_column
from .tables import Campaign, CampaignProblem

GROUPINGS = ("category", "unit", "rank", "status", "month")
NO_RANK = "未定级"


class _Tally:
    def __init__(self) -> None:
        self.problems = self.claimed = self.solved = self.overdue = 0
        self.people: set[str] = set()

    def row(self, key: str) -> StatRow:
        return StatRow(key, self.problems, self.claimed, self.solved, self.overdue, len(self.people))


def stats(s: Session, campaign: Campaign, by: str, now: datetime) -> list[StatRow]:
    if by not in GROUPINGS:
        raise InvalidInputError(
            f"unknown grouping '{by}'", {"by": [f"one of {', '.join(GROUPINGS)} / 分组方式无效"]}
        )
    rows = s.execute(
        select(
            CampaignProblem.category,
            CampaignProblem.lead_unit,
            status_column().label("status"),
            CampaignProblem.created_at,
            CampaignProblem.deadline,
            CampaignProblem.claimed_at,
            CampaignProblem.solved_at,
            CampaignProblem.people,
        )
        .join(Instance, Instance.id == CampaignProblem.instance_id)
        .where(CampaignProblem.campaign_id == campaign.id)
        .order_by(CampaignProblem.number)
    ).all()
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    if by == "category":
        for c in campaign.categories:
            tallies[c]  # every category of the campaign is a line, even with nothing in it
    ranks = _ranks(s, {p for r in rows for p in r.people or []}) if by == "rank" else {}
    for r in rows:
        overdue = (
            r.status not in CLOSED and r.solved_at is None and r.deadline is not None and r.deadline < now
        )
        if by == "month":
            _by_month(tallies, r, overdue)
            continue
        for key, people in _keys(by, r, ranks):
            t = tallies[key]
            t.problems += 1
            t.claimed += r.claimed_at is not None
            t.solved += r.solved_at is not None
            t.overdue += overdue
            t.people |= people
    return [t.row(k) for k, t in (sorted(tallies.items()) if by == "month" else tallies.items())]


def _keys(by: str, r: Any, ranks: dict[str, str]) -> Iterable[tuple[str, set[str]]]:
    people = set(r.people or [])
    if by == "category":
        return [(r.category, people)]
    if by == "unit":
        return [(r.lead_unit or "", people)]
    if by == "status":
        return [(r.status, people)]
    grouped: dict[str, set[str]] = defaultdict(
        set
    )  # rank: the problem counts once under each rank in its claims
    for name in people:
        grouped[ranks.get(name, NO_RANK)].add(name)
    return grouped.items()


def _by_month(tallies: dict[str, _Tally], r: Any, overdue: bool) -> None:
    """By month each figure counts when it happened: filed, claimed, solved, fell due."""
    tallies[_month(r.created_at)].problems += 1
    if r.claimed_at is not None:
        t = tallies[_month(r.claimed_at)]
        t.claimed += 1
        t.people |= set(r.people or [])
    if r.solved_at is not None:
        tallies[_month(r.solved_at)].solved += 1
    if overdue:
        tallies[_month(r.deadline)].overdue += 1


def _month(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m")


def _ranks(s: Session, people: set[str]) -> dict[str, str]:
    """Each person's rank: the first ranked post they hold."""
    out: dict[str, str] = {}
    if not people:
        return out
    for username, rank in s.execute(
        select(UserPost.username, UserPost.rank)
        .where(UserPost.username.in_(sorted(people)), UserPost.rank.is_not(None))
        .order_by(UserPost.id)
    ):
        if rank:
            out.setdefault(username, rank)
    return out
