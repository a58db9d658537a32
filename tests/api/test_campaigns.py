"""滦南's annual campaign over the API: create it, import its list from Excel, publish it at once,
work some problems, and read statistics equal to what was done; the import's refusals one rule each."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from engine import Engine, ManualClock
from engine import organisation as org
from tests.api.conftest import Auth
from tests.campaigns import CATEGORIES, campaign_body, problem_list, problem_row, workbook

API = "/api/v1"


def create(client: FlaskClient, auth: Auth, **overrides: Any) -> dict[str, Any]:
    resp = client.post(f"{API}/campaigns", json=campaign_body(**overrides), headers=auth.headers("zzb_admin"))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def upload(
    client: FlaskClient,
    auth: Auth,
    campaign_id: int,
    content: bytes,
    *,
    user: str = "zzb_admin",
    query: str = "",
) -> Any:
    return client.post(
        f"{API}/campaigns/{campaign_id}/problems/import{query}",
        data={"file": (io.BytesIO(content), "清单.xlsx")},
        content_type="multipart/form-data",
        headers=auth.headers(user),
    )


def complete(
    client: FlaskClient,
    auth: Auth,
    engine: Engine,
    instance_id: str,
    element: str,
    user: str,
    data: dict[str, Any],
) -> None:
    task = next(t for t in engine.get_instance(instance_id).open_tasks if t.element_id == element)
    resp = client.post(f"{API}/tasks/{task.id}/complete", json={"data": data}, headers=auth.headers(user))
    assert resp.status_code == 200, resp.get_data(as_text=True)


def claim_and_select(
    client: FlaskClient, auth: Auth, engine: Engine, clock: ManualClock, ids: list[str]
) -> None:
    """刘 claims items 1-5 alone, 高 and 何 item 6 as a team; the windows close and the committee
    selects each one's only claim."""
    for i in ids[:5]:
        claim = {"kind": "individual", "plan": "逐户走访", "pledge": "不破不休"}
        assert (
            client.post(f"{API}/board/{i}/claims", json=claim, headers=auth.headers("liu")).status_code == 201
        )
    team = {"kind": "team", "members": [{"username": "gao", "share": 60}, {"username": "he", "share": 40}],
            "plan": "组建专班", "pledge": "年内完成"}  # fmt: skip
    assert (
        client.post(f"{API}/board/{ids[5]}/claims", json=team, headers=auth.headers("gao")).status_code == 201
    )
    clock.advance(days=15)
    engine.run_due_jobs(limit=500)
    for i in ids[:6]:
        complete(client, auth, engine, i, "select_claim", "sun", {"selected": 0})


