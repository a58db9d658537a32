"""姜堰's 三好创争 for the tests: a district with four towns, each with its secretary (班长) and
deputies (班副), the 组织部 that organises, and a panel of five scorers."""

from __future__ import annotations

from typing import Any

from engine import Engine
from engine import organisation as org
from engine.organisation import PostAssignment

TOWNS = {"baimi": "白米镇", "luotang": "罗塘街道", "dalun": "大伦镇", "yuxi": "淤溪镇"}
UNITS = {  # code: (name, kind, parent)
    "jiangyan": ("姜堰区", "county", None),
    "jy_zzb": ("区委组织部", "department", "jiangyan"),
    **{code: (name, "town", "jiangyan") for code, name in TOWNS.items()},
}
SECRETARIES = {"baimi": "dai", "luotang": "xiao", "dalun": "xue", "yuxi": "teng"}
DEPUTIES = {  # two or more per town
    "baimi": ["bm_zhen", "bm_fu"],
    "luotang": ["lt_zhen", "lt_fu"],
    "dalun": ["dl_zhen", "dl_fu"],
    "yuxi": ["yx_zhen", "yx_fu", "yx_ji"],
}
SCORERS = ["ping1", "ping2", "ping3", "ping4", "ping5"]
ORGANISER = "jy_admin"
DISPLAY = {"dai": "戴书记", "xiao": "肖书记", "xue": "薛勇明", "teng": "滕智东", ORGANISER: "组织部干部科"}


def district(engine: Engine) -> None:
    """姜堰区 with four towns; the 组织部's cadre (admin@jy_zzb) organises, five cadres score."""
    now = engine.clock.now()
    with engine.store.write() as s:
        for code, (name, kind, parent) in UNITS.items():
            org.upsert_unit(s, code, name=name, kind=kind, parent=parent, attributes=None, now=now)
    people: dict[str, tuple[str, str]] = {ORGANISER: ("jy_zzb", "干部科科长")}
    people.update({u: (town, "书记") for town, u in SECRETARIES.items()})
    for town, deputies in DEPUTIES.items():
        people.update({u: (town, "副镇长") for u in deputies})
    people.update({u: ("jy_zzb", "评议组成员") for u in SCORERS})
    for username, (unit, post) in people.items():
        roles = ["admin@jy_zzb"] if username == ORGANISER else []
        engine.upsert_user(username, display_name=DISPLAY.get(username, f"{username}同志"), roles=roles)
        with engine.store.write() as s:
            org.set_posts(s, username, [PostAssignment(unit, post, "科级")])


def scores(base: float, **overrides: float) -> dict[str, Any]:
    """四强 scores: every dimension ``base`` unless overridden."""
    return {"leading": base, "cohesion": base, "fighting": base, "credibility": base, **overrides}


def score_towns(engine: Engine, panel_id: int, by_town: dict[str, list[dict[str, Any]]]) -> None:
    """Each scorer in turn scores each town (``by_town[town][i]`` is scorer i's sheet)."""
    for town, sheets in by_town.items():
        for scorer, sheet in zip(SCORERS, sheets, strict=False):
            engine.record_scores(panel_id, scorer, town, sheet)


def town_panel(engine: Engine, period: str = "2026", **overrides: Any) -> int:
    body = {"scheme": "四强", "period": period, "subjects": list(TOWNS), "scorers": SCORERS, **overrides}
    return engine.open_panel(ORGANISER, body).id
