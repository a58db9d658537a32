"""姜堰's 三好创争 for the tests: a county, its organisation department and a panel, three towns
each with a 书记 (班长), two deputies (班副) and a clerk, and helpers that run a town's year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine import Engine
from engine import organisation as org
from engine.organisation import PostAssignment

YEAR = 2027
TOWNS = {  # code: (name, secretary, [(deputy, post)], clerk)
    "baimi": ("白米镇", "teng", [("xu_bm", "镇长"), ("zhu_bm", "副镇长")], "clerk_bm"),
    "luotang": ("罗塘街道", "luo", [("wu_lt", "主任"), ("qin_lt", "副主任")], "clerk_lt"),
    "dalun": ("大伦镇", "xue", [("he_dl", "镇长"), ("ma_dl", "副镇长")], "clerk_dl"),
}
PANEL = ["ping1", "ping2", "ping3"]
ORGANISER = "zzb_head"
QUOTAS = {"banzi": 1, "banzhang": 1, "banfu": 2}
GUIDE = ["理论学习中心组学习制度化", "招商引资和项目落地争先进位"]
TARGETS = {"foreign_capital": 5000, "industrial_investment": 200000, "invoiced_sales": 1000000}


def jiangyan(engine: Engine) -> None:
    """姜堰区: 区委组织部 (its head administers the county), the panel and three towns."""
    now = engine.clock.now()
    with engine.store.write() as s:
        org.upsert_unit(s, "jiangyan", name="姜堰区", kind="county", parent=None, attributes=None, now=now)
        org.upsert_unit(
            s, "zzb", name="区委组织部", kind="department", parent="jiangyan", attributes=None, now=now
        )
        for code, (name, *_rest) in TOWNS.items():
            org.upsert_unit(s, code, name=name, kind="town", parent="jiangyan", attributes=None, now=now)
    people: dict[str, tuple[str, str, str, list[str]]] = {
        ORGANISER: ("zzb", "部长", "组织部长", ["admin@jiangyan"]),
        **{p: ("zzb", "评审组成员", f"评委{p[-1]}", []) for p in PANEL},
    }
    for code, (name, secretary, deputies, clerk) in TOWNS.items():
        people[secretary] = (code, "书记", f"{name}书记", [])
        for username, post in deputies:
            people[username] = (code, post, f"{name}{post}{username[:2]}", [])
        people[clerk] = (code, "科员", f"{name}科员", [])
    for username, (unit, post, display, roles) in people.items():
        engine.upsert_user(username, display_name=display, roles=roles)
        with engine.store.write() as s:
            org.set_posts(s, username, [PostAssignment(unit, post, "科级")])


def start_town(engine: Engine, town: str, **overrides: Any) -> str:
    data = {
        "title": f"{YEAR}年三好创争·{TOWNS[town][0]}",
        "year": YEAR,
        "unit": town,
        "panel": PANEL,
        "quotas": QUOTAS,
        **overrides,
    }
    return engine.start("sanhao", actor=ORGANISER, data=data).id


def task_of(engine: Engine, instance_id: str, element: str) -> Any:
    """The one open task at ``element``."""
    [task] = [t for t in engine.get_instance(instance_id).open_tasks if t.element_id == element]
    return task


def month_opens(month: int) -> datetime:
    """The first of ``month`` of the year in Beijing, as UTC."""
    return datetime(YEAR, month, 1, tzinfo=UTC) - timedelta(hours=8)


def kpi_form(quarter: int, share: float) -> dict[str, Any]:
    """A quarter's point-check: targets a quarter of the plan each, actuals ``share`` of the plan."""
    return {
        "kpis": {
            key: {"target": annual * quarter / 4, "actual": round(annual * share)}
            for key, annual in TARGETS.items()
        },
        "kpi_note": "补短：加快项目签约落地。",
    }


def study(month: int) -> dict[str, Any]:
    return {
        "study_topic": f"{month}月理论学习",
        "study_date": f"{YEAR}-{month:02d}-10",
        "study_attendance": 12,
        "study_notes": "学习贯彻领导班子建设规划纲要。",
    }


def green() -> dict[str, Any]:
    return {"rating": "green", "review_summary": "按计划推进。", "actions": []}


def talk(deputy: str) -> dict[str, Any]:
    return {"interviewee": deputy, "interview_topic": "分管工作", "interview_notes": "肯定成绩，指出不足。"}


def sheet(banzi: float, banzhang: float, banfu: dict[str, float]) -> dict[str, Any]:
    """A panel member's sheet: every dimension of a subject gets the same score."""

    def dims(keys: tuple[str, ...], score: float) -> dict[str, float]:
        return dict.fromkeys(keys, score)

    return {
        "banzi": dims(("leading", "cohesion", "fighting", "credibility"), banzi),
        "banzhang": dims(("political_stance", "command", "responsibility", "development"), banzhang),
        "banfu": [
            {"deputy": d, **dims(("political_quality", "execution", "pioneering", "expertise"), s)}
            for d, s in banfu.items()
        ],
    }