def stats(client: FlaskClient, auth: Auth, campaign_id: int, by: str) -> dict[str, dict[str, int]]:
    resp = client.get(f"{API}/campaigns/{campaign_id}/stats?by={by}", headers=auth.headers("liu"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {i.pop("key"): i for i in resp.get_json()["items"]}


def test_a_year_of_24_problems_imported_published_worked_and_counted(
    client: FlaskClient, luannan: Auth, engine: Engine, clock: ManualClock
) -> None:
    auth = luannan
    campaign = create(client, auth)
    assert (campaign["tenant"], campaign["key_prefix"], campaign["process_key"]) == (
        "luannan",
        "LN2026-",
        "claim_evaluate",
    )
    rows = [problem_row(n) for n in range(1, 25)]
    early = (clock.now() + timedelta(days=30)).date().isoformat()
    rows[23] = problem_row(24, 时限=early)  # one falls due early
    imported = upload(client, auth, campaign["id"], workbook(rows))
    assert imported.status_code == 200, imported.get_data(as_text=True)
    ids = imported.get_json()["instances"]
    assert (imported.get_json()["imported"], len(ids)) == (24, 24)
    first = engine.get_instance(ids[0])
    assert first.business_key == "LN2026-1" and first.started_by == "zzb_admin"
    assert (
        first.data["campaign"] == campaign["id"] and first.data["lead_unit"] == "nyj"
    )  # 县农业农村局 by name
    assert [t.element_id for t in first.open_tasks] == ["preliminary_review"]  # filed as its submitter would

    # the task force passes 20, refuses 2, leaves 2 in review; the campaign publishes the 20 at once
    for i in ids[:20]:
        complete(client, auth, engine, i, "preliminary_review", "zhao", {"decision": "approve"})
    for i in ids[20:22]:
        complete(
            client,
            auth,
            engine,
            i,
            "preliminary_review",
            "zhao",
            {"decision": "reject", "comment": "不属于本批次范围"},
        )
    published = client.post(f"{API}/campaigns/{campaign['id']}/publish", headers=auth.headers("zzb_admin"))
    assert published.status_code == 200 and published.get_json()["published"] == 20
    board = {
        b["instance_id"]: b
        for b in client.get(f"{API}/board?per_page=200", headers=auth.headers("he")).get_json()["items"]
    }
    assert set(ids[:20]) <= set(board) and board[ids[0]]["category"] == CATEGORIES[1]
    assert board[ids[0]]["points"] == 11  # the listed 分值
    assert "campaign.published" in [e.event for e in engine.history(ids[0])]

    # 刘 claims five alone, 高 and 何 one as a team; the windows close and the committee selects
    claim_and_select(client, auth, engine, clock, ids)
    # 刘 solves the first one
    complete(client, auth, engine, ids[0], "progress_report", "liu",
             {"progress_percent": 100, "summary": "完工", "status_self": "on_track", "final": True})  # fmt: skip
    complete(
        client,
        auth,
        engine,
        ids[0],
        "completion_report",
        "liu",
        {"summary": "完工", "results": "改造 3 个小区"},
    )
    complete(client, auth, engine, ids[0], "acceptance", "qian", {"decision": "pass", "grade": "good"})
    clock.advance(days=30)  # number 24 (in review still) is past its 时限

    by_status = stats(client, auth, campaign["id"], "status")
    assert {k: v["problems"] for k, v in by_status.items()} == {
        "accepted": 1, "in_progress": 5, "published": 14, "rejected": 2, "filed": 2}  # fmt: skip
    assert by_status["in_progress"]["people"] == 3 and by_status["accepted"]["solved"] == 1
    assert by_status["filed"]["overdue"] == 1

    by_category = stats(client, auth, campaign["id"], "category")
    assert list(by_category) == CATEGORIES  # every category is a line, in the campaign's order
    listed = Counter(CATEGORIES[n % 8] for n in range(1, 25))
    assert {k: v["problems"] for k, v in by_category.items()} == dict(listed)
    claimed = Counter(CATEGORIES[n % 8] for n in range(1, 7))
    assert {k: v["claimed"] for k, v in by_category.items() if v["claimed"]} == dict(claimed)
    assert sum(v["solved"] for v in by_category.values()) == 1

    by_unit = stats(client, auth, campaign["id"], "unit")
    units = ["zjj", "nyj", "bgz", "qianying"]
    assert {k: v["problems"] for k, v in by_unit.items()} == dict(Counter(units[n % 4] for n in range(1, 25)))

    by_rank = stats(client, auth, campaign["id"], "rank")
    assert {k: (v["problems"], v["people"]) for k, v in by_rank.items()} == {"科级": (6, 2), "股级": (1, 1)}

    detail = client.get(f"{API}/campaigns/{campaign['id']}", headers=auth.headers("he")).get_json()
    assert detail["problems"] == 24 and detail["by_status"]["published"] == 14
    assert detail["by_category"] == dict(listed)

    export = client.get(
        f"{API}/campaigns/{campaign['id']}/stats/export?by=category", headers=auth.headers("liu")
    )
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(export.data)).active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0] == ("类别", "问题数", "已揭榜", "已破题", "逾期", "参与人数")
    assert lines[1][:2] == (CATEGORIES[0], listed[CATEGORIES[0]])


