"""The organisation's trees and posts: a county with its towns and villages, and who holds which post."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import ConflictError, Engine, InvalidInputError
from engine import organisation as org
from engine.organisation import PostAssignment

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _county(s) -> None:
    org.upsert_unit(s, "pingli", name="平利县", kind="county", parent=None, attributes=None, now=NOW)
    org.upsert_unit(s, "laoxian", name="老县镇", kind="town", parent="pingli", attributes=None, now=NOW)
    org.upsert_unit(s, "jiangxi", name="蒋家坪村", kind="village", parent="laoxian",
                    attributes={"class": "深度贫困村"}, now=NOW)  # fmt: skip
    org.upsert_unit(
        s, "jiaotong", name="县交通局", kind="department", parent="pingli", attributes=None, now=NOW
    )


def test_a_county_is_a_tenant_and_its_units_carry_it(engine: Engine) -> None:
    with engine.store.write() as s:
        _county(s)
        village = org.get_unit(s, "jiangxi").unit
        assert (village.tenant, village.parent, village.attributes) == (
            "pingli",
            "laoxian",
            {"class": "深度贫困村"},
        )
        assert org.subtree_codes(s, "laoxian") == ["laoxian", "jiangxi"]
        assert [u.code for u in org.get_unit(s, "pingli").children] == ["jiaotong", "laoxian"]
        units, total = org.list_units(s, tenant="pingli", kind="village")
        assert ([u.code for u in units], total) == (["jiangxi"], 1)
        assert org.list_units(s, q="交通")[0][0].code == "jiaotong"


def test_a_unit_moves_within_its_tree_with_its_subtree(engine: Engine) -> None:
    with engine.store.write() as s:
        _county(s)
        org.upsert_unit(s, "chengguan", name="城关镇", kind="town", parent="pingli", attributes=None, now=NOW)
        org.upsert_unit(
            s, "laoxian", name="老县镇", kind="town", parent="chengguan", attributes=None, now=NOW
        )
        assert org.subtree_codes(s, "chengguan") == ["chengguan", "laoxian", "jiangxi"]
        with pytest.raises(InvalidInputError):  # under itself: a cycle
            org.upsert_unit(
                s, "laoxian", name="老县镇", kind="town", parent="jiangxi", attributes=None, now=NOW
            )
        org.upsert_unit(s, "luannan", name="滦南县", kind="county", parent=None, attributes=None, now=NOW)
        with pytest.raises(ConflictError):  # into another county
            org.upsert_unit(
                s, "laoxian", name="老县镇", kind="town", parent="luannan", attributes=None, now=NOW
            )


@pytest.mark.parametrize(
    ("code", "kind", "parent", "error"),
    [
        ("bad code", "town", "pingli", InvalidInputError),
        ("x", "province", "pingli", InvalidInputError),
        ("x", "town", "nowhere", InvalidInputError),  # the parent named in the body is unknown
    ],
)
def test_bad_units_are_refused(engine: Engine, code: str, kind: str, parent: str, error: type) -> None:
    with engine.store.write() as s:
        _county(s)
        with pytest.raises(error):
            org.upsert_unit(s, code, name="某单位", kind=kind, parent=parent, attributes=None, now=NOW)


def test_people_hold_posts_in_one_county_only(engine: Engine) -> None:
    engine.upsert_user("chen", display_name="陈书记")
    engine.upsert_user("liu", display_name="刘镇长", active=True)
    with engine.store.write() as s:
        _county(s)
        org.upsert_unit(s, "luannan", name="滦南县", kind="county", parent=None, attributes=None, now=NOW)
        org.set_posts(
            s, "chen", [PostAssignment("jiangxi", "书记", "股级"), PostAssignment("laoxian", "副镇长")]
        )
        org.set_posts(s, "liu", [PostAssignment("laoxian", "镇长", "科级")])
        assert org.tenant_of(s, "chen") == "pingli"
        assert org.holders(s, "书记", ["jiangxi"]) == ["chen"]
        assert org.holders(s, "镇长", org.subtree_codes(s, "pingli")) == ["liu"]
        members = org.get_unit(s, "laoxian").members
        assert [(m.display_name, m.post, m.rank) for m in members] == [
            ("陈书记", "副镇长", None),
            ("刘镇长", "镇长", "科级"),
        ]
        with pytest.raises(InvalidInputError):
            org.set_posts(s, "chen", [PostAssignment("jiangxi", "书记"), PostAssignment("luannan", "部长")])
        with pytest.raises(ConflictError):
            org.set_posts(s, "chen", [PostAssignment("luannan", "部长")])
        with pytest.raises(ConflictError):  # people still hold posts there
            org.delete_unit(s, "jiangxi")
        with pytest.raises(ConflictError):  # units under it
            org.delete_unit(s, "laoxian")
        org.delete_unit(s, "jiaotong")
    engine.upsert_user("liu", active=False)
    with engine.store.read() as s:
        assert org.holders(s, "镇长", ["laoxian"]) == []  # a deactivated holder is nobody's assignee
