"""三好创争 over the API: 组织部 starts 白米镇's year, its 书记 files the plan, a 躺平奖 nomination and
objections reach the instance only through /sanhao (checked), and an objection after the
publicity window is refused with a problem."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from engine import Engine, ManualClock
from tests.api.conftest import page_login
from tests.engine.test_sanhao import _skip_to_scoring, plan, score
from tests.sanhao import ORGANISER, PANEL, QUOTAS, YEAR, jiangyan, month_opens, task_of

API = "/api/v1"


def headers(engine: Engine, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {engine.create_token(username)}"}


def start(client: FlaskClient, engine: Engine, who: str) -> Any:
    body = {
        "process_key": "sanhao",
        "data": {
            "title": "2027年三好创争·白米镇",
            "year": YEAR,
            "unit": "baimi",
            "panel": PANEL,
            "quotas": QUOTAS,
        },
    }
    return client.post(f"{API}/process-instances", json=body, headers=headers(engine, who))


def test_a_town_s_year_over_the_api(client: FlaskClient, engine: Engine, clock: ManualClock) -> None:
    clock.set(month_opens(1) - timedelta(days=12))
    jiangyan(engine)
    assert start(client, engine, "teng").status_code == 403  # the 书记 does not start it
    resp = start(client, engine, ORGANISER)
    assert resp.status_code == 201, resp.get_json()
    instance_id = resp.get_json()["id"]
    plan_task = task_of(engine, instance_id, "file_plan")
    form = client.get(f"{API}/tasks/{plan_task.id}", headers=headers(engine, "teng")).get_json()["form"]
    assert len(form["properties"]["guide_items"]["items"]["enum"]) == 27  # the positive guide list
    plan(engine, instance_id, "teng")

    nominate = f"{API}/sanhao/{instance_id}/nominations"
    resp = client.post(
        nominate, json={"nominee": "clerk_lt", "reason": "不作为"}, headers=headers(engine, ORGANISER)
    )
    assert resp.status_code == 422 and "nominee" in resp.get_json()["errors"]  # 罗塘街道's clerk
    resp = client.post(
        nominate, json={"nominee": "clerk_bm", "reason": "不作为"}, headers=headers(engine, "ping1")
    )
    assert resp.status_code == 403  # the panel does not see the town's year
    resp = client.post(
        nominate, json={"nominee": "clerk_bm", "reason": "不作为"}, headers=headers(engine, ORGANISER)
    )
    assert resp.status_code == 201 and resp.get_json() == {"id": instance_id, "status": "running"}
    assert task_of(engine, instance_id, "review_nomination").assignee == "teng"

    objection = f"{API}/sanhao/{instance_id}/objections"
    resp = client.post(
        objection, json={"against": "teng", "reason": "x"}, headers=headers(engine, "clerk_bm")
    )
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"  # nothing in publicity yet
    raw = {"name": "sanhao_objection", "instance_id": instance_id, "payload": {"against": "teng"}}
    engine.upsert_user("admin_x", display_name="管理员", roles=["admin"])
    refused = client.post(f"{API}/messages", json=raw, headers=headers(engine, "admin_x"))
    assert refused.status_code == 422  # not even an admin skips the checks with a raw message

    _skip_to_scoring(engine, clock, {"baimi": instance_id})
    scoring_task = next(t for t in engine.get_instance(instance_id).open_tasks if t.assignee == "ping1")
    form = client.get(f"{API}/tasks/{scoring_task.id}", headers=headers(engine, "ping1")).get_json()["form"]
    deputy = form["properties"]["banfu"]["items"]["properties"]["deputy"]
    assert deputy["enum"] == ["xu_bm", "zhu_bm"] and form["properties"]["banfu"]["minItems"] == 2
    score(engine, instance_id, "baimi")
    confirm = task_of(engine, instance_id, "confirm_awards")
    proposed = engine.get_instance(instance_id).data["awards"]
    resp = client.post(
        f"{API}/tasks/{confirm.id}/complete",
        json={"data": {"awards": proposed}},
        headers=headers(engine, ORGANISER),
    )
    assert resp.status_code == 200, resp.get_json()

    page_login(client, engine, "clerk_dl", csrf_token="t")  # a cadre of another town reads the 公示
    board = client.get(f"/sanhao?year={YEAR}").get_data(as_text=True)
    assert "提出异议" in board and "白米镇书记" in board
    assert "提名躺平奖" not in board  # nominations are the organiser's
    filed = client.post(
        f"/sanhao/{instance_id}/objections",
        data={"csrf_token": "t", "against": "baimi", "reason": "材料不实", "year": str(YEAR)},
        follow_redirects=True,
    )
    assert "异议已提交" in filed.get_data(as_text=True)
    assert task_of(engine, instance_id, "handle_objection").assignee == ORGANISER
    engine.complete(
        task_of(engine, instance_id, "handle_objection").id,
        ORGANISER,
        {"decision": "dismiss", "response": "反映不属实。"},
    )
    clock.advance(days=8)
    resp = client.post(
        objection, json={"against": "baimi", "reason": "迟了"}, headers=headers(engine, "clerk_dl")
    )
    assert resp.status_code == 409 and "公示期已结束" in resp.get_json()["detail"]
