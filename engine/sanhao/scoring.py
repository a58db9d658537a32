"""The year-end computation of 三好创争, as pure functions over plain data (no session, no clock).

A panel member's score sheet gives each subject a score per dimension on the scheme's scale;
``panel_result`` takes, per subject and dimension, the trimmed mean over the panel (the highest and
the lowest score dropped once there are three scorers or more) and combines the dimensions with
their weights into a total on the same scale. ``rank`` orders the year's subjects of each kind
across the towns, ``propose`` picks the first of each kind within the quotas, ``quota_errors``
says where a decided set of awards exceeds them, and ``award`` is the record of one award.

Shapes (all JSON data, as they are kept in the instances):

- a subject list (``subject``): ``{unit, unit_name, leader: {username, name}, deputies: [{username,
  name, post}]}``;
- a score sheet: ``{member, banzi: {dim: score}, banzhang: {dim: score}, banfu: [{deputy, dim:
  score}]}``;
- a result entry: ``{kind, subject_kind, subject, name, unit, dimensions: {dim: mean}, total,
  scorers}``; a ranking entry adds ``rank`` (1 = first; ties are broken by the higher lowest
  dimension, then by the subject's code, so ranks are unique and quotas exact).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scheme:
    """One award kind's standard: its dimensions (key, title, weight) on a common scale."""

    kind: str  # the key in score sheets and quotas: banzi | banzhang | banfu
    title: str  # the award: 好班子 | 好班长 | 好班副
    subject_kind: str  # unit | person
    dimensions: tuple[tuple[str, str, float], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _, _ in self.dimensions)


SCALE = (0.0, 10.0)  # every dimension is scored from 0 to 10 (the forms say so too)
SCHEMES: dict[str, Scheme] = {
    "banzi": Scheme(
        "banzi",
        "好班子",
        "unit",
        (
            ("leading", "引领力", 0.25),
            ("cohesion", "凝聚力", 0.25),
            ("fighting", "战斗力", 0.25),
            ("credibility", "公信力", 0.25),
        ),
    ),
    "banzhang": Scheme(
        "banzhang",
        "好班长",
        "person",
        (
            ("political_stance", "政治站位", 0.25),
            ("command", "驾驭水平", 0.25),
            ("responsibility", "担当能级", 0.25),
            ("development", "发展本领", 0.25),
        ),
    ),
    "banfu": Scheme(
        "banfu",
        "好班副",
        "person",
        (
            ("political_quality", "政治素质", 0.25),
            ("execution", "执行能力", 0.25),
            ("pioneering", "开拓精神", 0.25),
            ("expertise", "专业素养", 0.25),
        ),
    ),
}
BY_TITLE = {scheme.title: scheme for scheme in SCHEMES.values()}
NEGATIVE_AWARD = "躺平奖"
TRIM_FROM = 3  # with this many scorers or more, the highest and the lowest score are dropped


def trimmed_mean(values: Sequence[float]) -> float:
    """The mean without one highest and one lowest value (plain mean under ``TRIM_FROM`` values)."""
    if not values:
        raise ValueError("no scores to average")
    kept = sorted(values)[1:-1] if len(values) >= TRIM_FROM else list(values)
    return round(sum(kept) / len(kept), 3)


def combine(scheme: Scheme, dimensions: Mapping[str, float]) -> float:
    """The weighted total of one subject's dimension scores."""
    total = sum(weight * float(dimensions[key]) for key, _, weight in scheme.dimensions)
    return round(total / sum(weight for _, _, weight in scheme.dimensions), 3)


def out_of_scale(sheet: Mapping[str, Any]) -> list[str]:
    """The paths of the scores of ``sheet`` that are missing or outside ``SCALE`` (the form checks
    the same; this is the guard for data that did not come through it)."""
    low, high = SCALE
    bad = []
    for kind, part in (("banzi", sheet.get("banzi")), ("banzhang", sheet.get("banzhang"))):
        for key in SCHEMES[kind].keys:
            value = part.get(key) if isinstance(part, Mapping) else None
            if not isinstance(value, int | float) or not low <= value <= high:
                bad.append(f"{kind}.{key}")
    for i, part in enumerate(sheet.get("banfu") or []):
        for key in SCHEMES["banfu"].keys:
            value = part.get(key)
            if not isinstance(value, int | float) or not low <= value <= high:
                bad.append(f"banfu.{i}.{key}")
    return bad


def panel_result(subject: Mapping[str, Any], sheets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One town's result entries (its 班子, its 班长, each 班副) from its panel's score sheets."""
    unit = str(subject["unit"])

    def entry(kind: str, code: str, name: str, parts: list[Mapping[str, Any]]) -> dict[str, Any]:
        scheme = SCHEMES[kind]
        dims = {key: trimmed_mean([float(p[key]) for p in parts]) for key in scheme.keys}
        return {
            "kind": scheme.title,
            "subject_kind": scheme.subject_kind,
            "subject": code,
            "name": name,
            "unit": unit,
            "dimensions": dims,
            "total": combine(scheme, dims),
            "scorers": len(parts),
        }

    leader = subject["leader"]
    entries = [
        entry("banzi", unit, f"{subject.get('unit_name') or unit}班子", [s["banzi"] for s in sheets]),
        entry("banzhang", str(leader["username"]), str(leader["name"]), [s["banzhang"] for s in sheets]),
    ]
    for deputy in subject.get("deputies") or []:
        parts = [p for s in sheets for p in s.get("banfu") or [] if p.get("deputy") == deputy["username"]]
        if parts:
            entries.append(entry("banfu", str(deputy["username"]), str(deputy["name"]), parts))
    return entries


def rank(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The year's entries of every town, ranked within each award kind (see the module docstring)."""
    entries = list(entries)
    ranked: list[dict[str, Any]] = []
    for scheme in SCHEMES.values():
        mine = [dict(e) for e in entries if e["kind"] == scheme.title]
        mine.sort(key=lambda e: (-e["total"], -min(e["dimensions"].values()), e["subject"]))
        ranked.extend({**e, "rank": i} for i, e in enumerate(mine, start=1))
    return ranked


def propose(
    ranking: Iterable[Mapping[str, Any]], quotas: Mapping[str, int], year: int
) -> list[dict[str, Any]]:
    """The awards the ranking gives within the quotas: the first ``quotas[kind]`` of each kind."""
    return [
        award(
            e["kind"],
            e["subject_kind"],
            e["subject"],
            e["name"],
            e["unit"],
            year,
            f"全区第{e['rank']}名，总分{e['total']}",
        )
        for e in ranking
        if e["rank"] <= int(quotas.get(BY_TITLE[e["kind"]].kind, 0))
    ]


def quota_errors(awards: Iterable[Mapping[str, Any]], quotas: Mapping[str, int]) -> dict[str, int]:
    """Each award kind whose count in ``awards`` exceeds its quota, with the count."""
    counts: dict[str, int] = {}
    for a in awards:
        counts[a["kind"]] = counts.get(a["kind"], 0) + 1
    return {
        kind: n
        for kind, n in counts.items()
        if kind in BY_TITLE and n > int(quotas.get(BY_TITLE[kind].kind, 0))
    }


def award(
    kind: str, subject_kind: str, subject: str, name: str, unit: str, year: int, reason: str
) -> dict[str, Any]:
    """One award as the instance keeps it (the shape ``GET /awards`` lists)."""
    return {
        "kind": kind,
        "subject_kind": subject_kind,
        "subject": subject,
        "name": name,
        "unit": unit,
        "period": str(year),
        "reason": reason,
    }
