"""Instances and the inbox over HTTP: happy paths and each refusal the contract names."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from engine import Engine, ManualClock
from tests.walk import PROBLEM

from .conftest import Auth, HttpWalk, page_login


def test_start_read_list_history_and_cancel(walk: HttpWalk) -> None:
    inst = walk.call(
        "POST",
        "/process-instances",
        "wang",
        201,
        json={"process_key": "claim_evaluate", "business_key": "B-1", "data": {"title": "村道修缮"}},
    )
    assert set(inst) >= {
        "id",
        "process_key",
        "version",
        "business_key",
        "status",
        "data",
        "open_tasks",
        "active_elements",
    }
    assert inst["status"] == "running" and inst["open_tasks"][0]["element_id"] == "submit_problem"
    assert inst["created_at"].endswith("+00:00")
    walk.instance_id = inst["id"]
    listed = walk.call(
        "GET",
        "/process-instances?process_key=claim_evaluate&status=running&business_key=B-1&per_page=5",
        "wang",
    )
    assert (
        listed["total"] == 1
        and listed["page"] == 1
        and listed["per_page"] == 5
        and listed["items"][0]["id"] == inst["id"]
    )
    assert walk.call("GET", "/process-instances?business_key=none", "wang")["total"] == 0
    history = walk.call("GET", f"/process-instances/{inst['id']}/history", "wang")["items"]
    assert history[0]["event"] == "instance.start" and set(history[0]) == {
        "at",
        "actor",
        "event",
        "element_id",
        "task_id",
        "data",
    }
    walk.call("POST", f"/process-instances/{inst['id']}/cancel", "zhao", 403, json={"reason": "not mine"})
    cancelled = walk.call(
        "POST", f"/process-instances/{inst['id']}/cancel", "wang", json={"reason": "重复提交"}
    )
    assert cancelled["status"] == "cancelled" and cancelled["open_tasks"] == []
    walk.call("POST", f"/process-instances/{inst['id']}/cancel", "wang", 409, json={})
    walk.call("GET", "/process-instances/nope", "wang", 404)
    walk.call("POST", "/process-instances", "wang", 404, json={"process_key": "nope"})


def test_inbox_scopes_claim_unclaim_and_refusals(walk: HttpWalk, auth: Auth) -> None:
    walk.submit()
    review = walk.task("preliminary_review")
    assert review["candidate_groups"] == ["taskforce"]
    candidate = walk.call("GET", "/tasks?scope=candidate", "zhao")
    assert [t["id"] for t in candidate["items"]] == [review["id"]]
    assert set(candidate["items"][0]) >= {
        "id",
        "name",
        "element_id",
        "instance_id",
        "process_key",
        "business_key",
        "lane",
        "candidate_groups",
        "assignee",
        "created_at",
        "due_at",
        "status",
    }
    assert walk.call("GET", "/tasks?scope=mine", "zhao")["total"] == 0
    assert walk.call("GET", "/tasks?scope=candidate&process_key=other", "zhao")["total"] == 0
    assert walk.call("GET", "/tasks?scope=involved", "wang")["total"] == 0

    walk.call("POST", f"/tasks/{review['id']}/claim", "wang", 403)
    held = walk.call("POST", f"/tasks/{review['id']}/claim", "zhao")
    assert held["assignee"] == "zhao"
    auth.user("zhao2", ["taskforce"])
    walk.call("POST", f"/tasks/{review['id']}/claim", "zhao2", 409)
    walk.call("POST", f"/tasks/{review['id']}/unclaim", "zhao2", 409)
    assert walk.call("GET", "/tasks?scope=mine", "zhao")["items"][0]["id"] == review["id"]
    assert walk.call("POST", f"/tasks/{review['id']}/unclaim", "zhao")["assignee"] is None
    walk.call("POST", "/tasks/00000000-0000-0000-0000-000000000000/claim", "zhao", 404)
    walk.call("POST", "/tasks/not-a-uuid/claim", "zhao", 404)


def test_the_inbox_shows_and_searches_instance_titles(walk: HttpWalk) -> None:
    walk.submit()
    found = walk.call("GET", "/tasks?scope=candidate&q=高铁征迁", "zhao")
    assert [(t["element_id"], t["title"]) for t in found["items"]] == [
        ("preliminary_review", PROBLEM["title"])
    ] and found["total"] == 1
    assert (
        walk.call("GET", "/tasks?scope=candidate&q=p-2026", "zhao")["total"] == 1
    )  # the business key, any case
    assert walk.call("GET", "/tasks?scope=candidate&q=水库", "zhao")["total"] == 0
    assert (
        walk.call("GET", "/tasks?scope=mine&status=completed&q=高铁", "wang")["items"][0]["title"]
        == PROBLEM["title"]
    )
    too_long = walk.call("GET", f"/tasks?q={'x' * 201}", "zhao", 422)
    assert "q" in too_long["errors"]


def test_the_inbox_page_takes_titles_and_search_from_the_task_index(
    walk: HttpWalk, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk.submit()
    page_login(walk.client, engine, "zhao")

    def no_instance_loads(*args: object, **kwargs: object) -> None:
        raise AssertionError("the inbox loaded an instance")

    monkeypatch.setattr(engine, "get_instance", no_instance_loads)
    hit = walk.client.get("/inbox", query_string={"tab": "candidate", "q": "高铁"}).get_data(as_text=True)
    assert PROBLEM["title"] in hit and 'data-tab="candidate"' in hit
    assert 'data-count="1"' in hit
    miss = walk.client.get("/inbox", query_string={"tab": "candidate", "q": "水库"}).get_data(as_text=True)
    assert PROBLEM["title"] not in miss and "暂无任务" in miss


def test_detail_complete_422_403_409(walk: HttpWalk) -> None:
    inst = walk.call("POST", "/process-instances", "wang", 201, json={"process_key": "claim_evaluate"})
    walk.instance_id = inst["id"]
    task = walk.task("submit_problem")
    detail = walk.call("GET", f"/tasks/{task['id']}", "wang")
    assert detail["form"]["type"] == "object" and isinstance(detail["data"], dict)
    bad = walk.client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"title": "", "proposed_points": 500}},
        headers=walk.auth.headers("wang"),
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert {"category", "description", "goals", "proposed_deadline", "proposed_points"} <= set(
        bad.get_json()["errors"]
    )
    walk.call("POST", f"/tasks/{task['id']}/complete", "zhao", 403, json={"data": {}})
    walk.call("POST", f"/tasks/{task['id']}/complete", "wang", 422, json={"data": {}, "extra": 1})
    from tests.walk import PROBLEM

    done = walk.call("POST", f"/tasks/{task['id']}/complete", "wang", json={"data": PROBLEM})
    assert [t["element_id"] for t in done["open_tasks"]] == ["preliminary_review"]
    walk.call("POST", f"/tasks/{task['id']}/complete", "wang", 409, json={"data": PROBLEM})
    walk.call("GET", "/tasks/00000000-0000-0000-0000-000000000000", "wang", 404)


def test_comments_by_people_involved(walk: HttpWalk) -> None:
    walk.submit()
    review = walk.task("preliminary_review")
    added = walk.call("POST", f"/tasks/{review['id']}/comments", "zhao", 201, json={"text": "材料齐全"})
    assert added["author"] == "zhao" and added["text"] == "材料齐全" and added["kind"] == "comment"
    walk.call("POST", f"/tasks/{review['id']}/comments", "wang", 201, json={"text": "请尽快"})
    assert [c["author"] for c in walk.call("GET", f"/tasks/{review['id']}/comments", "zhao")["items"]] == [
        "zhao",
        "wang",
    ]
    walk.call("POST", f"/tasks/{review['id']}/comments", "li", 403, json={"text": "路过"})
    walk.call("GET", f"/tasks/{review['id']}/comments", "li", 403)
    walk.call("POST", f"/tasks/{review['id']}/comments", "zhao", 422, json={"text": ""})
    assert "task.commented" in [
        e["event"]
        for e in walk.call("GET", f"/process-instances/{walk.instance_id}/history", "wang")["items"]
    ]


def test_messages_404_when_nothing_waits_and_admin_only(walk: HttpWalk) -> None:
    walk.call("POST", "/messages", "wang", 403, json={"name": "claim_submitted", "business_key": "x"})
    walk.call("POST", "/messages", "oa", 404, json={"name": "nothing_waits", "business_key": "x"})
    walk.call("POST", "/messages", "oa", 422, json={"name": "nothing_waits"})


def test_identity_sync_groups_tokens(client: FlaskClient, auth: Auth) -> None:
    me = client.get("/api/v1/users/me", headers=auth.headers("zhao")).get_json()
    assert me == {
        "username": "zhao",
        "display_name": "赵专班",
        "groups": ["taskforce"],
        "roles": [],
        "active": True,
        "units": [],
        "tenant": None,  # no unit: the installation (the implicit tenant)
    }
    put = client.put(
        "/api/v1/users/liu",
        json={"display_name": "刘", "groups": ["committee", "taskforce"]},
        headers=auth.headers("oa"),
    )
    assert put.status_code == 200 and put.get_json()["groups"] == ["committee", "taskforce"]
    assert (
        client.put("/api/v1/users/liu", json={"roles": ["admin"]}, headers=auth.headers("oa")).status_code
        == 403
    )
    assert client.put(
        "/api/v1/users/liu", json={"roles": ["admin"]}, headers=auth.headers("admin")
    ).get_json()["roles"] == ["admin"]
    assert (
        client.put("/api/v1/users/liu", json={"roles": ["king"]}, headers=auth.headers("admin")).status_code
        == 422
    )
    assert (
        client.put("/api/v1/users/liu", json={"display_name": "x"}, headers=auth.headers("wang")).status_code
        == 403
    )
    assert client.get("/api/v1/users/liu", headers=auth.headers("wang")).get_json()["display_name"] == "刘"
    assert client.get("/api/v1/users/ghost", headers=auth.headers("wang")).status_code == 404
    groups = {
        g["name"]: g["members"]
        for g in client.get("/api/v1/groups", headers=auth.headers("wang")).get_json()["items"]
    }
    assert groups["committee"] == ["liu", "sun"]
    token = client.post("/api/v1/users/liu/tokens", headers=auth.headers("admin"))
    assert token.status_code == 201
    assert (
        client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {token.get_json()['token']}"}
        ).get_json()["username"]
        == "liu"
    )
    assert client.post("/api/v1/users/liu/tokens", headers=auth.headers("wang")).status_code == 403


def test_login_links_one_time_five_minutes(client: FlaskClient, auth: Auth, clock: ManualClock) -> None:
    engine = client.application.extensions["jiebang"]
    resp = client.post(
        "/api/v1/login-links", json={"username": "zhao", "next": "/tasks/abc"}, headers=auth.headers("oa")
    )
    assert resp.status_code == 201
    url = resp.get_json()["url"]
    assert url.startswith("http://localhost/login/link/")
    token = url.rsplit("/", 1)[1]
    assert engine.consume_login_link(token) == ("zhao", "/tasks/abc")
    assert engine.consume_login_link(token) is None  # once only
    late = (
        client.post("/api/v1/login-links", json={"username": "zhao"}, headers=auth.headers("oa"))
        .get_json()["url"]
        .rsplit("/", 1)[1]
    )
    clock.advance(minutes=6)
    assert engine.consume_login_link(late) is None
    assert (
        client.post(
            "/api/v1/login-links", json={"username": "zhao"}, headers=auth.headers("admin")
        ).status_code
        == 403
    )
    assert (
        client.post("/api/v1/login-links", json={"username": "ghost"}, headers=auth.headers("oa")).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/login-links",
            json={"username": "zhao", "next": "https://evil.example/"},
            headers=auth.headers("oa"),
        ).status_code
        == 422
    )
