"""Definitions (multipart deploy, XML) and a whole claim-and-evaluate instance over HTTP:
board, claims, the claim-window job run early, reports, acceptance, scores and the .xlsx export."""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient
from openpyxl import load_workbook

from .conftest import Auth, HttpWalk, page_login

DATA = Path(__file__).parent / "data"
MODELERS = Path(__file__).parent.parent / "data" / "modelers"


def deploy(client: FlaskClient, auth: Auth, *paths: Path, user: str = "admin"):
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in paths]
    return client.post(
        "/api/v1/process-definitions",
        data={"file": files},
        content_type="multipart/form-data",
        headers=auth.headers(user),
    )


def test_deploy_list_get_xml(client: FlaskClient, auth: Auth) -> None:
    resp = deploy(client, auth, DATA / "ping.bpmn")
    assert resp.status_code == 201 and resp.get_json() == {"key": "ping", "version": 1, "name": "Ping"}
    assert deploy(client, auth, DATA / "ping.bpmn").get_json()["version"] == 1  # same content, same version
    listed = client.get("/api/v1/process-definitions", headers=auth.headers("wang")).get_json()
    assert {d["key"] for d in listed["items"]} >= {"claim_evaluate", "ping"}
    ce = client.get("/api/v1/process-definitions/claim_evaluate", headers=auth.headers("wang")).get_json()
    assert ce["lanes"]["TaskForce"] == "group:taskforce" and ce["versions"] == [1]
    xml = client.get("/api/v1/process-definitions/ping/versions/1/xml", headers=auth.headers("wang"))
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b'id="ping"' in xml.data
    assert (
        client.get(
            "/api/v1/process-definitions/ping/versions/9/xml", headers=auth.headers("wang")
        ).status_code
        == 404
    )
    assert client.get("/api/v1/process-definitions/nope", headers=auth.headers("wang")).status_code == 404


def test_deploy_refusals(client: FlaskClient, auth: Auth) -> None:
    assert deploy(client, auth, DATA / "ping.bpmn", user="wang").status_code == 403
    invalid = deploy(client, auth, MODELERS / "xsd_invalid.bpmn")
    assert invalid.status_code == 422 and invalid.mimetype == "application/problem+json"
    body = invalid.get_json()
    assert {p["element_id"] for p in body["problems"]} >= {"Activity_a", "Flow_2"}
    assert "Activity_a" in body["errors"]
    none = client.post(
        "/api/v1/process-definitions",
        data={},
        content_type="multipart/form-data",
        headers=auth.headers("admin"),
    )
    assert none.status_code == 422 and "file" in none.get_json()["errors"]
    exe = client.post(
        "/api/v1/process-definitions",
        data={"file": [(io.BytesIO(b"MZ"), "x.exe")]},
        content_type="multipart/form-data",
        headers=auth.headers("admin"),
    )
    assert exe.status_code == 422


def test_validate_checks_diagrams_as_a_deployment_would_and_stores_nothing(
    client: FlaskClient, auth: Auth
) -> None:
    def validate(*paths: Path, user: str = "admin"):
        files = [(io.BytesIO(p.read_bytes()), p.name) for p in paths]
        return client.post(
            "/api/v1/process-definitions/validate",
            data={"file": files},
            content_type="multipart/form-data",
            headers=auth.headers(user),
        )

    ok = validate(DATA / "ping.bpmn")
    assert ok.status_code == 200 and ok.get_json() == {"problems": []}
    listed = client.get("/api/v1/process-definitions", headers=auth.headers("admin")).get_json()
    assert "ping" not in {d["key"] for d in listed["items"]}  # nothing deployed
    invalid = validate(MODELERS / "xsd_invalid.bpmn")
    assert invalid.status_code == 422 and invalid.mimetype == "application/problem+json"
    assert {p["element_id"] for p in invalid.get_json()["problems"]} >= {
        "Activity_a",
        "Flow_2",
    }  # what deploying would answer
    assert validate(DATA / "ping.bpmn", user="wang").status_code == 403
    exe = client.post(
        "/api/v1/process-definitions/validate",
        data={"file": [(io.BytesIO(b"MZ"), "x.exe")]},
        content_type="multipart/form-data",
        headers=auth.headers("admin"),
    )
    assert exe.status_code == 422 and "file" in exe.get_json()["errors"]


