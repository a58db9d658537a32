"""Incidents over HTTP and on the pages: an admin reads what stopped, repairs the data and retries;
everyone else is refused; the instance page says the instance stopped and offers the same repair."""

from __future__ import annotations

import io
from datetime import timedelta

from flask.testing import FlaskClient

from engine import Engine, ManualClock
from tests.engine.test_incidents import SHARE

from .conftest import Auth, page_login


def stopped(client: FlaskClient, auth: Auth, engine: Engine, clock: ManualClock) -> str:
    deployed = client.post(
        "/api/v1/process-definitions",
        data={"file": [(io.BytesIO(SHARE), "share.bpmn")]},
        content_type="multipart/form-data",
        headers=auth.headers("admin"),
    )
    assert deployed.status_code == 201
    started = client.post(
        "/api/v1/process-instances",
        json={"process_key": "share", "business_key": "预算-1", "data": {"budget": 1000}},
        headers=auth.headers("wang"),
    ).get_json()
    task = started["open_tasks"][0]["id"]
    done = client.post(
        f"/api/v1/tasks/{task}/complete", json={"data": {"people": 0}}, headers=auth.headers("wang")
    )
    assert done.status_code == 200
    clock.advance(timedelta(days=1, minutes=1))
    engine.run_due_jobs()
    return started["id"]


def test_read_repair_and_retry_over_the_api(
    client: FlaskClient, auth: Auth, engine: Engine, clock: ManualClock
) -> None:
    iid = stopped(client, auth, engine, clock)
    listed = client.get("/api/v1/incidents", headers=auth.headers("admin")).get_json()
    assert listed["total"] == 1
    incident = listed["items"][0]
    assert (
        incident["instance_id"] == iid and incident["element_id"] == "divide" and incident["kind"] == "script"
    )
    assert incident["data"]["people"] == 0 and "ZeroDivisionError" in incident["message"]

    again = client.post(f"/api/v1/incidents/{incident['id']}/retry", headers=auth.headers("admin"))
    assert again.status_code == 422 and again.mimetype == "application/problem+json"
    assert (
        client.get(f"/api/v1/incidents/{incident['id']}", headers=auth.headers("admin")).get_json()[
            "attempts"
        ]
        == 2
    )

    bad = client.patch(
        f"/api/v1/process-instances/{iid}/variables",
        json={"set": {"people": 4}},
        headers=auth.headers("admin"),
    )
    assert bad.status_code == 422 and "comment" in bad.get_json()["errors"]
    fixed = client.patch(
        f"/api/v1/process-instances/{iid}/variables",
        json={"set": {"people": 4}, "comment": "录入错误"},
        headers=auth.headers("admin"),
    )
    assert fixed.status_code == 200 and fixed.get_json()["data"]["people"] == 4
    resumed = client.post(f"/api/v1/process-instances/{iid}/resume", headers=auth.headers("admin"))
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "running"
    assert resumed.get_json()["data"]["share"] == 250
    assert (
        client.post(f"/api/v1/process-instances/{iid}/resume", headers=auth.headers("admin")).status_code
        == 409
    )
    assert client.get("/api/v1/incidents", headers=auth.headers("admin")).get_json()["total"] == 0
    closed = client.get("/api/v1/incidents?open=false", headers=auth.headers("admin")).get_json()["items"]
    assert closed[0]["resolution"] == "retried" and closed[0]["resolved_by"] == "admin"


def test_only_admins(client: FlaskClient, auth: Auth, engine: Engine, clock: ManualClock) -> None:
    iid = stopped(client, auth, engine, clock)
    incident = client.get("/api/v1/incidents", headers=auth.headers("admin")).get_json()["items"][0]["id"]
    for method, url, body in (
        ("GET", "/api/v1/incidents", None),
        ("GET", f"/api/v1/incidents/{incident}", None),
        ("POST", f"/api/v1/incidents/{incident}/retry", None),
        ("POST", f"/api/v1/process-instances/{iid}/resume", None),
        ("PATCH", f"/api/v1/process-instances/{iid}/variables", {"set": {"people": 1}, "comment": "x"}),
    ):
        resp = client.open(url, method=method, json=body, headers=auth.headers("wang"))
        assert resp.status_code == 403, (method, url, resp.status_code)
    assert client.get("/api/v1/incidents/nope", headers=auth.headers("admin")).status_code == 404


def test_the_pages_say_what_stopped_and_repair_it(
    client: FlaskClient, auth: Auth, engine: Engine, clock: ManualClock
) -> None:
    iid = stopped(client, auth, engine, clock)
    page_login(client, engine, "admin", csrf_token="t")

    listing = client.get("/instances").get_data(as_text=True)
    assert "有 1 个流程因出错而停止" in listing and "/incidents" in listing
    page = client.get("/incidents").get_data(as_text=True)
    assert "Divide the budget" in page and "计算时除以了零" in page and "预算-1" in page
    shown = client.get(f"/instances/{iid}").get_data(as_text=True)
    assert "这个流程因出错而停止" in shown and "重试" in shown

    client.post(
        f"/incidents/instances/{iid}/variables",
        data={"csrf_token": "t", "name": "people", "value": "4", "comment": "录入错误", "back_instance": iid},
    )
    assert engine.get_instance(iid).data["people"] == 4  # a number stays a number
    incident = engine.list_incidents("admin")[0]
    after = client.post(f"/incidents/{incident.id}/retry", data={"csrf_token": "t", "back_instance": iid})
    assert after.status_code == 302 and after.headers["Location"].endswith(f"/instances/{iid}")
    assert engine.get_instance(iid).status == "running"
    assert "没有出错停止的流程" in client.get("/incidents").get_data(as_text=True)

    page_login(client, engine, "wang", csrf_token="t")
    assert client.get("/incidents").status_code == 403


def test_a_message_that_reaches_no_one_answers_409_and_the_page_says_what_to_do(
    client: FlaskClient, auth: Auth, engine: Engine
) -> None:
    from tests.engine.test_messages_between_instances import DATA

    engine.deploy({"relay_village.bpmn": (DATA / "relay_village.bpmn").read_bytes()}, actor="admin")
    auth.user("admin", roles=["admin"])
    started = client.post(
        "/api/v1/process-instances",
        json={
            "process_key": "relay_village",
            "data": {"target": "county-nowhere", "problem": "垃圾治理", "way": "escalate"},
        },
        headers=auth.headers("zhou"),
    ).get_json()
    meeting = started["open_tasks"][0]["id"]

    refused = client.post(
        f"/api/v1/tasks/{meeting}/complete", json={"data": {}}, headers=auth.headers("zhou")
    )

    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert (
        "problem_escalated" in refused.get_json()["detail"] and "流程已暂停" in refused.get_json()["detail"]
    )
    listed = client.get("/api/v1/incidents", headers=auth.headers("admin")).get_json()["items"]
    assert [(i["kind"], i["element_id"]) for i in listed] == [("message", "escalate")]
    page_login(client, engine, "admin", csrf_token="t")
    page = client.get("/incidents").get_data(as_text=True)
    assert "发出的消息「problem_escalated」没有流程在等待接收" in page
