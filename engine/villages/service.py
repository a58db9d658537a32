"""Reading the 总队长制: the county's villages with their leaders, and appointments with their letters."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rules
from ..errors import NotFoundError
from ..tables import Instance, Unit, User, UserPost
from .appointment import CLASS_ATTRIBUTE, PROCESS, RANKS, display_name
from .records import AppointmentRecord, VillageRow
from .tables import VillageLeader


def board(s: Session, actor: rules.Actor) -> list[VillageRow]:
    """Every village of the actor's county (units with a 村类别), by town and name, with its 总队长."""
    stmt = select(Unit).order_by(Unit.path)
    where = rules.tenant_filter(actor, Unit.tenant)
    if where is not None:
        stmt = stmt.where(where)
    units = list(s.scalars(stmt))
    by_id = {u.id: u for u in units}
    villages = [u for u in units if (u.attributes or {}).get(CLASS_ATTRIBUTE)]
    codes = [v.code for v in villages]
    current = {
        a.village: a for a in s.scalars(select(VillageLeader).where(VillageLeader.current_village.in_(codes)))
    }
    pending = dict(
        s.execute(
            select(Instance.unit, Instance.id).where(
                Instance.process_key == PROCESS, Instance.status == "running", Instance.unit.in_(codes)
            )
        ).all()
    )
    names = dict(
        s.execute(
            select(User.username, User.display_name).where(
                User.username.in_([a.leader for a in current.values()])
            )
        ).all()
    )
    rows = []
    for v in villages:
        a = current.get(v.code)
        town = by_id.get(v.parent_id) if v.parent_id is not None else None
        rows.append(
            VillageRow(
                v.code,
                v.name,
                town.name if town is not None else "",
                str((v.attributes or {}).get(CLASS_ATTRIBUTE)),
                a.leader if a else None,
                names.get(a.leader, a.leader) if a else None,
                a.id if a else None,
                a.letter_no if a else None,
                a.appointed_at if a else None,
                pending.get(v.code),
            )
        )
    return sorted(rows, key=lambda r: (r.town_name, r.village_name))


def record(s: Session, a: VillageLeader) -> AppointmentRecord:
    return AppointmentRecord(
        a.id,
        a.village,
        a.leader,
        display_name(s, a.leader),
        a.letter_no,
        dict(a.letter or {}),
        a.appointed_at,
        a.confirmed_by,
        a.ended_at,
        a.ended_reason,
        a.instance_id,
    )


def visible_appointment(s: Session, actor: rules.Actor, appointment_id: int) -> VillageLeader:
    """An appointment of the actor's county; another county's is not found (nor an id no row can have)."""
    a = s.get(VillageLeader, appointment_id) if 1 <= appointment_id <= 2**31 - 1 else None
    if a is None or not rules.in_tenant(actor, a.tenant):
        raise NotFoundError(f"no appointment {appointment_id}")
    return a


def history(s: Session, actor: rules.Actor, village: str) -> list[AppointmentRecord]:
    """A village's 总队长 over time, newest first (changes of leader are kept, never overwritten)."""
    unit = s.scalar(select(Unit).where(Unit.code == village))
    if unit is None or not rules.in_tenant(actor, unit.tenant):
        raise NotFoundError(f"no village '{village}'")
    rows = s.scalars(
        select(VillageLeader)
        .where(VillageLeader.village == village)
        .order_by(VillageLeader.appointed_at.desc(), VillageLeader.id.desc())  # two on one day: the later
    )
    return [record(s, a) for a in rows]


def candidates(s: Session, actor: rules.Actor) -> list[tuple[str, str, str]]:
    """People of the actor's county whose posts carry a rank the rule knows: (username, name, rank),
    most senior first (the proposal form's choice; the rule itself still decides)."""
    stmt = (
        select(User.username, User.display_name, UserPost.rank)
        .join(UserPost, UserPost.username == User.username)
        .where(UserPost.rank.in_(RANKS), User.active.is_(True))
    )
    where = rules.tenant_filter(actor, User.tenant)
    if where is not None:
        stmt = stmt.where(where)
    best: dict[str, tuple[str, str]] = {}
    for username, name, rank in s.execute(stmt):
        rank = str(rank)  # in RANKS: never null
        if username not in best or RANKS.index(rank) < RANKS.index(best[username][1]):
            best[username] = (name, rank)
    return sorted(((u, n, r) for u, (n, r) in best.items()), key=lambda c: (RANKS.index(c[2]), c[1]))


def towns(s: Session, actor: rules.Actor) -> list[tuple[str, str]]:
    """Units that are the parent of some village of the actor's county: (code, name) by name."""
    rows = board(s, actor)
    codes = {r.village for r in rows}
    parents = select(Unit.parent_id).where(Unit.code.in_(codes))
    return sorted(
        s.execute(select(Unit.code, Unit.name).where(Unit.id.in_(parents))).all(), key=lambda t: t[1]
    )