def test_an_approved_list_waits_for_publication_and_goes_on_the_board_at_once(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    campaign = create(client, luannan, list_approved=True)
    ids = upload(client, luannan, campaign["id"], problem_list(20)).get_json()["instances"]
    assert {e for i in ids for e in engine.get_instance(i).active_elements} == {"committee_approval"}
    assert client.get(f"{API}/campaigns/{campaign['id']}", headers=luannan.headers("liu")).get_json()[
        "by_status"
    ] == {"approved": 20}
    assert (
        client.post(f"{API}/campaigns/{campaign['id']}/publish", headers=luannan.headers("liu")).status_code
        == 403
    )
    assert (
        client.post(
            f"{API}/campaigns/{campaign['id']}/publish", headers=luannan.headers("zzb_admin")
        ).get_json()["published"]
        == 20
    )
    assert (
        client.post(
            f"{API}/campaigns/{campaign['id']}/publish", headers=luannan.headers("zzb_admin")
        ).get_json()["published"]
        == 0
    )
    assert {engine.get_instance(i).data["phase"] for i in ids} == {"published"}


def test_a_dry_run_writes_nothing_and_a_reimport_skips_what_is_there(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    campaign = create(client, luannan)
    dry = upload(client, luannan, campaign["id"], problem_list(5), query="?dry_run=1")
    assert dry.status_code == 200 and dry.get_json() | {"instances": None} == {
        "imported": 5, "instances": None, "skipped": [], "errors": [], "dry_run": True}  # fmt: skip
    assert engine.list_instances(limit=100).total == 0
    assert upload(client, luannan, campaign["id"], problem_list(5)).get_json()["imported"] == 5
    again = upload(
        client, luannan, campaign["id"], workbook([problem_row(n) for n in range(1, 8)] + [problem_row(None)])
    )
    assert again.status_code == 200
    assert (again.get_json()["imported"], again.get_json()["skipped"]) == (3, [1, 2, 3, 4, 5])
    keys = sorted(engine.get_instance(i).business_key for i in again.get_json()["instances"])
    assert keys == ["LN2026-6", "LN2026-7", "LN2026-8"]  # a row without 编号 takes the next free number
    assert (
        client.get(f"{API}/campaigns/{campaign['id']}", headers=luannan.headers("liu")).get_json()["problems"]
        == 8
    )


def test_the_template_lists_the_headers_an_example_and_the_campaign_s_categories(
    client: FlaskClient, luannan: Auth
) -> None:
    campaign = create(client, luannan, categories=["项目建设类", "其他"])
    resp = client.get(f"{API}/campaigns/{campaign['id']}/problems/template", headers=luannan.headers("he"))
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(resp.data))
    sheet = book["问题清单"]
    assert [c.value for c in sheet[1]] == [
        "编号",
        "类别",
        "题目",
        "问题描述",
        "目标",
        "牵头单位",
        "时限",
        "分值",
    ]
    assert sheet["B2"].value == "项目建设类"
    assert [c.value for c in book["类别"]["A"]][1:] == ["项目建设类", "其他"]
    assert sheet.data_validations.dataValidation[0].formula1 == "'类别'!$A$2:$A$3"
    # the template, as it comes, is a list of one good problem
    dry = upload(client, luannan, campaign["id"], resp.data, query="?dry_run=1").get_json()
    assert (dry["imported"], dry["errors"]) == (1, [])


# ---- the import's refusals: one rule each, each error naming its row and column -----------------------
REFUSALS = {
    "category not in the campaign": ({"类别": "经济建设"}, "类别", "不在本批次的类别中"),
    "unknown lead unit": ({"牵头单位": "县不存在局"}, "牵头单位", "不存在"),
    "lead unit of another county": ({"牵头单位": "qianxi_town"}, "牵头单位", "不存在"),
    "deadline not a date": ({"时限": "年底前"}, "时限", "不是日期"),
    "deadline passed": ({"时限": "2025-12-31"}, "时限", "已过"),
    "points not a number": ({"分值": "十分"}, "分值", "须为正数"),
    "points not positive": ({"分值": -5}, "分值", "须为正数"),
    "points over the ceiling": ({"分值": 500}, "分值", "须在 1 到 100 之间"),
    "number not an integer": ({"编号": "A-3"}, "编号", "须为正整数"),
    "title missing": ({"题目": None}, "题目", "必填"),
    "title too long": ({"题目": "长" * 201}, "题目", "过长"),
    "a formula": ({"分值": "=1+1"}, "分值", "不接受公式"),
}


@pytest.mark.parametrize("rule", list(REFUSALS))
def test_the_import_refuses_a_bad_cell_and_imports_nothing(
    client: FlaskClient, luannan: Auth, engine: Engine, rule: str
) -> None:
    with engine.store.write() as s:  # a neighbouring county's town: its name is no unit of 滦南
        org.upsert_unit(
            s, "qianxi", name="迁西县", kind="county", parent=None, attributes=None, now=engine.clock.now()
        )
        org.upsert_unit(
            s,
            "qianxi_town",
            name="迁西镇",
            kind="town",
            parent="qianxi",
            attributes=None,
            now=engine.clock.now(),
        )
    campaign = create(client, luannan)
    change, column, says = REFUSALS[rule]
    rows = [problem_row(1), problem_row(2, **change), problem_row(3)]
    resp = upload(client, luannan, campaign["id"], workbook(rows))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["imported"] == 0 and body["instances"] == []
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, column)]  # the header is row 1
    assert says in body["errors"][0]["message"]
    assert engine.list_instances(limit=10).total == 0


