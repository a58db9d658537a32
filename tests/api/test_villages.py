"""总队长制 over HTTP: propose and confirm a leader, read the letter, the red/yellow/green list and
its .xlsx, log stays from the OA and read the presence dashboard."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from engine import Engine
from tests.api.conftest import make_app
from tests.villages import county


@pytest.fixture
def engine(make_engine) -> Engine:
    built = make_engine()
    built.deploy_shipped()
    county(built)
    built.upsert_user("oa", display_name="OA", roles=["oa-service"])
    return built


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    return make_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"}).test_client()


def as_(engine: Engine, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {engine.create_token(user)}"}


def test_propose_confirm_and_read_the_letter(client: FlaskClient, engine: Engine) -> None:
    refused = client.post(
        "/api/v1/villages/jinshahe/leader", json={"leader": "yuan"}, headers=as_(engine, "organiser")
    )
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert (
        client.post(
            "/api/v1/villages/jinshahe/leader", json={"leader": "zheng"}, headers=as_(engine, "clerk")
        ).status_code
        == 403
    )
    proposed = client.post(
        "/api/v1/villages/jinshahe/leader",
        json={"leader": "zheng", "reason": "试点"},
        headers=as_(engine, "organiser"),
    )
    assert proposed.status_code == 201, proposed.get_json()
    again = client.post(
        "/api/v1/villages/jinshahe/leader", json={"leader": "li_xz"}, headers=as_(engine, "organiser")
    )
    assert again.status_code == 409
    task = next(t for t in proposed.get_json()["open_tasks"] if t["element_id"] == "confirm")
    done = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"decision": "confirm"}},
        headers=as_(engine, "changwei"),
    )
    assert done.status_code == 200, done.get_json()
    board = {v["village"]: v for v in client.get("/api/v1/villages", headers=as_(engine, "clerk")).get_json()}
    assert (
        board["jinshahe"]["leader_name"] == "郑小东"
        and board["jinshahe"]["letter_no"] == "总队长任〔2026〕1号"
    )
    letter = client.get(
        f"/api/v1/villages/appointments/{board['jinshahe']['appointment_id']}", headers=as_(engine, "clerk")
    ).get_json()
    assert letter["current"] and letter["letter"]["village_name"] == "金沙河村"


def test_the_list_and_its_workbook_are_the_open_problems(client: FlaskClient, engine: Engine, clock) -> None:
    proposal = engine.propose_village_leader("organiser", "shahe", "yuan")
    engine.complete(proposal.open_tasks[0].id, "changwei", {"decision": "confirm"})
    village = engine.open_village("organiser", "shahe", meeting_interval="P7D")
    clock.advance(timedelta(days=8))
    engine.run_due_jobs()
    meeting = next(t for t in engine.list_tasks("yuan").items if t.instance_id == village.id)
    engine.complete(meeting.id, "yuan", {"problems": [{"title": "产业路不通"}, {"title": "饮水不安全"}]})
    triage = [t for t in engine.list_tasks("yuan").items if t.element_id == "triage"]
    engine.complete(triage[0].id, "yuan", {"colour": "red", "department": "jtj"})

    listed = client.get("/api/v1/village-problems", headers=as_(engine, "clerk")).get_json()
    assert listed["counts"] == {"red": 1, "yellow": 0, "green": 0, "untriaged": 1}
    assert [(r["colour"], r["owner"]) for r in listed["items"]] == [("red", "何德渔"), (None, "袁守波")]
    reds = client.get(
        "/api/v1/village-problems?colour=red&town=changan", headers=as_(engine, "clerk")
    ).get_json()
    assert [r["department_name"] for r in reds["items"]] == ["县交通运输局"]
    sheet = client.get("/api/v1/village-problems/export", headers=as_(engine, "clerk"))
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("分级", "问题", "村") and len(rows) == 3 and rows[1][0] == "红"


def test_the_oa_logs_stays_and_the_dashboard_counts_them(client: FlaskClient, engine: Engine) -> None:
    logged = client.post(
        "/api/v1/village-visits",
        json={"village": "shahe", "day": "2026-02-10", "nights": 2, "username": "yuan"},
        headers=as_(engine, "oa"),
    )
    assert logged.status_code == 201, logged.get_json()
    mine = client.post(
        "/api/v1/village-visits", json={"village": "shahe", "day": "2026-02-12"}, headers=as_(engine, "yuan")
    )
    assert mine.status_code == 201
    assert (
        client.post(
            "/api/v1/village-visits",
            json={"village": "shahe", "day": "2026-02-12", "username": "he"},
            headers=as_(engine, "yuan"),
        ).status_code
        == 403
    )
    rows = client.get(
        "/api/v1/village-presence?since=2026-02-01", headers=as_(engine, "organiser")
    ).get_json()
    assert [(r["display_name"], r["visits"], r["nights"]) for r in rows] == [("袁守波", 2, 2)]


def test_the_pages_show_names_the_letter_and_the_list_in_both_languages(
    client: FlaskClient, engine: Engine
) -> None:
    from tests.api.conftest import page_login

    page_login(client, engine, "organiser", csrf_token="t")
    proposed = client.post(
        "/villages/propose",
        data={"village": "shahe", "leader": "yuan", "reason": "<b>试点</b>", "csrf_token": "t"},
    )
    assert proposed.status_code == 302
    task = next(t for t in engine.list_tasks("changwei").items if t.element_id == "confirm")
    engine.complete(task.id, "changwei", {"decision": "confirm"})
    board = client.get("/villages").get_data(as_text=True)
    assert "袁守波" in board and "总队长任〔2026〕1号" in board and "yuan" not in board.split("<select", 1)[0]
    refused = client.post(
        "/villages/propose", data={"village": "jinshahe", "leader": "he", "csrf_token": "t"}
    )
    assert "深度贫困村须由四大班子主要领导或县委常委担任总队长" in client.get(refused.location).get_data(
        as_text=True
    )
    appointment = engine.village_board("organiser")
    letter_id = next(r.appointment_id for r in appointment if r.village == "shahe")
    letter = client.get(f"/villages/letters/{letter_id}").get_data(as_text=True)
    assert "任命书" in letter and "袁守波" in letter and "沙河村" in letter and "长安镇" in letter
    english = client.get("/villages/problems?lang=en").get_data(as_text=True)
    assert "Red/yellow/green problem list" in english and "No open problems" in english
    client.post(
        "/villages/presence", data={"village": "shahe", "day": "2026-03-01", "nights": "1", "csrf_token": "t"}
    )
    presence = client.get("/villages/presence").get_data(as_text=True)
    assert "<svg" in presence and "沙河村" in presence and "县委组织部" in presence


def test_the_bundled_assessment_over_http(client: FlaskClient, engine: Engine) -> None:
    """考核捆绑 over the API: the organiser assesses a quiet village; a second time is 409, a
    cadre is refused, an unknown village is 404, a satisfaction over 100 is 422."""
    url = "/api/v1/villages/shahe/assessment"
    organiser = as_(engine, "organiser")
    done = client.post(url, json={"year": 2026, "satisfaction": 80}, headers=organiser)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["grade"] == "优秀" and done.get_json()["score"] == 94.0
    again = client.post(url, json={"year": 2026, "satisfaction": 80}, headers=organiser)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    refused = client.post(url, json={"year": 2026, "satisfaction": 80}, headers=as_(engine, "clerk"))
    assert refused.status_code == 403
    unknown = client.post(
        "/api/v1/villages/nowhere/assessment", json={"year": 2026, "satisfaction": 1}, headers=organiser
    )
    assert unknown.status_code == 404
    bad = client.post(url, json={"year": 2026, "satisfaction": 101}, headers=organiser)
    assert bad.status_code == 422 and "satisfaction" in bad.get_json()["errors"]


def test_the_year_end_form_on_the_villages_page(client: FlaskClient, engine: Engine) -> None:
    from tests.api.conftest import page_login

    page_login(client, engine, "organiser", csrf_token="t")
    assert 'id="assess"' in client.get("/villages").get_data(as_text=True)
    done = client.post(
        "/villages/assessment",
        data={"csrf_token": "t", "village": "shahe", "year": "2026", "satisfaction": "80"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "沙河村 2026 年度考核优秀（94 分）" in done
    again = client.post(
        "/villages/assessment",
        data={"csrf_token": "t", "village": "shahe", "year": "2026", "satisfaction": "80"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "该村本年度已考核" in again
