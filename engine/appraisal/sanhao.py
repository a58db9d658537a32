"""The 三好创争 schemes of 姜堰 as shipped data: 四强 for a town's leadership team (好班子), 四高 for
its first secretary (好班长), 四优 for its deputies (好班副), with the first batch's quotas
(4 好班子, 4 好班长, 18 好班副). Any tenant uses them by name; a tenant's own scheme of the same
name shadows the shipped one for it. The weights are declared here (the seed gives none): the
first standard of each weighs most, which the tie rule reads (``ranking.order_key``).
"""

from __future__ import annotations

from typing import Any


def _dimensions(*names: tuple[str, str, str]) -> list[dict[str, Any]]:
    weights = (0.3, 0.25, 0.25, 0.2)
    return [
        {"key": key, "name": name, "name_en": name_en, "weight": weight, "min": 0, "max": 100}
        for (key, name, name_en), weight in zip(names, weights, strict=True)
    ]


SHIPPED_SCHEMES: dict[str, dict[str, Any]] = {
    "四强": {
        "name": "四强",
        "title": "好班子“四强”标准",
        "title_en": "Good team: the four strengths",
        "subject_kind": "unit",
        "dimensions": _dimensions(
            ("leading", "引领力强", "Strong leadership"),
            ("cohesion", "凝聚力强", "Strong cohesion"),
            ("fighting", "战斗力强", "Strong effectiveness"),
            ("credibility", "公信力强", "Strong credibility"),
        ),
        "rule": "weighted_sum",
        "aggregation": "trimmed",
        "award": {"kind": "好班子", "quota": 4},
    },
    "四高": {
        "name": "四高",
        "title": "好班长“四高”标准",
        "title_en": "Good leader: the four highs",
        "subject_kind": "person",
        "dimensions": _dimensions(
            ("political", "政治站位高", "High political standing"),
            ("command", "驾驭水平高", "High command of the whole"),
            ("duty", "担当能级高", "High sense of duty"),
            ("development", "发展本领高", "High development skill"),
        ),
        "rule": "weighted_sum",
        "aggregation": "trimmed",
        "award": {"kind": "好班长", "quota": 4},
    },
    "四优": {
        "name": "四优",
        "title": "好班副“四优”标准",
        "title_en": "Good deputy: the four excellences",
        "subject_kind": "person",
        "dimensions": _dimensions(
            ("quality", "政治素质优", "Excellent political quality"),
            ("execution", "执行能力优", "Excellent execution"),
            ("pioneering", "开拓精神优", "Excellent pioneering spirit"),
            ("expertise", "专业素养优", "Excellent expertise"),
        ),
        "rule": "weighted_sum",
        "aggregation": "trimmed",
        "award": {"kind": "好班副", "quota": 18},
    },
}

#: The negative award (躺平奖) for inaction: nominated with a reason, no scheme, no ranking.
NEGATIVE_KINDS = ("躺平奖",)
