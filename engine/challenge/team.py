"""A claim's people as 滦南 files them: who leads it (挂帅领导), who answers for it (主要负责人) and the
team, members from several units and members without a login (name, unit, phone).

Pure checks of a claim body, then one query for the named users of the challenge's tenant; the
board (``board.file_claim``) runs them under the challenge's lock. Members without a login count
in a campaign's statistics but never enter the score ledger (the diagram skips them).
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeGuard

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from ..errors import InvalidInputError
from ..tables import Unit, User

#: A mainland mobile (13800138000) or a landline with its area code (0315-1234567).
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
REQUIRED = "required / 必填项"


def is_share(value: object) -> TypeGuard[float]:
    """A contribution share: a finite number from 0 to 100 (NaN and infinity are not shares)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 100
    )


def guest_key(member: dict[str, Any]) -> str:
    """How a member without a login is told apart in statistics: name and phone (never a username)."""
    return f"{member.get('name')}·{member.get('phone')}"


def shape(claim: dict[str, Any], filer: str, *, principal_required: bool) -> dict[str, Any]:
    """The claim's people checked for form: ``{kind, leader, principal, members}``; a 422 lists
    every bad field at once. ``principal_required`` (a campaign's problem): a claim that names no
    主要负责人 names its filer, who is always on the team."""
    kind = claim.get("kind")
    raw = claim.get("members") or []
    errors: dict[str, list[str]] = {}
    if kind not in ("individual", "team"):
        errors["kind"] = ["must be individual or team / 必须为 individual 或 team"]
    if not isinstance(raw, list):
        errors["members"] = ["must be a list / 必须为列表"]
        raw = []
    for field in ("plan", "pledge"):
        if not isinstance(claim.get(field), str) or not claim[field].strip():
            errors[field] = [REQUIRED]
    leader = claim.get("leader") or filer
    if not isinstance(leader, str) or len(leader) > 200:
        errors["leader"] = ["a username / 须为用户名"]
    members: list[dict[str, Any]] = []
    if kind == "individual":
        members = [{"username": filer, "share": 100}]
    elif kind == "team":
        members = _team(raw, filer, errors)
    principal = claim.get("principal")
    if principal is None and principal_required:
        principal = filer  # a campaign's claim always names its 主要负责人: by default whoever files it
    if principal is not None and principal not in [m.get("username") for m in members]:
        errors["principal"] = [
            "the 主要负责人 must be a member with a login / 主要负责人须为有账号的团队成员"
        ]
    if errors:
        raise InvalidInputError("claim invalid", errors)
    return {"kind": kind, "leader": leader, "principal": principal, "members": members}


def _team(raw: list[Any], filer: str, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    names = [m.get("username") for m in raw if isinstance(m, dict) and m.get("username")]
    members: list[Any] = raw if filer in names else [{"username": filer, "share": 0}, *raw]
    if len(members) < 2:
        errors["members"] = ["a team needs at least two members / 组团揭榜至少两人"]
    out: list[dict[str, Any]] = []
    total = 0.0
    for i, m in enumerate(members):
        if not isinstance(m, dict):
            errors[f"members.{i}"] = [REQUIRED]
            continue
        share = m.get("share", 0 if not m.get("username") else None)
        if not is_share(share):
            errors[f"members.{i}.share"] = ["a number from 0 to 100 / 须为 0 到 100 的数字"]
            continue
        total += share
        if isinstance(m.get("username"), str) and m["username"]:
            out.append({"username": m["username"], "share": share})
        elif _guest_ok(m, i, errors):
            out.append(
                {"name": m["name"].strip(), "unit": m["unit"].strip(), "phone": m["phone"], "share": share}
            )
    if "members" not in errors and abs(total - 100) > 1e-9:
        errors["members"] = [f"shares must sum to 100 (they sum to {total:g}) / 份额合计必须为 100"]
    keys = [m.get("username") or guest_key(m) for m in out]
    if len(set(keys)) != len(keys):
        errors["members"] = ["a member is listed twice / 成员重复"]
    return out


def _guest_ok(m: dict[str, Any], i: int, errors: dict[str, list[str]]) -> bool:
    """A member without a login: a name, a unit (a unit's code, or a company's name) and a phone."""
    ok = True
    for field, limit in (("name", 50), ("unit", 100)):
        value = m.get(field)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            errors[f"members.{i}.{field}"] = [f"1 to {limit} characters / 须为 1 到 {limit} 个字"]
            ok = False
    if not isinstance(m.get("phone"), str) or not PHONE.match(m["phone"]):
        errors[f"members.{i}.phone"] = ["a mobile or landline number / 须为手机号或带区号的座机号"]
        ok = False
    return ok


def check_people(s: Session, tenant: str | None, people: dict[str, Any]) -> None:
    """The leader and the members with a login are users of the challenge's tenant; a member's
    unit given as a code is one of its units (shown by name), else free text (a company)."""
    members = people["members"]
    wanted = [people["leader"], *[m["username"] for m in members if "username" in m]]
    known = set(s.scalars(select(User.username).where(User.username.in_(wanted), _same(User.tenant, tenant))))
    unknown = [m["username"] for m in members if "username" in m and m["username"] not in known]
    if unknown:
        raise InvalidInputError(
            "unknown members", {"members": [f"unknown user(s): {', '.join(unknown)} / 用户不存在"]}
        )
    if people["leader"] not in known:
        raise InvalidInputError(
            "unknown leader", {"leader": [f"unknown user {people['leader']} / 用户不存在"]}
        )
    codes = [m["unit"] for m in members if "unit" in m]
    if codes:
        units = dict(
            s.execute(
                select(Unit.code, Unit.name).where(
                    Unit.code.in_(codes), or_(Unit.tenant == tenant, Unit.code == tenant)
                )
            ).all()
        )
        for m in members:
            if m.get("unit") in units:
                m["unit_name"] = units[m["unit"]]


def _same(column: Any, tenant: str | None) -> ColumnElement[bool]:
    return column.is_(None) if tenant is None else column == tenant
