"""Importing a county from a spreadsheet: good files, bad cells reported where they are, nothing half-written."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient

from engine import Engine, organisation
from tests.api.conftest import Auth

UNITS = [
    ["编码", "名称", "类型", "上级编码", "村类别"],
    ["jiangxi", "蒋家坪村", "村", "chengguan", "深度贫困村"],  # children before parents: resolved in the file
    ["chengguan", "城关镇", "乡镇", "pingli", ""],
    ["pingli", "平利县", "县", "", ""],
    ["zuzhibu", "县委组织部", "department", "pingli", ""],
]
PEOPLE = [
    ["用户名", "姓名", "单位编码", "职务", "职级", "分组"],
    ["chen", "陈书记", "chengguan", "书记", "科级", "taskforce"],
    ["chen", "陈书记", "jiangxi", "驻村第一书记", "", ""],
    ["liu", "刘部长", "zuzhibu", "部长", "科级", "committee、evaluator"],
]


def xlsx(units: list[list[Any]] | None = UNITS, people: list[list[Any]] | None = PEOPLE) -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "说明"  # a notes sheet is not data
    for title, rows in (("单位", units), ("人员", people)):
        if rows is not None:
            ws = book.create_sheet(title)
            for row in rows:
                ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_file(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(",".join(r) for r in rows).encode(encoding)


def upload(
    client: FlaskClient,
    auth: Auth,
    content: bytes,
    name: str = "org.xlsx",
    who: str = "admin",
    query: str = "",
) -> Any:
    return client.post(
        f"/api/v1/imports/org{query}",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=auth.headers(who),
    )


def units_of(client: FlaskClient, auth: Auth) -> list[str]:
    return [u["code"] for u in client.get("/api/v1/units", headers=auth.headers("admin")).get_json()["items"]]


def test_a_county_imports_from_a_workbook_in_any_row_order(
    client: FlaskClient, auth: Auth, engine: Engine
) -> None:
    resp = upload(client, auth, xlsx())
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {
        "units": {"created": 4, "updated": 0},
        "users": {"created": 2, "updated": 0},
        "errors": [],
    }
    assert units_of(client, auth) == ["pingli", "chengguan", "jiangxi", "zuzhibu"]
    village = client.get("/api/v1/units/jiangxi", headers=auth.headers("admin")).get_json()
    assert village["attributes"] == {"村类别": "深度贫困村"}
    assert village["members"] == [
        {"username": "chen", "display_name": "陈书记", "post": "驻村第一书记", "rank": None}
    ]
    chen = client.get("/api/v1/users/chen", headers=auth.headers("admin")).get_json()
    assert [(p["unit"], p["post"]) for p in chen["units"]] == [
        ("chengguan", "书记"),
        ("jiangxi", "驻村第一书记"),
    ]
    assert chen["groups"] == ["taskforce"]
    assert engine.get_user("liu").groups == ["committee", "evaluator"]
    with engine.store.read() as s:  # the subtree is one prefix match: paths were written with the ids
        assert organisation.subtree_codes(s, "chengguan") == ["chengguan", "jiangxi"]
    again = upload(client, auth, xlsx())  # importing the same file again updates, doubles nothing
    assert again.get_json()["units"] == {"created": 0, "updated": 4}
    assert again.get_json()["users"] == {"created": 0, "updated": 2}
    assert units_of(client, auth) == ["pingli", "chengguan", "jiangxi", "zuzhibu"]


def test_a_dry_run_counts_and_writes_nothing(client: FlaskClient, auth: Auth) -> None:
    resp = upload(client, auth, xlsx(), query="?dry_run=1")
    assert resp.status_code == 200 and resp.get_json()["units"] == {"created": 4, "updated": 0}
    assert units_of(client, auth) == []
    assert client.get("/api/v1/users/chen", headers=auth.headers("admin")).status_code == 404


def test_every_bad_cell_is_reported_with_its_place_and_nothing_is_written(
    client: FlaskClient, auth: Auth
) -> None:
    units = [
        *UNITS,
        ["bad code", "坏编码", "村", "chengguan", ""],
        ["shuiping", "水平村", "省", "chengguan", ""],
        ["lost", "失联村", "村", "nowhere", ""],
        ["a1", "甲", "村", "b1", ""],
        ["b1", "乙", "村", "a1", ""],
        ["pingli", "平利县", "县", "", ""],
    ]
    people = [*PEOPLE, ["wu", "吴", "nowhere", "书记", "", ""], ["he", "何", "pingli", "", "", ""]]
    resp = upload(client, auth, xlsx(units, people))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    found = {(e["sheet"], e["row"], e["column"]) for e in resp.get_json()["errors"]}
    assert found == {
        ("单位", 6, "编码"),
        ("单位", 7, "类型"),
        ("单位", 8, "上级编码"),
        ("单位", 9, "上级编码"),
        ("单位", 10, "上级编码"),
        ("单位", 11, "编码"),  # pingli twice
        ("人员", 5, "单位编码"),
        ("人员", 6, "职务"),
    }
    messages = {(e["row"], e["column"]): e["message"] for e in resp.get_json()["errors"]}
    assert "循环" in messages[(9, "上级编码")] and "nowhere" in messages[(8, "上级编码")]
    assert units_of(client, auth) == []
    assert client.get("/api/v1/users/chen", headers=auth.headers("admin")).status_code == 404


def test_csv_sheets_import_one_at_a_time_gbk_too(client: FlaskClient, auth: Auth) -> None:
    resp = upload(client, auth, csv_file(UNITS, "gb18030"), "units.csv")
    assert resp.status_code == 200 and resp.get_json()["units"]["created"] == 4, resp.get_json()
    resp = upload(client, auth, csv_file(PEOPLE), "people.csv")
    assert resp.status_code == 200 and resp.get_json()["users"]["created"] == 2
    bad = upload(
        client, auth, csv_file([PEOPLE[0], ["zhang", "张", "nowhere", "书记", "", ""]]), "people.csv"
    )
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == [
        {
            "sheet": "人员",
            "row": 2,
            "column": "单位编码",
            "message": "单位 nowhere 不存在（文件和系统中都没有）",
        }
    ]


def test_hostile_files_are_refused(client: FlaskClient, auth: Auth) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "单位"
    ws.append(UNITS[0])
    ws.append(["pingli", "平利县", "县", "", ""])
    ws.append(["x1", '=HYPERLINK("http://evil","点我")', "村", "pingli", ""])
    out = io.BytesIO()
    book.save(out)
    resp = upload(client, auth, out.getvalue())
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [
        {"sheet": "单位", "row": 3, "column": "名称", "message": "不接受公式，请填写数值或文字"}
    ]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b"\0" * (110 * 1024 * 1024))
    assert upload(client, auth, bomb.getvalue()).status_code == 413
    assert upload(client, auth, b"MZ\x90\x00", "org.exe").status_code == 422
    assert upload(client, auth, b"PK\x03\x04garbage", "org.xlsx").status_code == 422
    assert units_of(client, auth) == []


def test_only_admins_import_and_a_county_admin_only_into_their_county(
    client: FlaskClient, auth: Auth, engine: Engine
) -> None:
    assert upload(client, auth, xlsx(), who="wang").status_code == 403
    assert upload(client, auth, xlsx(), who="oa").status_code == 403
    assert upload(client, auth, xlsx(UNITS, None)).status_code == 200
    auth.user("pl_admin", roles=["admin"])
    engine.upsert_user("pl_admin", posts=[{"unit": "pingli", "post": "组织部长"}])
    assert upload(client, auth, xlsx(None, PEOPLE), who="pl_admin").status_code == 200
    other = [UNITS[0], ["luannan", "滦南县", "县", "", ""]]
    assert upload(client, auth, xlsx(other, None), who="pl_admin").status_code == 403  # a new tenant
    assert "luannan" not in units_of(client, auth)


def test_the_template_is_a_workbook_with_chinese_headers_that_imports_as_it_is(
    client: FlaskClient, auth: Auth
) -> None:
    resp = client.get("/api/v1/imports/org/template", headers=auth.headers("wang"))
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["单位", "人员", "说明"]
    assert [c.value for c in book["单位"][1]][:4] == ["编码", "名称", "类型", "上级编码"]
    assert [c.value for c in book["人员"][1]] == ["用户名", "姓名", "单位编码", "职务", "职级", "分组"]
    assert "深度贫困村" in [c.value for c in book["单位"]["E"]]
    assert upload(client, auth, resp.data).get_json()["units"]["created"] == 3


@pytest.mark.parametrize("name", ["org.xlsx", "org.csv"])
def test_an_empty_file_says_which_sheets_it_needs(client: FlaskClient, auth: Auth, name: str) -> None:
    content = xlsx(None, None) if name.endswith("xlsx") else b""
    resp = upload(client, auth, content, name)
    assert resp.status_code == 422
    assert "单位" in resp.get_json()["errors"][0]["message"]
