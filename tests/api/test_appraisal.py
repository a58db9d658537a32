"""三好创争 over the API: schemes, a panel of five scoring four towns, the ranking (JSON and .xlsx),
an award list under publicity with an objection, the awards and a unit's archive; every refusal
is problem+json and another county's things are 404."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from engine import Engine, ManualClock
from engine import organisation as org
from engine.organisation import PostAssignment
from tests.api.conftest import Auth, page_login
from tests.appraisal import DISPLAY, ORGANISER, SCORERS, TOWNS, district, scores

API = "/api/v1"
SHEETS = {
    "baimi": (90, 80, 85, 95, 60),
    "luotang": (88,) * 5,
    "dalun": (70, 72, 74, 76, 99),
    "yuxi": (60, 65, 70, 75, 80),
}


@pytest.fixture
def jiangyan(auth: Auth, engine: Engine) -> Auth:
    district(engine)
    for username in ["xiao", "lt_zhen", *SCORERS]:
        auth.user(username, display_name=DISPLAY.get(username))
    auth.user(ORGANISER, roles=["admin@jy_zzb"], display_name=DISPLAY[ORGANISER])
    now = engine.clock.now()
    with engine.store.write() as s:
        org.upsert_unit(s, "xinghua", name="兴化市", kind="county", parent=None, attributes=None, now=now)
    auth.user("stranger", display_name="外县干部")
    with engine.store.write() as s:
        org.set_posts(s, "stranger", [PostAssignment("xinghua", "书记", "科级")])
    return auth


def problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_json()
    assert resp.content_type == "application/problem+json"
    return resp.get_json()


def scored_year(client: FlaskClient, auth: Auth) -> int:
    body = {
        "scheme": "四强",
        "period": "2026",
        "subjects": list(TOWNS),
        "scorers": [{"username": u} for u in SCORERS],
    }
    resp = client.post(f"{API}/appraisal/panels", json=body, headers=auth.headers(ORGANISER))
    assert resp.status_code == 201, resp.get_json()
    panel = resp.get_json()["id"]
    for town, values in SHEETS.items():
        for scorer, value in zip(SCORERS, values, strict=True):
            sent = client.post(f"{API}/appraisal/panels/{panel}/scores", json={"subject": town, "scores": scores(value)},
                               headers=auth.headers(scorer))  # fmt: skip
            assert sent.status_code == 201, sent.get_json()
    closed = client.post(f"{API}/appraisal/panels/{panel}/close", headers=auth.headers(ORGANISER))
    assert closed.status_code == 200 and closed.get_json()["results"]["baimi"]["total"] == 85
    return panel


def test_schemes_are_listed_and_created_by_organisers_with_field_errors(
    client: FlaskClient, jiangyan: Auth
) -> None:
    listed = client.get(f"{API}/appraisal/schemes", headers=jiangyan.headers("xiao")).get_json()
    assert [(d["name"], d["award"]["kind"]) for d in listed] == [
        ("四强", "好班子"),
        ("四高", "好班长"),
        ("四优", "好班副"),
    ]
    assert [d["name"] for d in listed[0]["dimensions"]] == ["引领力强", "凝聚力强", "战斗力强", "公信力强"]
    body = {"name": "作风", "subject_kind": "person", "aggregation": "trimmed",
            "dimensions": [{"key": "style", "name": "作风", "weight": 1, "min": 0, "max": 10}]}  # fmt: skip
    problem(client.post(f"{API}/appraisal/schemes", json=body, headers=jiangyan.headers("xiao")), 403)
    bad = {**body, "dimensions": [{"key": "style", "name": "作风", "weight": 1, "min": 10, "max": 0}]}
    assert (
        "dimensions.0"
        in problem(
            client.post(f"{API}/appraisal/schemes", json=bad, headers=jiangyan.headers(ORGANISER)), 422
        )["errors"]
    )
    assert (
        client.post(f"{API}/appraisal/schemes", json=body, headers=jiangyan.headers(ORGANISER)).status_code
        == 201
    )
    problem(client.post(f"{API}/appraisal/schemes", json=body, headers=jiangyan.headers(ORGANISER)), 409)


def test_scores_are_refused_out_of_scale_off_the_panel_and_twice(client: FlaskClient, jiangyan: Auth) -> None:
    body = {
        "scheme": "四强",
        "period": "2026-Q1",
        "subjects": list(TOWNS),
        "scorers": [{"username": u} for u in SCORERS],
    }
    panel = client.post(f"{API}/appraisal/panels", json=body, headers=jiangyan.headers(ORGANISER)).get_json()
    assert (panel["status"], panel["period"]) == ("open", "2026-Q1")
    url = f"{API}/appraisal/panels/{panel['id']}/scores"
    out = problem(client.post(url, json={"subject": "baimi", "scores": scores(80, leading=120, charm=1)},
                              headers=jiangyan.headers("ping1")), 422)  # fmt: skip
    assert set(out["errors"]) == {"scores.leading", "scores.charm"}
    problem(
        client.post(url, json={"subject": "baimi", "scores": scores(80)}, headers=jiangyan.headers("xiao")),
        403,
    )
    assert (
        client.post(
            url, json={"subject": "baimi", "scores": scores(80)}, headers=jiangyan.headers("ping1")
        ).status_code
        == 201
    )
    problem(
        client.post(url, json={"subject": "baimi", "scores": scores(81)}, headers=jiangyan.headers("ping1")),
        409,
    )
    again = client.post(
        url,
        json={"subject": "baimi", "scores": scores(81), "replace": True},
        headers=jiangyan.headers("ping1"),
    )
    assert again.get_json()["scores"]["leading"] == 81
    problem(
        client.post(f"{API}/appraisal/panels/{panel['id']}/close", headers=jiangyan.headers(ORGANISER)), 409
    )
    problem(client.get(f"{API}/appraisal/panels/{panel['id']}", headers=jiangyan.headers("stranger")), 404)
    problem(
        client.post(
            url, json={"subject": "baimi", "scores": scores(80)}, headers=jiangyan.headers("stranger")
        ),
        404,
    )
    assert problem(client.post(f"{API}/appraisal/panels", json={**body, "period": "2026-Q5"},
                               headers=jiangyan.headers(ORGANISER)), 422)["errors"]  # fmt: skip


def test_the_ranking_the_publicity_and_the_awards_over_a_year(
    client: FlaskClient, jiangyan: Auth, clock: ManualClock
) -> None:
    scored_year(client, jiangyan)
    ranked = client.get(
        f"{API}/rankings?scheme=四强&period=2026", headers=jiangyan.headers("xiao")
    ).get_json()
    assert [(r["rank"], r["name"], r["total"]) for r in ranked["items"]] == [
        (1, "罗塘街道", 88), (2, "白米镇", 85), (3, "大伦镇", 74), (4, "淤溪镇", 70)
    ]  # fmt: skip
    assert ranked["scheme"]["name"] == "四强" and ranked["items"][0]["dimensions"]["leading"] == 88
    problem(client.get(f"{API}/rankings?scheme=五好&period=2026", headers=jiangyan.headers("xiao")), 404)
    problem(client.get(f"{API}/rankings?scheme=四强&period=2026-13", headers=jiangyan.headers("xiao")), 422)
    book = load_workbook(io.BytesIO(client.get(f"{API}/rankings/export?scheme=四强&period=2026",
                                               headers=jiangyan.headers("xiao")).data))  # fmt: skip
    rows = list(book.active.values)
    assert rows[0][:4] == ("名次", "对象", "总分", "引领力强") and rows[1][:3] == (1, "罗塘街道", 88)

    ledger = client.get(f"{API}/scores?period=2026", headers=jiangyan.headers("xiao")).get_json()["items"]
    total = next(r for r in ledger if r["subject"] == "luotang" and r["dimension"] is None)
    assert (total["subject_kind"], total["name"], total["points"]) == ("unit", "罗塘街道", 88)

    problem(client.post(f"{API}/award-lists", json={"scheme": "四强", "period": "2026", "quota": 5},
                        headers=jiangyan.headers(ORGANISER)), 409)  # fmt: skip  # 4 好班子 at most
    problem(client.post(f"{API}/award-lists", json={"scheme": "四强", "period": "2026"},
                        headers=jiangyan.headers("xiao")), 403)  # fmt: skip
    listed = client.post(f"{API}/award-lists", json={"scheme": "四强", "period": "2026", "quota": 2},
                         headers=jiangyan.headers(ORGANISER)).get_json()  # fmt: skip
    assert [e["name"] for e in listed["entries"]] == ["罗塘街道", "白米镇"] and listed["open_for_objections"]
    objections = f"{API}/award-lists/{listed['id']}/objections"
    filed = client.post(
        objections,
        json={"subject": "baimi", "reason": "年内发生安全事故"},
        headers=jiangyan.headers("lt_zhen"),
    )
    assert filed.status_code == 201 and filed.get_json()["name"] == "白米镇"
    problem(
        client.post(
            objections, json={"subject": "baimi", "reason": "外县"}, headers=jiangyan.headers("stranger")
        ),
        404,
    )
    clock.advance(days=10)  # the window is over
    problem(
        client.post(
            objections, json={"subject": "luotang", "reason": "迟了"}, headers=jiangyan.headers("lt_zhen")
        ),
        409,
    )
    finalise = f"{API}/award-lists/{listed['id']}/finalise"
    problem(client.post(finalise, headers=jiangyan.headers(ORGANISER)), 409)  # the objection waits
    decision = f"{objections}/{filed.get_json()['id']}/decision"
    problem(client.post(decision, json={"decision": "maybe"}, headers=jiangyan.headers(ORGANISER)), 422)
    handled = client.post(
        decision, json={"decision": "upheld", "note": "属实"}, headers=jiangyan.headers(ORGANISER)
    )
    assert [e["name"] for e in handled.get_json()["entries"]] == ["罗塘街道", "大伦镇"]
    problem(client.post(decision, json={"decision": "dismissed"}, headers=jiangyan.headers(ORGANISER)), 409)
    assert client.post(finalise, headers=jiangyan.headers(ORGANISER)).get_json()["status"] == "final"
    assert (
        client.get(f"{API}/award-lists/{listed['id']}", headers=jiangyan.headers("xiao")).get_json()[
            "objections"
        ][0]["status"]
        == "upheld"
    )
    assert (
        len(
            client.get(f"{API}/award-lists?period=2026", headers=jiangyan.headers("xiao")).get_json()["items"]
        )
        == 1
    )

    given = client.get(f"{API}/awards?period=2026&kind=好班子", headers=jiangyan.headers("xiao")).get_json()[
        "items"
    ]
    assert [(a["name"], a["subject_kind"], a["period"]) for a in given] == [
        ("罗塘街道", "unit", "2026"),
        ("大伦镇", "unit", "2026"),
    ]
    assert (
        client.get(f"{API}/awards?period=2026", headers=jiangyan.headers("stranger")).get_json()["items"]
        == []
    )
    book = load_workbook(
        io.BytesIO(client.get(f"{API}/awards/export?period=2026", headers=jiangyan.headers("xiao")).data)
    )
    assert list(book.active.values)[0][:4] == ("期间", "奖项", "对象类型", "对象")

    archive = client.get(f"{API}/units/luotang/archive", headers=jiangyan.headers("xiao")).get_json()
    assert archive["name"] == "罗塘街道" and [e["kind"] for e in archive["items"]] == ["ranking", "award"]
    assert "第1名" in archive["items"][1]["detail"]
    problem(client.get(f"{API}/units/luotang/archive", headers=jiangyan.headers("lt_zhen")), 403)
    problem(client.get(f"{API}/units/luotang/archive", headers=jiangyan.headers("stranger")), 404)
    sheet = client.get(f"{API}/units/luotang/archive?format=xlsx", headers=jiangyan.headers(ORGANISER))
    assert list(load_workbook(io.BytesIO(sheet.data)).active.values)[0][0] == "时间"


def test_the_negative_award_needs_a_reason(client: FlaskClient, jiangyan: Auth, clock: ManualClock) -> None:
    url = f"{API}/award-lists"
    body = {
        "kind": "躺平奖",
        "period": "2026",
        "subject_kind": "person",
        "entries": [{"subject": "lt_zhen", "reason": " "}],
    }
    assert (
        "entries.0.reason"
        in problem(client.post(url, json=body, headers=jiangyan.headers(ORGANISER)), 422)["errors"]
    )
    body["entries"][0]["reason"] = "项目推进长期停滞"
    listed = client.post(url, json=body, headers=jiangyan.headers(ORGANISER)).get_json()
    clock.advance(days=10)
    client.post(f"{url}/{listed['id']}/finalise", headers=jiangyan.headers(ORGANISER))
    lines = client.get(f"{API}/people/lt_zhen/archive", headers=jiangyan.headers(ORGANISER)).get_json()[
        "items"
    ]
    assert [(e["kind"], e["title"], e["detail"]) for e in lines] == [("award", "躺平奖", "项目推进长期停滞")]


def test_the_pages_show_the_ranking_the_publicity_and_the_unit_archive(
    client: FlaskClient, jiangyan: Auth, engine: Engine, clock: ManualClock
) -> None:
    scored_year(client, jiangyan)
    listed = engine.propose_awards(ORGANISER, {"scheme": "四强", "period": "2026", "quota": 1})
    page_login(client, engine, "xiao")
    ranking = client.get("/appraisal/rankings?scheme=四强&period=2026").get_data(as_text=True)
    assert ranking.index("罗塘街道") < ranking.index("白米镇") and "好班子（公示中）" in ranking
    assert "提出评选名单并公示" not in ranking  # 肖书记 is no organiser
    english = client.get("/appraisal/rankings?scheme=四强&period=2026&lang=en").get_data(as_text=True)
    assert "Strong leadership" in english and "引领力强" not in english
    publicity = client.get(f"/appraisal/lists/{listed.id}?lang=zh_CN").get_data(as_text=True)
    assert "提出异议" in publicity and "确定名单并授予" not in publicity
    clock.advance(days=10)
    engine.finalise_awards(listed.id, ORGANISER)
    page_login(client, engine, "xiao")  # a new day's session
    archive = client.get("/appraisal/units/luotang/archive")
    assert archive.status_code == 200 and "第1名（共4名）" in archive.get_data(as_text=True)
    page_login(client, engine, "lt_zhen")
    assert client.get("/appraisal/units/luotang/archive").status_code == 403
    page_login(client, engine, ORGANISER)
    assert 'id="unit-archive"' in client.get("/org/units/luotang").get_data(as_text=True)
