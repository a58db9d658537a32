"""Organisation files and the organisation's rules, without Flask: moves within a tree, people who
belong to another county, who may change which county."""

from __future__ import annotations

import pytest

from engine import Engine, ImportInvalidError, NotAllowedError, NotFoundError, rules
from engine import organisation as org


def csv(*rows: str) -> bytes:
    return "\n".join(rows).encode()


UNITS = csv(
    "编码,名称,类型,上级编码",
    "pingli,平利县,县,",
    "laoxian,老县镇,乡镇,pingli",
    "jiangxi,蒋家坪村,村,laoxian",
)


def test_a_stored_unit_moves_under_a_unit_the_same_file_creates(engine: Engine) -> None:
    engine.import_org(UNITS, "units.csv")
    moved = csv(
        "编码,名称,类型,上级编码,村类别",
        "jiangxi,蒋家坪村,村,pianqu,一般贫困村",  # under a unit created further down
        "pianqu,城北片区,community,laoxian,",
    )
    report = engine.import_org(moved, "units.csv")
    assert (report.units, report.errors) == ({"created": 1, "updated": 1}, [])
    with engine.store.read() as s:
        assert org.subtree_codes(s, "laoxian") == ["laoxian", "pianqu", "jiangxi"]
        assert org.get_unit(s, "jiangxi").unit.attributes == {"村类别": "一般贫困村"}


def test_a_person_of_another_county_is_refused_at_their_row(engine: Engine) -> None:
    engine.import_org(UNITS, "units.csv")
    engine.put_unit("luannan", name="滦南县", kind="county")
    engine.upsert_user("chen", posts=[{"unit": "luannan", "post": "部长"}])
    people = csv("用户名,姓名,单位编码,职务,职级,分组", "wu,吴,laoxian,镇长,科级,", "chen,陈,jiangxi,书记,,")
    with pytest.raises(ImportInvalidError) as refused:
        engine.import_org(people, "people.csv")
    [problem] = refused.value.report.errors
    assert (problem.sheet, problem.row, problem.column) == ("人员", 3, "单位编码")
    assert "luannan" in problem.message
    with pytest.raises(NotFoundError):
        engine.get_user("wu")  # the good row was not written either


def test_who_may_change_which_county(engine: Engine) -> None:
    engine.import_org(UNITS, "units.csv")
    engine.put_unit("luannan", name="滦南县", kind="county")
    engine.upsert_user("root", roles=["admin"])
    engine.upsert_user("pl_admin", roles=["admin"], posts=[{"unit": "pingli", "post": "组织部干部"}])
    engine.upsert_user("clerk", posts=[{"unit": "pingli", "post": "科员"}])
    with engine.store.read() as s:

        def may(who: str, tenant: str | None) -> bool:
            return rules.may_manage_org(s, rules.actor_of(s, who), tenant)

        assert may("root", None) and may("root", "luannan") and may("root", "pingli")
        assert may("pl_admin", "pingli") and not may("pl_admin", "luannan") and not may("pl_admin", None)
        assert not may("clerk", "pingli")
        assert rules.sees_tenant(s, "clerk", "pingli") and not rules.sees_tenant(s, "clerk", "luannan")
        assert rules.sees_tenant(s, "root", "luannan")
    with pytest.raises(NotAllowedError):
        engine.put_unit("x1", name="某镇", kind="town", parent="pingli", actor="clerk")
    engine.upsert_user("ln_admin", roles=["admin"], posts=[{"unit": "luannan", "post": "组织部干部"}])
    with pytest.raises(NotAllowedError):  # another county's admin neither takes a post away…
        engine.upsert_user("clerk", posts=[], actor="ln_admin")
    with pytest.raises(NotAllowedError):  # …nor gives one in their own county to a Pingli clerk
        engine.upsert_user("clerk", posts=[{"unit": "luannan", "post": "科员"}], actor="ln_admin")
    assert [p.post for p in engine.posts_of("clerk")] == ["科员"]
    with pytest.raises(NotFoundError):  # another county's unit does not exist for its admins
        engine.delete_unit("luannan", actor="pl_admin")
    assert [u.code for u in engine.list_units(viewer="pl_admin").items] == ["pingli", "laoxian", "jiangxi"]
