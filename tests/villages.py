"""平利县 for the tests: 3 towns × 4 villages of each class, county departments, leaders with ranks."""

from __future__ import annotations

from engine import Engine
from engine import organisation as org
from engine.organisation import PostAssignment

TOWNS = {"changan": "长安镇", "zhengyang": "正阳镇", "baxian": "八仙镇"}
VILLAGES = {  # code: (name, town, 村类别)
    "jinshahe": ("金沙河村", "changan", "深度贫困村"),
    "shahe": ("沙河村", "changan", "一般贫困村"),
    "longdonghe": ("龙洞河村", "changan", "非贫困村"),
    "sanhe": ("三合村", "changan", "一般贫困村"),
    "yanjiatai": ("鄢家台村", "zhengyang", "深度贫困村"),
    "baiguoping": ("白果坪村", "zhengyang", "一般贫困村"),
    "qiaozi": ("桥子沟村", "zhengyang", "非贫困村"),
    "huangzhou": ("黄洲村", "zhengyang", "一般贫困村"),
    "baihaohe": ("百好河村", "baxian", "深度贫困村"),
    "xihe": ("西河村", "baxian", "一般贫困村"),
    "dongshan": ("东山村", "baxian", "非贫困村"),
    "nanping": ("南坪村", "baxian", "一般贫困村"),
}
DEPARTMENTS = {
    "jtj": "县交通运输局",
    "tongxin": "县通信管理办公室",
    "zjj": "县住建局",
    "wlj": "县文化和旅游广电局",
}
PEOPLE = {  # username: (display name, unit, post, rank)
    "zheng": ("郑小东", "pingli", "县委书记", "县级主要领导"),
    "li_xz": ("李县长", "pingli", "县长", "县级主要领导"),
    "wang_cw": ("王光满", "pingli", "县委常委", "县委常委"),
    "yuan": ("袁守波", "wlj", "局长", "部门主要负责人"),
    "he": ("何德渔", "jtj", "局长", "部门主要负责人"),
    "hu": ("胡德乾", "zhengyang", "镇长", "镇主要负责人"),
    "xu": ("徐副县长", "pingli", "副县长", "县级领导"),
    "clerk": ("普通干部", "zjj", "科员", "科员"),
    "organiser": ("县委组织部", "pingli", "组织部部长", "县委常委"),
    "changwei": ("常委会", "pingli", "县委办主任", None),
    "liu_tx": ("刘通信", "tongxin", "局长", "部门主要负责人"),
    "zhao_zj": ("赵住建", "zjj", "局长", "部门主要负责人"),
}


def county(engine: Engine, code: str = "pingli", name: str = "平利县") -> None:
    """平利县: towns, villages with their class, departments; ``organiser`` administers the county,
    ``changwei`` sits on the committee."""
    now = engine.clock.now()
    with engine.store.write() as s:
        org.upsert_unit(s, code, name=name, kind="county", parent=None, attributes=None, now=now)
        for town, town_name in TOWNS.items():
            org.upsert_unit(s, town, name=town_name, kind="town", parent=code, attributes=None, now=now)
        for dept, dept_name in DEPARTMENTS.items():
            org.upsert_unit(s, dept, name=dept_name, kind="department", parent=code, attributes=None, now=now)
        for village, (village_name, town, klass) in VILLAGES.items():
            org.upsert_unit(
                s,
                village,
                name=village_name,
                kind="village",
                parent=town,
                attributes={"村类别": klass},
                now=now,
            )
    for username, (display, unit, post, rank) in PEOPLE.items():
        roles = ["admin"] if username == "organiser" else []
        groups = ["committee"] if username == "changwei" else []
        engine.upsert_user(username, display_name=display, roles=roles, groups=groups)
        with engine.store.write() as s:
            org.set_posts(s, username, [PostAssignment(unit, post, rank)])
