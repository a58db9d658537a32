"""滦南's year end over the API: the 考评组 assesses every item of a 24-item campaign (破题 / 未破题 /
结转), each assessment a task in the item's own instance; statistics count what was judged; the
unsolved items carry over into next year's campaign once, linked to their history; the people the
acceptances recommended show in their growth archives and in the campaign's report."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from engine import Engine, ManualClock
from engine import organisation as org
from tests.api.conftest import Auth, page_login
from tests.api.test_campaigns import API, claim_and_select, complete, create, stats, upload
from tests.campaigns import problem_list

REPORT = {"progress_percent": 100, "summary": "完工", "status_self": "on_track", "final": True}


def assess(
    client: FlaskClient, auth: Auth, engine: Engine, instance_id: str, user: str, data: dict[str, Any]
) -> Any:
    task = next(
        t for t in engine.get_instance(instance_id).open_tasks if t.element_id == "year_end_assessment"
    )
    return client.post(f"{API}/tasks/{task.id}/complete", json={"data": data}, headers=auth.headers(user))


def accept(
    client: FlaskClient,
    auth: Auth,
    engine: Engine,
    instance_id: str,
    leader: str,
    recommend: list[dict[str, str]],
) -> None:
    complete(client, auth, engine, instance_id, "progress_report", leader, REPORT)
    complete(
        client,
        auth,
        engine,
        instance_id,
        "completion_report",
        leader,
        {"summary": "完工", "results": "见成效"},
    )
    complete(client, auth, engine, instance_id, "acceptance", "qian",
             {"decision": "pass", "grade": "excellent", "recommend": recommend})  # fmt: skip


@pytest.fixture
def year(client: FlaskClient, luannan: Auth, engine: Engine, clock: ManualClock) -> dict[str, Any]:
    """24 items imported; 22 published (2 refused); 刘 works 1-5 alone, 高 and 何 6 as a team."""
    auth = luannan
    campaign = create(client, auth)
    ids = upload(client, auth, campaign["id"], problem_list(24)).get_json()["instances"]
    for i in ids[:22]:
        complete(client, auth, engine, i, "preliminary_review", "zhao", {"decision": "approve"})
    for i in ids[22:]:
        complete(
            client, auth, engine, i, "preliminary_review", "zhao", {"decision": "reject", "comment": "重复"}
        )
    assert (
        client.post(
            f"{API}/campaigns/{campaign['id']}/publish", headers=auth.headers("zzb_admin")
        ).status_code
        == 200
    )
    claim_and_select(client, auth, engine, clock, ids)
    return {"campaign": campaign, "ids": ids}


def test_the_year_end_assesses_every_item_counts_it_carries_the_rest_over_and_uses_the_results(
    client: FlaskClient, luannan: Auth, engine: Engine, clock: ManualClock, year: dict[str, Any]
) -> None:
    auth, campaign, ids = luannan, year["campaign"], year["ids"]
    cid = campaign["id"]
    # 刘's first item and the team's are accepted before the year end; the acceptances recommend people
    accept(
        client, auth, engine, ids[0], "liu", [{"username": "liu", "kind": "重点培养", "reason": "攻坚有力"}]
    )
    accept(client, auth, engine, ids[5], "gao", [
        {"username": "gao", "kind": "提拔使用", "reason": "挂帅破题"},
        {"username": "he", "kind": "重点培养", "reason": "骨干作用突出"}])  # fmt: skip

    # the organiser opens the year end: a task in each of the 20 items still running, once
    opened = client.post(f"{API}/campaigns/{cid}/assessment", headers=auth.headers("zzb_admin"))
    assert opened.status_code == 200, opened.get_data(as_text=True)
    assert (opened.get_json()["opened"], opened.get_json()["passed_over"]) == (20, 0)
    again = client.post(f"{API}/campaigns/{cid}/assessment", headers=auth.headers("zzb_admin")).get_json()
    assert (again["opened"], again["passed_over"]) == (0, 20)
    second = engine.get_instance(ids[1])
    assert sorted(t.element_id for t in second.open_tasks) == ["progress_report", "year_end_assessment"]
    assert second.data["phase"] == "in_progress" and second.data["claimant"]["leader"] == "liu"
    assert "campaign.assessment_opened" in [e.event for e in engine.history(ids[1])]

    # the 考评组 judges: a verdict other than 破题 needs a comment; only the 考评组 may judge
    assert assess(client, auth, engine, ids[2], "qian", {"verdict": "unsolved"}).status_code == 422
    assert assess(client, auth, engine, ids[2], "liu", {"verdict": "solved"}).status_code == 403
    verdicts = {1: ("solved", ""), 2: ("unsolved", "资金未落实"), 3: ("carry_over", "跨年度工程"),
                4: ("carry_over", "待来年续建"), 6: ("solved", "")}  # fmt: skip
    for index, (verdict, comment) in verdicts.items():
        resp = assess(client, auth, engine, ids[index], "qian", {"verdict": verdict, "comment": comment})
        assert resp.status_code == 200, resp.get_data(as_text=True)

    # the verdict is the item's data and audited; the item's own work went on beside it
    second = engine.get_instance(ids[1])
    assert second.status == "running" and second.data["year_end"]["verdict"] == "solved"
    assert [t.element_id for t in second.open_tasks] == ["progress_report"]
    complete(client, auth, engine, ids[1], "progress_report", "liu", {**REPORT, "final": False})
    assert engine.get_instance(ids[1]).data["year_end"]["verdict"] == "solved"
    done = [
        e
        for e in engine.history(ids[2])
        if e.element_id == "year_end_assessment" and e.event == "task.complete"
    ]
    assert done and done[0].actor == "qian"
    assert engine.get_instance(ids[6]).data["year_end"]["verdict"] == "solved"  # published, never claimed

    # statistics count what was done: 2 accepted + 2 judged 破题
    by_status = stats(client, auth, cid, "status")
    assert sum(v["solved"] for v in by_status.values()) == 4
    assert by_status["accepted"]["solved"] == 2 and by_status["in_progress"]["solved"] == 1

    # the 考评组's sheet lists every item with its claimants by name and verdict
    sheet = client.get(f"{API}/campaigns/{cid}/assessment", headers=auth.headers("qian"))
    assert sheet.status_code == 200
    rows = {r["number"]: r for r in sheet.get_json()["items"]}
    assert len(rows) == 24 and rows[6]["claimants"] == ["gao", "he"]
    assert (rows[1]["verdict"], rows[1]["automatic"]) == ("solved", True)
    assert (rows[3]["verdict"], rows[3]["verdict_comment"]) == ("unsolved", "资金未落实")
    assert rows[8]["verdict"] is None and rows[8]["task_id"] is not None
    assert rows[23]["verdict"] is None and rows[23]["task_id"] is None  # refused in review: nothing to judge

    # next year's campaign receives the unsolved and carried items once, linked to their history
    clock.advance(days=30)
    nxt = create(client, auth, title="2027年百名干部破百题", year=2027, key_prefix="LN2027-")
    carried = client.post(f"{API}/campaigns/{cid}/carry-over", json={"to_campaign": nxt["id"]},
                          headers=auth.headers("zzb_admin"))  # fmt: skip
    assert carried.status_code == 200, carried.get_data(as_text=True)
    assert carried.get_json()["carried"] == 3
    new = [engine.get_instance(i) for i in carried.get_json()["instances"]]
    assert [n.business_key for n in new] == ["LN2027-1", "LN2027-2", "LN2027-3"]
    assert [n.data["carried_from"]["number"] for n in new] == [3, 4, 5]
    assert new[0].data["carried_from"]["instance_id"] == ids[2]
    # started after the year end opened elsewhere, they wait where a new problem waits, nothing more
    assert [t.element_id for t in new[0].open_tasks] == ["preliminary_review"]
    assert new[0].data["title"] == engine.get_instance(ids[2]).data["title"]
    assert (
        client.get(f"{API}/process-instances/{ids[2]}/history", headers=auth.headers("zzb_admin")).status_code
        == 200
    )
    twice = client.post(f"{API}/campaigns/{cid}/carry-over", json={"to_campaign": nxt["id"]},
                        headers=auth.headers("zzb_admin")).get_json()  # fmt: skip
    assert (twice["carried"], sorted(twice["already"])) == (0, sorted(ids[2:5]))
    assert client.get(f"{API}/campaigns/{nxt['id']}", headers=auth.headers("he")).get_json()["problems"] == 3
    page_login(client, engine, "zzb_admin")
    shown = client.get(f"/instances/{new[0].id}").get_data(as_text=True)
    assert "由《2026年百名干部破百题》第 3 号结转" in shown and f'href="/instances/{ids[2]}"' in shown
    assert {
        r["number"]: r["carried_to"]
        for r in client.get(f"{API}/campaigns/{cid}/assessment", headers=auth.headers("qian")).get_json()[
            "items"
        ]
    }[3] == new[0].id

    # the report counts the verdicts and lists the people recommended
    report = client.get(f"{API}/campaigns/{cid}/report", headers=auth.headers("he")).get_json()
    assert (report["solved"], report["unsolved"], report["carried_over"], report["not_assessed"]) == (
        4,
        1,
        2,
        17,
    )
    assert report["people_recommended"] == 3
    assert {(r["username"], r["kind"]) for r in report["recommendations"]} == {
        ("liu", "重点培养"), ("gao", "提拔使用"), ("he", "重点培养")}  # fmt: skip

    # 高's archive: the claim, the reports, the acceptance, the score and the recommendation, oldest first
    archive = client.get(f"{API}/people/gao/archive", headers=auth.headers("gao"))
    assert archive.status_code == 200
    kinds = [e["kind"] for e in archive.get_json()["items"]]
    assert kinds[0] == "claim" and {"report", "acceptance", "score", "recommendation"} <= set(kinds)
    recommended = next(e for e in archive.get_json()["items"] if e["kind"] == "recommendation")
    assert recommended["detail"] == "提拔使用：挂帅破题" and recommended["campaign_id"] == cid
    ats = [e["at"] for e in archive.get_json()["items"]]
    assert ats == sorted(ats)
    assert client.get(f"{API}/people/gao/archive", headers=auth.headers("zzb_admin")).status_code == 200
    book = client.get(f"{API}/people/gao/archive?format=xlsx", headers=auth.headers("gao"))
    assert book.status_code == 200 and book.mimetype.endswith("spreadsheetml.sheet")
    lines = list(load_workbook(io.BytesIO(book.data)).active.iter_rows(values_only=True))
    assert lines[0] == ("时间", "类型", "事项", "内容", "批次", "分值") and len(lines) == len(kinds) + 1
    assert client.get(f"{API}/people/gao/archive", headers=auth.headers("he")).status_code == 404  # a peer


def test_an_acceptance_recommends_only_members_of_the_claim(
    client: FlaskClient, luannan: Auth, engine: Engine, year: dict[str, Any]
) -> None:
    ids = year["ids"]
    complete(client, luannan, engine, ids[5], "progress_report", "gao", REPORT)
    complete(
        client, luannan, engine, ids[5], "completion_report", "gao", {"summary": "完工", "results": "见成效"}
    )
    task = next(t for t in engine.get_instance(ids[5]).open_tasks if t.element_id == "acceptance")
    form = client.get(f"{API}/tasks/{task.id}", headers=luannan.headers("qian")).get_json()["form"]
    person = form["properties"]["recommend"]["items"]["properties"]["username"]
    assert person["enum"] == ["gao", "he"]
    outsider = {
        "decision": "pass",
        "grade": "good",
        "recommend": [{"username": "liu", "kind": "提拔使用", "reason": "x"}],
    }
    resp = client.post(
        f"{API}/tasks/{task.id}/complete", json={"data": outsider}, headers=luannan.headers("qian")
    )
    assert resp.status_code == 422


def test_only_the_organiser_opens_and_carries_only_the_evaluators_read_the_sheet_and_other_counties_see_nothing(
    client: FlaskClient, luannan: Auth, engine: Engine, year: dict[str, Any]
) -> None:
    cid = year["campaign"]["id"]
    assert (
        client.post(f"{API}/campaigns/{cid}/assessment", headers=luannan.headers("qian")).status_code == 403
    )
    assert client.get(f"{API}/campaigns/{cid}/assessment", headers=luannan.headers("liu")).status_code == 403
    assert (
        client.get(f"{API}/campaigns/{cid}/assessment", headers=luannan.headers("zzb_admin")).status_code
        == 200
    )
    nxt = create(client, luannan, title="2027年百名干部破百题", year=2027, key_prefix="LN2027-")
    body = {"to_campaign": nxt["id"]}
    assert (
        client.post(
            f"{API}/campaigns/{cid}/carry-over", json=body, headers=luannan.headers("liu")
        ).status_code
        == 403
    )
    same = client.post(
        f"{API}/campaigns/{cid}/carry-over", json={"to_campaign": cid}, headers=luannan.headers("zzb_admin")
    )
    assert same.status_code == 422
    with engine.store.write() as s:
        org.upsert_unit(
            s, "qianxi", name="迁西县", kind="county", parent=None, attributes=None, now=engine.clock.now()
        )
    luannan.user("qx", ["evaluator"])
    with engine.store.write() as s:
        org.set_posts(s, "qx", [org.PostAssignment("qianxi", "科员", "股级")])
    other = luannan.headers("qx")
    assert client.get(f"{API}/campaigns/{cid}/assessment", headers=other).status_code == 404
    assert client.post(f"{API}/campaigns/{cid}/assessment", headers=other).status_code == 404
    assert client.get(f"{API}/campaigns/{cid}/report", headers=other).status_code == 404
    assert client.post(f"{API}/campaigns/{cid}/carry-over", json=body, headers=other).status_code == 404
    assert client.get(f"{API}/people/gao/archive", headers=other).status_code == 404
    assert client.get(f"{API}/people/nobody/archive", headers=luannan.headers("zzb_admin")).status_code == 404


def test_the_year_end_message_is_the_engine_s_own(
    client: FlaskClient, luannan: Auth, engine: Engine, year: dict[str, Any]
) -> None:
    luannan.user("oa", roles=["oa-service"])
    resp = client.post(f"{API}/messages", json={"name": "year_end_assessment", "instance_id": year["ids"][1], "payload": {}},
                       headers=luannan.headers("oa"))  # fmt: skip
    assert resp.status_code in (403, 404, 422)
    assert "year_end_assessment" not in [t.element_id for t in engine.get_instance(year["ids"][1]).open_tasks]


def test_the_evaluation_group_s_page_takes_every_verdict_at_once_and_keeps_a_refused_row(
    client: FlaskClient, luannan: Auth, engine: Engine, year: dict[str, Any]
) -> None:
    cid, ids = year["campaign"]["id"], year["ids"]
    page = f"/campaigns/{cid}/assessment"
    page_login(client, engine, "zzb_admin", csrf_token="t")
    opened = client.post(f"{page}/open", data={"csrf_token": "t"}, follow_redirects=True)
    assert "已为 22 个事项开启年终考评" in opened.get_data(as_text=True)

    page_login(client, engine, "liu", csrf_token="t")
    refused = client.get(page)
    assert refused.status_code == 403 and f'href="/campaigns/{cid}"' in refused.get_data(as_text=True)

    page_login(client, engine, "qian", csrf_token="t")
    html = client.get(page).get_data(as_text=True)
    assert html.count('name="verdict-') == 22 * 3 and "第1号难题" in html
    tasks = {r.number: r.task_id for r in engine.assessment_sheet(cid, "qian")}
    form = {"csrf_token": "t", f"verdict-{tasks[1]}": "solved", f"verdict-{tasks[2]}": "carry_over",
            f"verdict-{tasks[3]}": "unsolved", f"comment-{tasks[3]}": "资金未落实"}  # fmt: skip
    resp = client.post(page, data=form)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "未破题或结转须填写考评意见" in body and "已提交 2 项考评结论" in body
    assert f'name="verdict-{tasks[2]}" value="carry_over" checked' in body  # the refused row as typed
    assert engine.get_instance(ids[0]).data["year_end"]["verdict"] == "solved"
    assert engine.get_instance(ids[2]).data["year_end"]["comment"] == "资金未落实"
    assert "year_end" not in engine.get_instance(ids[1]).data