def test_the_designer_deploys_through_the_api_with_its_session_and_csrf_token(
    client: FlaskClient, auth: Auth
) -> None:
    """The page's script sends the session cookie and the page's CSRF token; the cookie alone is no credential."""

    def post(route: str, csrf: str | None):
        headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
        return client.post(
            f"/api/v1/process-definitions{route}",
            data={"file": [(io.BytesIO((DATA / "ping.bpmn").read_bytes()), "ping.bpmn")]},
            content_type="multipart/form-data",
            headers=headers,
        )

    page_login(client, auth.engine, "admin", csrf_token="t")
    assert post("/validate", "t").status_code == 200
    assert post("", None).status_code == 401  # a cross-site form can send the cookie, never the token
    forged = post("", "forged")
    assert forged.status_code == 403 and forged.mimetype == "application/problem+json"
    assert "ping" not in {d.key for d in auth.engine.list_definitions()}
    deployed = post("", "t")
    assert deployed.status_code == 201 and deployed.get_json()["key"] == "ping"
    page_login(client, auth.engine, "wang", csrf_token="t")
    assert post("/validate", "t").status_code == 403  # the designer is for admins
    assert client.post("/designer/deploy", headers={"X-CSRF-Token": "t"}).status_code in (
        404,
        405,
    )  # no second deploy endpoint


def test_claim_and_evaluate_over_http(walk: HttpWalk) -> None:
    walk.publish()
    board = walk.call("GET", "/board", "li")
    item = board["items"][0]
    assert (
        item["instance_id"] == walk.instance_id and item["rag"] == "green" and item["status"] == "published"
    )
    assert set(item) >= {
        "instance_id",
        "title",
        "category",
        "points",
        "claim_deadline",
        "deadline",
        "status",
        "claims",
        "leader",
        "rag",
    }

    walk.call(
        "POST",
        f"/board/{walk.instance_id}/claims",
        "zhou",
        201,
        json={"kind": "individual", "plan": "逐户走访", "pledge": "不完成不收兵"},
    )
    walk.call(
        "POST",
        f"/board/{walk.instance_id}/claims",
        "zhou",
        409,
        json={"kind": "individual", "plan": "再来", "pledge": "再来"},
    )
    bad = walk.call(
        "POST",
        f"/board/{walk.instance_id}/claims",
        "zhangjie",
        422,
        json={
            "kind": "team",
            "plan": "组建专班",
            "pledge": "三个月签约",
            "members": [{"username": "zhangjie", "share": 70}, {"username": "li", "share": 40}],
        },
    )
    assert "members" in bad["errors"]
    walk.call(
        "POST",
        f"/board/{walk.instance_id}/claims",
        "zhangjie",
        201,
        json={
            "kind": "team",
            "plan": "组建专班",
            "pledge": "三个月签约",
            "members": [{"username": "zhangjie", "share": 60}, {"username": "li", "share": 40}],
        },
    )
    walk.call(
        "POST", "/board/nope/claims", "li", 404, json={"kind": "individual", "plan": "p", "pledge": "p"}
    )

    walk.call("GET", "/jobs", "zhao", 403)
    jobs = walk.call("GET", f"/jobs?instance_id={walk.instance_id}&kind=timer")
    assert jobs["total"] == 1 and set(jobs["items"][0]) >= {
        "id",
        "kind",
        "instance_id",
        "element_id",
        "due_at",
        "attempts",
        "last_error",
    }
    walk.call("POST", f"/jobs/{jobs['items'][0]['id']}/execute", "zhao", 403)
    walk.call("POST", f"/jobs/{jobs['items'][0]['id']}/execute", "admin", 204)  # close the claim window early
    walk.call("POST", "/jobs/nope/execute", "admin", 404)
    walk.do("select_claim", "sun", {"selected": 1, "decision": "approve"})
    assert walk.call("GET", "/board", "li")["items"][0]["leader"] == "zhangjie"

    for percent in (50, 100):
        walk.do(
            "progress_report",
            "zhangjie",
            {
                "progress_percent": percent,
                "summary": f"完成 {percent}%",
                "status_self": "on_track",
                "final": percent == 100,
            },
        )
    walk.do(
        "completion_report",
        "zhangjie",
        {"summary": "征迁协议全部签订", "results": "37 户签约", "evidence_links": []},
    )
    done = walk.do("acceptance", "qian", {"decision": "pass", "grade": "good"})
    assert done["status"] == "completed"

    scores = walk.call("GET", "/scores", "li")
    assert sorted((r["username"], r["points"]) for r in scores["items"]) == [("li", 40.0), ("zhangjie", 60.0)]
    period = scores["period"]
    board = walk.call("GET", f"/leaderboard?period={period}", "li")
    assert [(r["username"], r["rank"]) for r in board["items"]] == [("zhangjie", 1), ("li", 2)]
    assert board["titles"]["solver_star"]["username"] == "zhangjie"
    walk.call("GET", "/scores?period=2026-13", "li", 422)
    xlsx = walk.call("GET", f"/scores/export?period={period}", "li")
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("username", "points", "instance_id", "reason", "awarded_at")
    assert sorted(r[0] for r in rows[1:]) == ["li", "zhangjie"]


