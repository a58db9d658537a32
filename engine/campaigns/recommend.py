"""Use of results (成果运用): an acceptance may recommend members of the claim for 重点培养 or
提拔使用. The acceptance form declares ``recommend`` with free usernames; this form view narrows
them, for each instance, to the people of its claim, named for the page (``x-enumTitles``), so
the form both offers and checks members only. Nothing a caller sends names anyone else.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..tables import Instance, User

FIELD = "recommend"
_views: dict[tuple[int, tuple[tuple[str, str], ...]], tuple[dict[str, Any], dict[str, Any]]] = {}


def form_view(session: Session, row: Instance, schema: dict[str, Any]) -> dict[str, Any]:
    """The acceptance form with ``recommend`` limited to the claim's members, by display name."""
    field = (schema.get("properties") or {}).get(FIELD)
    if not isinstance(field, dict):
        return schema
    members = _members(row.data or {})
    names = dict(
        session.execute(select(User.username, User.display_name).where(User.username.in_(members))).all()
    )
    people = tuple((m, names.get(m) or m) for m in members)
    key = (id(schema), people)
    hit = _views.get(key)
    if hit is None or hit[0] is not schema:  # one view per form and team: its validator compiles once
        if len(_views) > 1000:
            _views.clear()
        hit = _views[key] = (schema, _narrowed(schema, people))
    return hit[1]


def _narrowed(schema: dict[str, Any], people: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    field = out["properties"][FIELD]
    username = field.setdefault("items", {}).setdefault("properties", {}).setdefault("username", {})
    if people:
        username["enum"] = [u for u, _ in people]
        username["x-enumTitles"] = dict(people)
    else:
        field["maxItems"] = 0  # nobody to recommend: the item has no claim
    return out


def _members(data: dict[str, Any]) -> list[str]:
    claimant = _mapping(data.get("claimant"))
    names = [claimant.get("leader")] + [
        m.get("username") for m in claimant.get("members") or [] if isinstance(m, dict)
    ]
    return list(dict.fromkeys(n for n in names if isinstance(n, str) and n))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
