"""A county's annual campaign for the tests: 滦南's units, cadres with ranks, and problem lists as .xlsx."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from engine import Engine
from engine import organisation as org
from engine.organisation import PostAssignment

CATEGORIES = [
    "项目建设类",
    "城市建设类",
    "乡村振兴类",
    "民生发展类",
    "社会治理类",
    "队伍建设类",
    "生态环保类",
    "其他",
]
HEADERS = ["编号", "类别", "题目", "问题描述", "目标", "牵头单位", "时限", "分值"]
UNITS = {  # code: (name, kind, parent)
    "luannan": ("滦南县", "county", None),
    "zzb": ("县委组织部", "department", "luannan"),
    "zjj": ("县住建局", "department", "luannan"),
    "nyj": ("县农业农村局", "department", "luannan"),
    "bgz": ("柏各庄镇", "town", "luannan"),
    "qianying": ("倴城镇", "town", "luannan"),
}
CADRES = {  # username: (unit, post, rank)
    "zzb_admin": ("zzb", "副部长", "科级"),
    "liu": ("zjj", "副局长", "科级"),
    "chen": ("nyj", "股长", "股级"),
    "gao": ("bgz", "副镇长", "科级"),
    "he": ("qianying", "办事员", "股级"),
}
REVIEWERS = {  # the county's task force, committee and evaluation group: people of 滦南 too
    "zhao": ("zzb", "考核专班成员", "股级"),
    "sun": ("zzb", "县委常委", "科级"),
    "qian": ("zzb", "考评组成员", "科级"),
}


def county(engine: Engine) -> None:
    """滦南县 with departments and towns; 组织部's deputy head administers the campaign (admin@zzb)."""
    now = engine.clock.now()
    with engine.store.write() as s:
        for code, (name, kind, parent) in UNITS.items():
            org.upsert_unit(s, code, name=name, kind=kind, parent=parent, attributes=None, now=now)
    for username, (unit, post, rank) in {**CADRES, **REVIEWERS}.items():
        roles = ["admin@zzb"] if username == "zzb_admin" else []
        engine.upsert_user(username, display_name=username, roles=roles)
        with engine.store.write() as s:
            org.set_posts(s, username, [PostAssignment(unit, post, rank)])


def campaign_body(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "2026年百名干部破百题",
        "year": 2026,
        "organiser_unit": "zzb",
        "categories": CATEGORIES,
        "key_prefix": "LN2026-",
        **overrides,
    }


def problem_row(number: int | None, **overrides: Any) -> list[Any]:
    """A good row of the list; ``overrides`` by Chinese header."""
    units = ["zjj", "县农业农村局", "bgz", "倴城镇"]
    values = {
        "编号": number,
        "类别": CATEGORIES[(number or 0) % len(CATEGORIES)],
        "题目": f"第{number}号难题：老旧小区雨污分流改造",
        "问题描述": "雨季积水严重，群众反映强烈。",
        "目标": "年底前完成改造并通过验收",
        "牵头单位": units[(number or 0) % len(units)],
        "时限": "2026-12-31",
        "分值": 10 + (number or 0) % 5,
        **overrides,
    }
    return [values[h] for h in HEADERS]


def workbook(rows: Sequence[Sequence[Any]], headers: Sequence[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def problem_list(count: int, start: int = 1) -> bytes:
    return workbook([problem_row(n) for n in range(start, start + count)])


# ---- the annual list (bpmn/annual_list.bpmn) ----
DEADLINE = "2026-03-20T10:00:00+00:00"  # the test clock starts on 2026-03-02 (conftest)
REMINDER = "2026-03-15T10:00:00+00:00"
LIAISONS = {"zjj": "liu_ll", "nyj": "chen_ll", "bgz": "gao_ll"}  # each unit's 联络员


def start_list(engine: Engine, **overrides: Any) -> tuple[int, str]:
    campaign = engine.create_campaign("zzb_admin", campaign_body())
    data = {
        "campaign": campaign.id,
        "units": list(LIAISONS),
        "panel": ["sun", "qian"],
        "submission_deadline": DEADLINE,
        "reminder_at": REMINDER,
        "discussion_days": 5,
        **overrides,
    }
    return campaign.id, engine.start("annual_list", actor="zzb_admin", data=data).id


def problem(title: str, category: str, points: int = 10) -> dict[str, Any]:
    return {
        "title": title,
        "category": category,
        "description": f"{title}：群众反映强烈。",
        "goals": "年底前解决",
        "proposed_deadline": "2027-06-30T00:00:00+00:00",
        "proposed_points": points,
    }


def open_task(engine: Engine, instance_id: str, element: str, who: str) -> str:
    """The open task at ``element`` that ``who`` holds."""
    [task] = [
        t for t in engine.get_instance(instance_id).open_tasks if (t.element_id, t.assignee) == (element, who)
    ]
    return task.id


def liaisons(engine: Engine) -> None:
    """Each unit that submits to the annual list names a 联络员 (its post rule's holder)."""
    for unit, username in LIAISONS.items():
        engine.upsert_user(username, display_name=f"{UNITS[unit][0]}联络员")
        with engine.store.write() as s:
            org.set_posts(s, username, [PostAssignment(unit, "联络员", "股级")])