def test_bad_claim_input_answers_422_over_http(walk: HttpWalk) -> None:
    walk.publish()
    for share in ("Infinity", "NaN", "1e999"):
        body = '{"kind": "team", "plan": "p", "pledge": "p", "members": [{"username": "zhangjie", "share": SHARE}, {"username": "li", "share": 40}]}'
        resp = walk.client.post(
            f"/api/v1/board/{walk.instance_id}/claims",
            headers={**walk.auth.headers("zhangjie"), "Content-Type": "application/json"},
            data=body.replace("SHARE", share),
        )
        assert resp.status_code == 422, (share, resp.get_data(as_text=True))
    walk.call(
        "POST",
        f"/jobs/{walk.call('GET', f'/jobs?instance_id={walk.instance_id}&kind=timer')['items'][0]['id']}/execute",
        "admin",
        204,
    )
    walk.call(
        "POST",
        f"/jobs/{walk.call('GET', f'/jobs?instance_id={walk.instance_id}&kind=timer')['items'][0]['id']}/execute",
        "admin",
        204,
    )
    task = walk.task("assign_claimant")["id"]
    bad = walk.call(
        "POST",
        f"/tasks/{task}/complete",
        "sun",
        422,
        json={"data": {"leader": "zhou", "members": [{"username": "ghost", "share": 100}]}},
    )
    assert set(bad["errors"]) == {"leader", "members.0.username"}
    bad = walk.call(
        "POST",
        f"/tasks/{task}/complete",
        "sun",
        422,
        json={
            "data": {
                "leader": "zhou",
                "members": [{"username": "zhou", "share": 60}, {"username": "li", "share": 60}],
            }
        },
    )
    assert set(bad["errors"]) == {"members"}
    assert walk.task("assign_claimant")["status"] == "open"


def test_selecting_a_missing_claim_answers_422_over_http(walk: HttpWalk) -> None:
    walk.publish()
    walk.call(
        "POST",
        f"/board/{walk.instance_id}/claims",
        "zhou",
        201,
        json={"kind": "individual", "plan": "逐户走访", "pledge": "不完成不收兵"},
    )
    walk.call(
        "POST",
        f"/jobs/{walk.call('GET', f'/jobs?instance_id={walk.instance_id}&kind=timer')['items'][0]['id']}/execute",
        "admin",
        204,
    )
    bad = walk.call(
        "POST",
        f"/tasks/{walk.task('select_claim')['id']}/complete",
        "sun",
        422,
        json={"data": {"selected": 99}},
    )
    assert "selected" in bad["errors"]
    assert walk.instance()["status"] == "running" and walk.task("select_claim")["status"] == "open"


def test_the_board_page_refuses_infinite_shares_with_the_form_again(walk: HttpWalk) -> None:
    walk.publish()
    page_login(walk.client, walk.auth.engine, "zhangjie", csrf_token="t")
    for share in ("inf", "nan", "1e999"):
        resp = walk.client.post(
            f"/board/{walk.instance_id}/claims",
            data={
                "csrf_token": "t",
                "kind": "team",
                "plan": "组建专班",
                "pledge": "三个月签约",
                "member": ["zhangjie", "li"],
                "share": [share, "40"],
            },
        )
        assert resp.status_code == 422, (share, resp.status_code)
    assert walk.instance()["data"]["claims"] == []


def test_a_misspelt_approval_mode_is_a_422_naming_the_task_not_a_single_approver(
    client: FlaskClient, auth: Auth
) -> None:
    xml = (
        (Path(__file__).parent.parent / "data" / "engine" / "approval.bpmn")
        .read_text()
        .replace("__AUTO__", "never")
        .replace("__MODE__", "al")
    )
    resp = client.post(
        "/api/v1/process-definitions",
        data={"file": [(io.BytesIO(xml.encode()), "approval.bpmn")]},
        content_type="multipart/form-data",
        headers=auth.headers("admin"),
    )
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    [problem] = resp.get_json()["problems"]
    assert (problem["element_id"], problem["code"]) == ("countersign", "invalid-property")
    assert "approvalMode='al'" in problem["message"] and "无效" in problem["message_zh"]
    assert (
        client.get("/api/v1/process-definitions/approval_demo", headers=auth.headers("admin")).status_code
        == 404
    )