def test_a_number_twice_in_the_file_is_refused_on_its_second_row(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    campaign = create(client, luannan)
    resp = upload(client, luannan, campaign["id"], workbook([problem_row(1), problem_row(2), problem_row(1)]))
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == [{"row": 4, "column": "编号", "message": "编号 1 与第 2 行重复"}]


def test_every_bad_cell_of_a_list_is_reported_at_once(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    campaign = create(client, luannan)
    rows = [problem_row(1, 类别="经济建设", 分值=0), problem_row(2), problem_row(3, 时限="明年")]
    errors = upload(client, luannan, campaign["id"], workbook(rows)).get_json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(2, "类别"), (2, "分值"), (4, "时限")]


def test_hostile_or_broken_files_are_refused(client: FlaskClient, luannan: Auth, engine: Engine) -> None:
    campaign = create(client, luannan)
    not_xlsx = upload(client, luannan, campaign["id"], b"PK\x03\x04 not really a zip")
    assert not_xlsx.status_code == 422 and "xlsx" in not_xlsx.get_json()["errors"]["file"][0]
    wrong_layout = upload(client, luannan, campaign["id"], workbook([["x"]], headers=["名称"]))
    assert wrong_layout.status_code == 422
    assert {e["column"] for e in wrong_layout.get_json()["errors"]} >= {"类别", "题目", "牵头单位"}
    from engine.campaigns import MAX_ROWS

    too_many = upload(
        client, luannan, campaign["id"], workbook([problem_row(n) for n in range(1, MAX_ROWS + 2)])
    )
    assert too_many.status_code == 422 and "行数超过上限" in too_many.get_json()["errors"][0]["message"]
    assert engine.list_instances(limit=10).total == 0


def test_only_the_organiser_unit_s_admins_create_or_import(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    refused = client.post(f"{API}/campaigns", json=campaign_body(), headers=luannan.headers("liu"))
    assert refused.status_code == 403
    campaign = create(client, luannan)
    assert upload(client, luannan, campaign["id"], problem_list(2), user="liu").status_code == 403
    assert engine.list_instances(limit=10).total == 0


def test_a_campaign_belongs_to_its_tenant_and_is_unknown_to_another(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    campaign = create(client, luannan)
    assert campaign["tenant"] == "luannan"
    with engine.store.write() as s:
        org.upsert_unit(
            s, "qianxi", name="迁西县", kind="county", parent=None, attributes=None, now=engine.clock.now()
        )
    luannan.user("qx")
    with engine.store.write() as s:
        org.set_posts(s, "qx", [org.PostAssignment("qianxi", "科员", "股级")])
    other = luannan.headers("qx")
    for path in ("", "/stats?by=unit", "/problems/template", "/stats/export"):
        assert client.get(f"{API}/campaigns/{campaign['id']}{path}", headers=other).status_code == 404, path
    assert client.get(f"{API}/campaigns", headers=other).get_json()["items"] == []
    assert [
        c["id"] for c in client.get(f"{API}/campaigns", headers=luannan.headers("he")).get_json()["items"]
    ] == [campaign["id"]]
