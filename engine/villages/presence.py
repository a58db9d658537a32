"""Presence in the village (against 走读式驻村): visits and nights logged by the person or by the OA.

A person logs their own stays; an admin or the OA service logs them for anyone of the county
(the OA relays its own attendance records). The dashboard counts visits and nights per person
and village over a period, marking each village's 总队长.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import rules
from ..errors import InvalidInputError, NotAllowedError
from ..runtime.step import Step
from ..tables import Unit, User
from .appointment import CLASS_ATTRIBUTE, display_name
from .records import PresenceRow, VisitRecord
from .tables import VillageLeader, VillageVisit

MAX_NIGHTS = 31


def village_of(s: Session, code: str, actor: rules.Actor) -> Unit:
    """A village of the actor's county (its class set); another county's is unknown."""
    unit = s.scalar(select(Unit).where(Unit.code == code))
    if (
        unit is None
        or not rules.in_tenant(actor, unit.tenant)
        or not (unit.attributes or {}).get(CLASS_ATTRIBUTE)
    ):
        raise InvalidInputError(f"no village '{code}'", {"village": [f"no village '{code}' / 村不存在"]})
    return unit


def log_visit(step: Step, body: dict[str, Any]) -> VisitRecord:
    """Record one stay: ``{village, day, nights?, note?, username?}`` (``username``: admins and the OA only)."""
    s, now = step.session, step.now
    actor = rules.actor_of(s, step.actor or "")
    unit = village_of(s, str(body.get("village") or ""), actor)
    username = str(body.get("username") or actor.username)
    if username != actor.username:
        if not actor.roles & set(rules.PRIVILEGED_ROLES):
            raise NotAllowedError("only admins and the OA log stays for others / 仅管理员和OA可代为登记")
        same = User.tenant.is_(None) if unit.tenant is None else User.tenant == unit.tenant
        if s.scalar(select(User.username).where(User.username == username, same)) is None:
            raise InvalidInputError(f"unknown user '{username}'", {"username": ["unknown user / 用户不存在"]})
    errors: dict[str, list[str]] = {}
    day = str(body.get("day") or "")
    try:
        when = date.fromisoformat(day)
        if when > now.date():
            errors["day"] = ["not in the future / 不能晚于今天"]
    except ValueError:
        errors["day"] = ["a date YYYY-MM-DD / 日期格式为 YYYY-MM-DD"]
    nights = body.get("nights", 0)
    if not isinstance(nights, int) or isinstance(nights, bool) or not 0 <= nights <= MAX_NIGHTS:
        errors["nights"] = [f"0 to {MAX_NIGHTS} / 住村天数为 0 至 {MAX_NIGHTS}"]
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        errors["note"] = ["at most 2000 characters / 最多 2000 字"]
    if errors:
        raise InvalidInputError("invalid stay", errors)
    visit = VillageVisit(
        tenant=unit.tenant,
        village=unit.code,
        username=username,
        day=day,
        nights=nights,
        note=note or None,
        recorded_by=actor.username,
        created_at=now,
    )
    s.add(visit)
    s.flush()
    return VisitRecord(
        visit.id,
        unit.code,
        unit.name,
        username,
        display_name(s, username),
        day,
        nights,
        visit.note,
        actor.username,
    )


def presence(s: Session, actor: rules.Actor, since: str | None, until: str | None) -> list[PresenceRow]:
    """Visits and nights per person and village of the actor's county, busiest first."""
    stmt = select(
        VillageVisit.village,
        VillageVisit.username,
        func.count(VillageVisit.id),
        func.coalesce(func.sum(VillageVisit.nights), 0),
        func.max(VillageVisit.day),
    ).group_by(VillageVisit.village, VillageVisit.username)
    where = rules.tenant_filter(actor, VillageVisit.tenant)
    if where is not None:
        stmt = stmt.where(where)
    if since:
        stmt = stmt.where(VillageVisit.day >= since)
    if until:
        stmt = stmt.where(VillageVisit.day <= until)
    rows = s.execute(stmt).all()
    villages = dict(s.execute(select(Unit.code, Unit.name).where(Unit.code.in_({r[0] for r in rows}))).all())
    people = dict(
        s.execute(
            select(User.username, User.display_name).where(User.username.in_({r[1] for r in rows}))
        ).all()
    )
    leaders = set(
        s.execute(
            select(VillageLeader.village, VillageLeader.leader).where(
                VillageLeader.current_village.is_not(None)
            )
        ).all()
    )
    out = [
        PresenceRow(
            village,
            villages.get(village, village),
            username,
            people.get(username, username),
            (village, username) in leaders,
            int(visits),
            int(nights),
            str(last),
        )
        for village, username, visits, nights, last in rows
    ]
    return sorted(out, key=lambda r: (-r.visits - r.nights, r.village_name, r.display_name))
