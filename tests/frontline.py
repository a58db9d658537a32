"""兴平's front lines for the tests: units, the organisation department, receiving units with
their supervisors, twelve cadres with ranks and fields, and the five front lines' posts."""

from __future__ import annotations

from typing import Any

from engine import Engine
from engine import organisation as org
from engine.organisation import PostAssignment

UNITS = {  # code: (name, kind, parent)
    "xingping": ("兴平市", "county", None),
    "xp_zzb": ("市委组织部", "department", "xingping"),
    "xp_fgj": ("市发改局", "department", "xingping"),
    "xp_zsj": ("市招商局", "department", "xingping"),
    "xp_xfj": ("市信访局", "department", "xingping"),
    "xp_xcj": ("市乡村振兴局", "department", "xingping"),
    "xp_dongcheng": ("东城街道", "town", "xingping"),
    "xp_sqj": ("东城街道社区", "community", "xp_dongcheng"),
}
PEOPLE = {  # username: (display name, unit, post, rank)
    "xp_org": ("组织部牛部长", "xp_zzb", "副部长", "科级"),
    "xp_judge1": ("研判组杨", "xp_zzb", "干部科科长", "科级"),
    "xp_judge2": ("研判组马", "xp_zzb", "干部科副科长", "科级"),
    "xp_judge3": ("研判组吴", "xp_zzb", "干部科科员", "股级"),
    "fgj_head": ("发改局冯局长", "xp_fgj", "局长", "处级"),
    "zsj_head": ("招商局朱局长", "xp_zsj", "局长", "处级"),
    "xfj_head": ("信访局许局长", "xp_xfj", "局长", "处级"),
    "xcj_head": ("乡村振兴局秦局长", "xp_xcj", "局长", "处级"),
    "dc_sec": ("东城街道尤书记", "xp_dongcheng", "书记", "处级"),
}
CADRES = {  # username: (display name, unit, post, rank)
    "c01": ("张一", "xp_fgj", "科员", "股级"),
    "c02": ("李二", "xp_fgj", "副科长", "科级"),
    "c03": ("王三", "xp_zsj", "科员", "股级"),
    "c04": ("赵四", "xp_zsj", "副科长", "科级"),
    "c05": ("钱五", "xp_xcj", "科员", "股级"),
    "c06": ("孙六", "xp_xcj", "副科长", "科级"),
    "c07": ("周七", "xp_xfj", "科员", "股级"),
    "c08": ("吴八", "xp_xfj", "副科长", "科级"),
    "c09": ("郑九", "xp_dongcheng", "科员", "股级"),
    "c10": ("冯十", "xp_dongcheng", "副科长", "科级"),
    "c11": ("陈十一", "xp_sqj", "干事", "股级"),
    "c12": ("褚十二", "xp_sqj", "干事", "股级"),
}
PANEL = ["xp_judge1", "xp_judge2", "xp_judge3"]
POSTS = {  # key: body
    "project": {
        "front_line": "project",
        "unit": "xp_fgj",
        "title": "重大项目服务专班",
        "duties": "跟踪服务重大项目，协调要素保障。",
        "capacity": 4,
        "supervisor": "fgj_head",
    },
    "investment": {
        "front_line": "investment",
        "unit": "xp_zsj",
        "title": "招商小分队队员",
        "duties": "对接产业链企业，叩门招商。",
        "capacity": 3,
        "ranks": ["科级"],
        "supervisor": "zsj_head",
    },
    "rural": {
        "front_line": "rural",
        "unit": "xp_xcj",
        "title": "产业重点村工作专班",
        "duties": "驻村推进村集体经济发展。",
        "capacity": 3,
        "field": "农业",
        "supervisor": "xcj_head",
    },
    "petition": {
        "front_line": "petition",
        "unit": "xp_xfj",
        "title": "信访接访岗",
        "duties": "定点接访、重点约访、专题下访。",
        "capacity": 2,
        "rotation_months": 3,
        "supervisor": "xfj_head",
    },
    "community": {
        "front_line": "community",
        "unit": "xp_sqj",
        "title": "网格先锋队长",
        "duties": "带领包抓党员上门为群众办实事。",
        "capacity": 2,
        "supervisor": "dc_sec",
    },
}


def county(engine: Engine) -> dict[str, int]:
    """兴平市 with its departments, people and posts; the posts' ids by key."""
    now = engine.clock.now()
    with engine.store.write() as s:
        for code, (name, kind, parent) in UNITS.items():
            org.upsert_unit(s, code, name=name, kind=kind, parent=parent, attributes=None, now=now)
    for username, (name, unit, post, rank) in {**PEOPLE, **CADRES}.items():
        roles = ["admin@xp_zzb"] if username == "xp_org" else []
        groups = ["organiser"] if username == "xp_org" else []
        engine.upsert_user(username, display_name=name, roles=roles, groups=groups)
        with engine.store.write() as s:
            org.set_posts(s, username, [PostAssignment(unit, post, rank)])
    return {key: engine.create_frontline_post("xp_org", body).id for key, body in POSTS.items()}


def nominate(engine: Engine, intake: str, cadre: str, by: str, **data: Any) -> str:
    body = {"intake": intake, "cadre": cadre, "front_line": "project", "reason": "年轻有为，敢于担当", **data}
    return engine.start("frontline", actor=by, data=body).id


def task_of(engine: Engine, instance_id: str, element: str) -> str:
    """The one open task at ``element``."""
    [task] = [t for t in engine.get_instance(instance_id).open_tasks if t.element_id == element]
    return task.id


def assess(engine: Engine, instance_id: str, *, recommend: bool = True, score: int = 8) -> None:
    """The organisation department passes the screening and the panel scores (会签)."""
    engine.complete(
        task_of(engine, instance_id, "screen_nominee"), "xp_org", {"decision": "approve", "panel": PANEL}
    )
    for member in PANEL:
        [task] = [
            t
            for t in engine.get_instance(instance_id).open_tasks
            if t.element_id == "assess_nominee" and t.assignee == member
        ]
        scores = {"political": score, "competence": score, "weaknesses": score - 1, "consistency": score}
        engine.complete(task.id, member, {**scores, "recommend": recommend})


def dispatch(engine: Engine, instance_id: str, post: int, months: int = 6) -> None:
    engine.complete(task_of(engine, instance_id, "dispatch"), "xp_org", {"post": post, "months": months})
