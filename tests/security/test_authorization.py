"""Authorization over every route and role, acting users, and who sees which instance.

The matrix below classifies every operation of the OpenAPI document: open to every logged-in
user, only for people involved in the instance, or only for a role; ``STATUS`` then states what
each of six people gets on each route (a stranger, a candidate, the assignee, the starter, an
admin, the OA service) and ``test_route_permission_matrix`` walks them all. A route missing from
either fails ``test_every_route_is_classified``, so a new route needs a decision before it ships.
"""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine import Engine, NotAllowedError, effective_roles, outranks, refused_grants
from engine import organisation as org
from engine.rules import acting_with
from tests.api import conftest as api
from tests.api.conftest import Auth, HttpWalk, page_login
from tests.campaigns import campaign_body, problem_row, workbook
from tests.walk import PROBLEM

app, auth, client, walk = api.app, api.auth, api.client, api.walk  # the API suite's fixtures

STRANGER = "li"  # logged in, in no group, not involved in the instance, no role
PING = (Path(__file__).resolve().parent.parent / "api" / "data" / "ping.bpmn").read_bytes()
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"


def import_body() -> dict[str, Any]:
    county = "编码,名称,类型\npingli,平利县,县\n".encode()
    return {"data": {"file": [(io.BytesIO(county), "units.csv")]}, "content_type": "multipart/form-data"}


def deploy_body() -> dict[str, Any]:
    return {"data": {"file": [(io.BytesIO(PING), "ping.bpmn")]}, "content_type": "multipart/form-data"}


def evidence_body() -> dict[str, Any]:
    photo = b"\x89PNG\r\n\x1a\n" + bytes(32)
    return {
        "data": {"kind": "evidence", "file": (io.BytesIO(photo), "现场.png")},
        "content_type": "multipart/form-data",
    }


def problem_list_body() -> dict[str, Any]:
    content = workbook([problem_row(1, 牵头单位="xy_zzb")])
    return {"data": {"file": (io.BytesIO(content), "清单.xlsx")}, "content_type": "multipart/form-data"}


def campaign_of(engine: Engine) -> str:
    """旬阳县's campaign, run by its organisation department; none of the six people is of 旬阳."""
    now = engine.clock.now()
    with engine.store.write() as s:
        org.upsert_unit(s, "xunyang", name="旬阳县", kind="county", parent=None, attributes=None, now=now)
        org.upsert_unit(
            s, "xy_zzb", name="旬阳县委组织部", kind="department", parent="xunyang", attributes=None, now=now
        )
    found = [c for c in engine.list_campaigns("admin") if c.key_prefix == "XY2026-"]
    if not found:
        found = [
            engine.create_campaign("admin", campaign_body(organiser_unit="xy_zzb", key_prefix="XY2026-"))
        ]
    return str(found[0].id)


# (method, path) -> (status a stranger gets, request body). The instance is wang's application,
# waiting in the task force's preliminary review ({task_id}).
INVOLVED_ONLY: dict[tuple[str, str], tuple[int, Any]] = {
    ("GET", "/process-instances/{instance_id}"): (403, None),
    ("GET", "/process-instances/{instance_id}/history"): (403, None),
    ("POST", "/process-instances/{instance_id}/cancel"): (403, {"reason": "不是我的"}),
    ("POST", "/process-instances/{instance_id}/withdraw"): (403, {}),
    ("POST", "/process-instances/{instance_id}/cc"): (403, {"usernames": ["zhou"]}),
    ("GET", "/tasks/{task_id}"): (403, None),
    ("POST", "/tasks/{task_id}/claim"): (403, None),
    ("POST", "/tasks/{task_id}/unclaim"): (403, None),
    ("POST", "/tasks/{task_id}/complete"): (403, {"data": {"decision": "approve"}}),
    ("POST", "/tasks/{task_id}/comments"): (403, {"text": "看看"}),
    ("GET", "/tasks/{task_id}/comments"): (403, None),
    ("POST", "/tasks/{task_id}/transfer"): (403, {"to": "zhou"}),
    ("POST", "/tasks/{task_id}/delegate"): (403, {"to": "zhou"}),
    ("POST", "/tasks/{task_id}/add-signers"): (403, {"usernames": ["zhou"], "mode": "after"}),
    ("GET", "/tasks/{task_id}/signers"): (403, None),
    ("DELETE", "/tasks/{task_id}/signers/{username}"): (403, None),
    ("GET", "/tasks/{task_id}/return-targets"): (403, None),
    ("POST", "/tasks/{task_id}/return"): (403, {"comment": "退回"}),
    ("POST", "/tasks/{task_id}/urge"): (403, {}),
    ("POST", "/process-instances/{instance_id}/attachments"): (403, evidence_body),
    ("GET", "/process-instances/{instance_id}/attachments"): (403, None),
    ("GET", "/people/{username}/archive"): (404, None),  # zhao's 成长档案: zhao, unit leaders, organisers
    ("POST", "/sanhao/{instance_id}/nominations"): (403, {"nominee": "wang", "reason": "不作为"}),
}

# (method, path) -> (who may: "admin" is a user with role admin, "oa" the OA service account;
# request body). Everyone else gets 403.
ROLE_ONLY: dict[tuple[str, str], tuple[tuple[str, ...], Any]] = {
    ("PUT", "/users/{username}"): (("admin", "oa"), {"display_name": "王科长"}),  # the org sync
    ("POST", "/users/{username}/tokens"): (("admin",), None),
    ("POST", "/login-links"): (("oa",), {"username": "wang"}),
    ("POST", "/process-definitions"): (("admin",), deploy_body),
    ("POST", "/process-definitions/validate"): (("admin",), deploy_body),
    ("GET", "/process-definitions/{key}/diff"): (("admin",), None),  # designers compare versions
    ("GET", "/process-definitions/{key}/analytics"): (("admin",), None),  # designers: where work waits
    ("GET", "/metrics"): (("admin",), None),  # the installation's admins (or public by the operator's choice)
    ("GET", "/incidents"): (("admin",), None),
    ("GET", "/incidents/{incident_id}"): (("admin",), None),
    ("POST", "/incidents/{incident_id}/retry"): (("admin",), None),
    ("POST", "/process-instances/{instance_id}/resume"): (("admin",), None),
    ("PATCH", "/process-instances/{instance_id}/variables"): (
        ("admin",),
        {"set": {"title": "x"}, "comment": "修正"},
    ),
    ("POST", "/process-instances/migrate"): (
        ("admin",),
        {"process_key": "claim_evaluate", "from_version": 1, "to_version": 2, "dry_run": True},
    ),
    ("POST", "/messages"): (
        ("admin", "oa"),
        {"name": "claim_submitted", "instance_id": "{instance_id}", "payload": {}},
    ),
    ("GET", "/jobs"): (("admin",), None),
    ("POST", "/jobs/{job_id}/execute"): (("admin",), None),
    ("PUT", "/units/{code}"): (("admin",), {"name": "平利县", "kind": "county"}),  # a new tenant
    ("DELETE", "/units/{code}"): (("admin",), None),
    ("POST", "/imports/org"): (("admin",), import_body),
    ("POST", "/webhooks"): (
        ("admin",),
        {"url": "https://oa.example.org/hooks", "events": ["task.created"], "secret": "s"},
    ),
    ("GET", "/webhooks"): (("admin",), None),
    ("DELETE", "/webhooks/{webhook_id}"): (("admin",), None),
    ("GET", "/webhooks/{webhook_id}/deliveries"): (("admin",), None),
    ("GET", "/notification-channels"): (("admin",), None),
    ("POST", "/notification-channels"): (
        ("admin",),
        {
            "kind": "dingtalk",
            "name": "县委办钉钉群",
            "settings": {"url": "https://oapi.dingtalk.com/robot/send"},
        },
    ),
    ("PATCH", "/notification-channels/{channel_id}"): (("admin",), {"name": "改名"}),
    ("DELETE", "/notification-channels/{channel_id}"): (("admin",), None),
    ("POST", "/notification-channels/{channel_id}/test"): (("admin",), {}),
    ("GET", "/notification-deliveries"): (("admin",), None),
    ("POST", "/campaigns/{campaign_id}/problems/import"): (
        ("admin",),
        problem_list_body,
    ),  # the organiser's admins
    ("POST", "/campaigns/{campaign_id}/publish"): (("admin",), None),
    ("PATCH", "/campaigns/{campaign_id}"): (("admin",), {"claim_ranks": ["科级", "股级"]}),
    ("POST", "/villages/{code}/leader"): (("admin",), {"leader": "zhao"}),  # admins of the village or above
    ("POST", "/villages/{code}/assessment"): (("admin",), {"year": 2026, "satisfaction": 90}),  # 考核捆绑
    ("POST", "/campaigns/{campaign_id}/assessment"): (("admin",), None),  # opens the year end
    ("GET", "/campaigns/{campaign_id}/assessment"): (("admin",), None),  # the 考评组 and admins
    ("POST", "/campaigns/{campaign_id}/carry-over"): (("admin",), {"to_campaign": "{campaign_id}"}),
    ("POST", "/campaigns"): (
        ("admin",),
        {"title": "2026年破百题", "year": 2026, "organiser_unit": "xy_zzb", "categories": ["其他"]},
    ),
    ("POST", "/appraisal/schemes"): (  # organisers (admins of a unit) and admins
        ("admin",),
        {
            "name": "作风",
            "subject_kind": "person",
            "dimensions": [{"key": "style", "name": "作风", "weight": 1, "min": 0, "max": 10}],
        },  # fmt: skip
    ),
    ("POST", "/appraisal/panels"): (
        ("admin",),
        {"scheme": "四强", "period": "2026", "subjects": ["pingli"], "scorers": [{"username": "zhao"}]},
    ),
    ("POST", "/appraisal/panels/{panel_id}/close"): (("admin",), None),
    ("POST", "/award-lists"): (("admin",), {"scheme": "四强", "period": "2026"}),
    ("POST", "/award-lists/{list_id}/objections/{objection_id}/decision"): (
        ("admin",),
        {"decision": "upheld"},
    ),
    ("POST", "/award-lists/{list_id}/finalise"): (("admin",), None),
    ("POST", "/frontline/posts"): (  # the organisation department (admins, admin@unit, group organiser)
        ("admin",),
        {
            "front_line": "rural",
            "unit": "xy_zzb",
            "title": "驻村",
            "duties": "驻村",
            "capacity": 1,
            "supervisor": "zhao",
        },
    ),
    ("PATCH", "/frontline/posts/{post_id}"): (("admin",), {"capacity": 2}),
    ("GET", "/frontline/stints"): (("admin",), None),
    ("GET", "/frontline/dashboard"): (("admin",), None),
}


# Open to every logged-in user, with what the stranger gets here. Lists answer only what the
# caller may see (checked below); the board and the score ledger are public by design (公开公示).
OPEN_TO_EVERYONE: dict[tuple[str, str], tuple[int, Any]] = {
    ("GET", "/users/me"): (200, None),
    ("GET", "/me/notification-preferences"): (200, None),  # each person their own, nobody else's
    ("PUT", "/me/notification-preferences"): (200, {"events": ["task_urged"], "channels": ["email"]}),
    ("GET", "/users/{username}"): (200, None),  # the directory, to pick people to transfer or copy to
    ("GET", "/groups"): (200, None),
    ("GET", "/process-definitions"): (200, None),
    ("GET", "/process-definitions/{key}"): (200, None),
    ("GET", "/process-definitions/{key}/versions/{version}/xml"): (200, None),
    ("POST", "/process-instances"): (201, {"process_key": "claim_evaluate"}),
    ("GET", "/process-instances"): (200, None),
    ("GET", "/tasks"): (200, None),
    ("POST", "/process-instances/{instance_id}/cc/read"): (404, None),  # only a copy made to me
    ("GET", "/board"): (200, None),
    ("POST", "/board/{instance_id}/claims"): (
        409,
        {"kind": "individual", "plan": "逐户走访", "pledge": "不完成不收兵"},
    ),  # not published yet
    ("GET", "/scores"): (200, None),
    ("GET", "/leaderboard"): (200, None),
    ("GET", "/scores/export"): (200, None),
    ("GET", "/campaigns"): (200, None),  # the campaigns of one's own tenant (another's answer 404)
    ("GET", "/campaigns/{campaign_id}"): (200, None),
    ("GET", "/campaigns/{campaign_id}/problems/template"): (200, None),
    ("GET", "/campaigns/{campaign_id}/stats"): (200, None),
    ("GET", "/campaigns/{campaign_id}/stats/export"): (200, None),
    ("GET", "/campaigns/{campaign_id}/report"): (200, None),
    ("GET", "/tokens"): (200, None),  # one's own tokens; an admin may ask for anyone's
    ("DELETE", "/tokens/{token_id}"): (404, None),  # one's own; someone else's token does not exist for you
    ("GET", "/units"): (200, None),  # the caller's tenant's units
    ("GET", "/units/{code}"): (404, None),  # no such unit yet
    ("GET", "/imports/org/template"): (200, None),
    ("GET", "/attachments/{attachment_id}"): (404, None),  # no such file; another's answers 403 or 404
    ("GET", "/appraisal/schemes"): (200, None),  # the shipped 四强, 四高, 四优 and the county's own
    ("GET", "/appraisal/panels/{panel_id}"): (404, None),  # no such panel
    ("POST", "/appraisal/panels/{panel_id}/scores"): (
        404,
        {"subject": "pingli", "scores": {}},
    ),  # scorers on it
    ("GET", "/rankings"): (422, None),  # let in; the scheme must be named
    ("GET", "/rankings/export"): (422, None),
    ("GET", "/awards"): (200, None),  # awards are public within the county (公示)
    ("GET", "/awards/export"): (200, None),
    ("GET", "/award-lists"): (200, None),
    ("GET", "/award-lists/{list_id}"): (404, None),  # no such list
    ("POST", "/award-lists/{list_id}/objections"): (
        404,
        {"subject": "pingli", "reason": "有异议"},
    ),  # anyone of the county
    ("GET", "/units/{code}/archive"): (404, None),  # no such unit; its leaders, organisers and admins
    ("GET", "/frontline/posts"): (200, None),  # the county's catalogue: a cadre nominating themself reads it
    ("GET", "/frontline/posts/{post_id}"): (404, None),  # no such post
    ("POST", "/frontline/instances/{instance_id}/list-entries"): (
        404,
        {"kind": "positive", "text": "表现突出"},
    ),  # not a front-line instance; on one: the post's supervisor and the organisation department
    # anyone of the county objects to a town's proposed awards (公示); this is no 三好创争 instance
    ("POST", "/sanhao/{instance_id}/objections"): (422, {"against": "wang", "reason": "材料不实"}),
    ("GET", "/villages"): (200, None),  # the villages of one's own county
    ("GET", "/villages/appointments/{appointment_id}"): (
        404,
        None,
    ),  # no such letter; another county's is 404 too
    ("GET", "/village-problems"): (200, None),  # one's own county's list
    ("GET", "/village-problems/export"): (200, None),
    ("POST", "/village-visits"): (
        422,
        {"village": "{code}", "day": "2026-03-01"},
    ),  # one's own stays; no such village
    ("GET", "/village-presence"): (200, None),
}

MATRIX = {
    **{k: v[0] for k, v in INVOLVED_ONLY.items()},
    **{k: 403 for k in ROLE_ONLY},
    **{k: v[0] for k, v in OPEN_TO_EVERYONE.items()},
}


@pytest.fixture
def review(walk: HttpWalk) -> dict[str, str]:
    """Wang's application waiting in preliminary review; the values the route templates need."""
    walk.submit()
    return {
        "instance_id": walk.instance_id,
        "task_id": walk.task("preliminary_review")["id"],
        "username": "zhao",
        "key": "claim_evaluate",
        "version": "1",
        "job_id": NO_SUCH_ID,
        "webhook_id": NO_SUCH_ID,
        "channel_id": NO_SUCH_ID,
        "token_id": "999999",
        "campaign_id": campaign_of(walk.auth.engine),
        "code": "pingli",
        "attachment_id": NO_SUCH_ID,
        "incident_id": NO_SUCH_ID,
        "panel_id": "999999",
        "list_id": "999999",
        "objection_id": "999999",
        "post_id": "999999",
        "appointment_id": "999999",
    }


def fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def call(
    client: FlaskClient, auth: Auth, user: str, method: str, path: str, body: Any, values: dict[str, str]
) -> Any:
    kwargs: dict[str, Any] = {}
    if callable(body):
        kwargs = body()
    elif body is not None:
        kwargs = {"json": json.loads(fill(json.dumps(body), values))}
    return client.open(f"/api/v1{fill(path, values)}", method=method, headers=auth.headers(user), **kwargs)


def body_of(key: tuple[str, str]) -> Any:
    if key in INVOLVED_ONLY:
        return INVOLVED_ONLY[key][1]
    if key in ROLE_ONLY:
        return ROLE_ONLY[key][1]
    return OPEN_TO_EVERYONE[key][1]


def openapi_operations(client: FlaskClient) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document, as (method, path below /api/v1)."""
    doc = client.get("/api/openapi.json").get_json()
    return sorted(
        (method.upper(), path.removeprefix("/api/v1"))
        for path, ops in doc["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    )


def test_every_route_is_classified(client: FlaskClient) -> None:
    operations = set(openapi_operations(client))
    assert operations - set(MATRIX) == set(), "new routes: say who may call them in this matrix"
    assert set(MATRIX) - operations == set(), "routes in the matrix that the API no longer has"
    assert operations - set(STATUS) == set(), "new routes: state what each person gets in STATUS"
    assert set(STATUS) - operations == set(), "routes in STATUS that the API no longer has"
    assert {k: v[0] for k, v in STATUS.items()} == MATRIX, (
        "the stranger's column and the classification disagree"
    )


def test_a_stranger_gets_the_expected_status_everywhere_and_changes_nothing(
    client: FlaskClient, auth: Auth, engine: Engine, review: dict[str, str]
) -> None:
    auth.user(STRANGER)
    history = engine.history(review["instance_id"])
    wrong = []
    for (method, path), expected in sorted(MATRIX.items()):
        resp = call(client, auth, STRANGER, method, path, body_of((method, path)), review)
        if resp.status_code != expected:
            wrong.append(
                f"{method} {path}: {resp.status_code}, expected {expected}: {resp.get_data(as_text=True)[:200]}"
            )
        elif expected >= 400:
            assert resp.mimetype == "application/problem+json", (method, path)
    assert wrong == []
    assert engine.history(review["instance_id"]) == history  # nothing the stranger tried was recorded
    assert engine.get_task(review["task_id"]).task.status == "open"


def test_role_routes_refuse_other_roles_and_answer_theirs(
    client: FlaskClient, auth: Auth, review: dict[str, str]
) -> None:
    wrong = []
    for (method, path), (allowed, body) in sorted(ROLE_ONLY.items()):
        for user in ("wang", "zhao", "admin", "oa"):
            status = call(client, auth, user, method, path, body, review).status_code
            if user in allowed and status in (401, 403):
                wrong.append(f"{user}: {method} {path} -> {status}, expected to be let in")
            if user not in allowed and status != 403:
                wrong.append(f"{user}: {method} {path} -> {status}, expected 403")
    assert wrong == []


# ---- who sees which instance --------------------------------------------------------------------------
def test_instance_lists_show_only_what_the_viewer_may_see(
    client: FlaskClient, auth: Auth, engine: Engine, review: dict[str, str]
) -> None:
    auth.user(STRANGER)

    def listed(user: str) -> list[str]:
        return [
            i["id"]
            for i in client.get("/api/v1/process-instances", headers=auth.headers(user)).get_json()["items"]
        ]

    mine = client.post(
        "/api/v1/process-instances", json={"process_key": "claim_evaluate"}, headers=auth.headers(STRANGER)
    ).get_json()["id"]
    assert listed(STRANGER) == [mine]
    assert listed("wang") == [review["instance_id"]]  # the starter
    assert listed("zhao") == [review["instance_id"]]  # a candidate of its open review
    assert listed("qian") == []  # an evaluator, not involved yet
    assert set(listed("admin")) == set(listed("oa")) == {mine, review["instance_id"]}
    assert engine.list_instances(viewer="qian").total == 0 and engine.list_instances().total == 2


def test_the_instances_page_lists_only_visible_instances(
    client: FlaskClient, auth: Auth, review: dict[str, str]
) -> None:
    auth.user(STRANGER)
    page_login(client, auth.engine, STRANGER)
    page = client.get("/instances").get_data(as_text=True)
    assert PROBLEM["title"] not in page and review["instance_id"] not in page
    page_login(client, auth.engine, "wang")
    assert PROBLEM["title"] in client.get("/instances").get_data(as_text=True)


def test_signers_and_return_targets_need_a_visible_task(
    engine: Engine, auth: Auth, review: dict[str, str]
) -> None:
    auth.user(STRANGER)
    for call_ in (engine.signers, engine.return_targets):
        with pytest.raises(NotAllowedError):
            call_(review["task_id"], viewer=STRANGER)
        call_(review["task_id"], viewer="zhao")
    assert [t.element_id for t in engine.return_targets(review["task_id"], viewer="wang")] == [
        "submit_problem"
    ]


def test_a_filed_claim_answers_the_claim_not_the_instance_data(walk: HttpWalk) -> None:
    walk.submit()
    walk.do("preliminary_review", "zhao", {"decision": "approve", "comment": "内部意见：申报人此前两次逾期"})
    walk.do(
        "committee_approval",
        "sun",
        {
            "decision": "approve",
            "points": 100,
            "deadline": "2027-01-01T00:00:00+08:00",
            "claim_window": "P14D",
            "report_interval": "P30D",
        },
    )
    filed = walk.call(
        "POST",
        f"/board/{walk.instance_id}/claims",
        "zhou",
        201,
        json={"kind": "individual", "plan": "逐户走访", "pledge": "不完成不收兵"},
    )
    assert set(filed) == {"instance_id", "claim", "challenge"}
    assert filed["claim"]["leader"] == "zhou" and filed["challenge"]["claims"][0]["leader"] == "zhou"
    assert "内部意见" not in json.dumps(filed, ensure_ascii=False)
    walk.call(
        "GET", f"/process-instances/{walk.instance_id}", "zhou", 403
    )  # a claimant is not (yet) involved


# ---- acting users never raise privileges --------------------------------------------------------------
def acting(auth: Auth, person: str) -> dict[str, str]:
    return auth.headers("oa", **{"X-Acting-User": person})


def test_a_claim_cannot_bypass_the_board_as_a_raw_message(walk: HttpWalk, engine: Engine) -> None:
    walk.publish()
    forged = {
        "kind": "team",
        "leader": "ghost",
        "members": [{"username": "ghost", "share": 500}],
        "plan": "p",
        "pledge": "p",
    }
    for sender in ("admin", "oa"):
        bad = walk.call(
            "POST",
            "/messages",
            sender,
            422,
            json={"name": "claim_submitted", "instance_id": walk.instance_id, "payload": forged},
        )
        assert "name" in bad["errors"]
    assert engine.get_instance(walk.instance_id).data["claims"] == []


def test_privilege_rules() -> None:
    assert (
        outranks(["admin"], ["oa-service"])
        and outranks(["oa-service"], [])
        and not outranks(["oa-service"], ["admin"])
    )
    assert refused_grants(["oa-service"], [], ["oa-service"]) == [
        "oa-service"
    ]  # not even a role it holds: only admins grant it
    assert refused_grants(["oa-service"], ["admin"], []) == ["admin"]
    assert (
        refused_grants(["oa-service"], ["admin"], ["admin"]) == []
    )  # resending what is there changes nothing
    assert refused_grants(["admin"], [], ["admin", "oa-service"]) == []
    try:
        acting_with(["oa-service"])
        assert effective_roles(["admin"]) == set() and effective_roles(["oa-service", "admin"]) == {
            "oa-service"
        }
    finally:
        acting_with(None)
    assert effective_roles(["admin"]) == {"admin"}


def test_acting_as_an_admin_gives_only_the_services_privileges(
    client: FlaskClient, auth: Auth, engine: Engine
) -> None:
    me = client.get("/api/v1/users/me", headers=acting(auth, "admin")).get_json()
    assert me["username"] == "admin" and me["roles"] == []
    grant = client.put(
        "/api/v1/users/oa", json={"roles": ["admin", "oa-service"]}, headers=acting(auth, "admin")
    )
    assert grant.status_code == 403 and grant.mimetype == "application/problem+json"
    assert client.post("/api/v1/users/admin/tokens", headers=acting(auth, "admin")).status_code == 403
    assert client.post("/api/v1/users/oa/tokens", headers=acting(auth, "admin")).status_code == 403
    assert (
        client.post(
            "/api/v1/login-links", json={"username": "admin"}, headers=acting(auth, "admin")
        ).status_code
        == 403
    )
    assert client.get("/api/v1/jobs", headers=acting(auth, "admin")).status_code == 403
    assert engine.get_user("oa").roles == ["oa-service"]


def test_acting_as_an_admin_does_not_open_other_peoples_instances(
    client: FlaskClient, auth: Auth, engine: Engine, review: dict[str, str]
) -> None:
    path = f"/api/v1/process-instances/{review['instance_id']}"
    assert (
        client.post(f"{path}/cancel", json={"reason": "x"}, headers=acting(auth, "admin")).status_code == 403
    )
    assert client.get(f"{path}/history", headers=acting(auth, "admin")).status_code == 403
    assert engine.get_instance(review["instance_id"]).status == "running"
    # the cap ends with the request: the admin itself, and the OA service itself, are unaffected
    assert client.get(path, headers=auth.headers("oa")).status_code == 200
    assert (
        client.post(f"{path}/cancel", json={"reason": "重复"}, headers=auth.headers("admin")).get_json()[
            "status"
        ]
        == "cancelled"
    )


def test_acting_keeps_the_roles_the_service_holds_too(client: FlaskClient, auth: Auth) -> None:
    auth.user("oa2", roles=["oa-service"])
    assert client.get("/api/v1/users/me", headers=acting(auth, "oa2")).get_json()["roles"] == ["oa-service"]


def test_nobody_mints_credentials_for_someone_more_privileged(client: FlaskClient, auth: Auth) -> None:
    assert (
        client.post("/api/v1/login-links", json={"username": "admin"}, headers=auth.headers("oa")).status_code
        == 403
    )
    assert (
        client.post("/api/v1/login-links", json={"username": "wang"}, headers=auth.headers("oa")).status_code
        == 201
    )
    assert (
        client.post("/api/v1/login-links", json={"username": "ghost"}, headers=auth.headers("oa")).status_code
        == 404
    )
    assert (
        client.post("/api/v1/users/oa/tokens", headers=auth.headers("admin")).status_code == 201
    )  # an admin holds the service's privileges
    auth.user("admin2", roles=["admin"])
    assert client.post("/api/v1/users/admin2/tokens", headers=auth.headers("admin")).status_code == 201


def test_only_admins_grant_or_withdraw_roles(client: FlaskClient, auth: Auth, engine: Engine) -> None:
    oa = auth.headers("oa")
    assert client.put("/api/v1/users/zhou", json={"roles": ["oa-service"]}, headers=oa).status_code == 403
    assert client.put("/api/v1/users/admin", json={"roles": []}, headers=oa).status_code == 403
    assert client.put("/api/v1/users/newbie", json={"roles": ["admin"]}, headers=oa).status_code == 403
    synced = client.put(
        "/api/v1/users/zhou", json={"display_name": "周强", "groups": ["evaluator"], "roles": []}, headers=oa
    )
    assert synced.status_code == 200  # the org sync resends roles unchanged
    assert engine.get_user("admin").roles == ["admin"] and engine.get_user("zhou").roles == []
    assert client.put(
        "/api/v1/users/zhou", json={"roles": ["oa-service"]}, headers=auth.headers("admin")
    ).get_json()["roles"] == ["oa-service"]


# ---- the web pages ---------------------------------------------------------------------------------
# Every page route: (what a logged-in stranger gets, form fields). Page forms answer a refusal with a
# redirect and a flash message, so for those the test checks that nothing changed.
REFUSED_BY_REDIRECT = 302
PAGES: dict[tuple[str, str], tuple[int, dict[str, Any] | None]] = {
    ("GET", "/"): (302, None),
    ("GET", "/board"): (200, None),
    ("POST", "/board/<instance_id>/claims"): (
        REFUSED_BY_REDIRECT,
        {"kind": "individual", "plan": "p", "pledge": "p"},
    ),  # not published
    ("GET", "/board/<instance_id>"): (404, None),  # public once published; an application under review is not
    ("GET", "/designer"): (403, None),
    ("GET", "/designer/<key>"): (403, None),
    ("GET", "/designer/<key>/compare"): (403, None),
    ("GET", "/designer/<key>/migrate"): (403, None),  # admins move instances between versions
    ("POST", "/designer/<key>/migrate"): (403, {"from": "1", "to": "2", "action": "migrate"}),
    ("GET", "/designer/<key>/analytics"): (403, None),
    ("GET", "/designer/<key>/versions/<int:version>/files/<path:filename>"): (403, None),
    ("GET", "/inbox"): (200, None),
    ("GET", "/instances"): (200, None),
    ("POST", "/instances"): (302, {"process_key": "claim_evaluate"}),  # anyone starts a process
    ("GET", "/instances/<instance_id>"): (403, None),
    ("GET", "/instances/<instance_id>/export.json"): (403, None),  # the instance data: administrators only
    ("POST", "/instances/<instance_id>/cc"): (REFUSED_BY_REDIRECT, {"usernames": "li"}),
    ("POST", "/instances/<instance_id>/jobs/<job_id>/execute"): (403, None),
    ("GET", "/incidents"): (403, None),  # admins repair stopped instances
    ("GET", "/notifications"): (200, None),  # 通知设置: each person's own
    ("POST", "/notifications"): (302, {"events": "task_urged", "channels": "email"}),  # saved, their own
    ("GET", "/notifications/channels"): (403, None),  # 通知通道: admins
    ("POST", "/notifications/channels"): (403, {"kind": "wecom", "name": "群", "url": "https://x.example"}),
    ("POST", "/notifications/channels/<channel_id>/test"): (403, {}),
    ("POST", "/notifications/channels/<channel_id>/active"): (403, {"active": "0"}),
    ("POST", "/notifications/channels/<channel_id>/delete"): (403, {}),
    ("POST", "/incidents/<incident_id>/retry"): (403, {}),
    ("POST", "/incidents/instances/<instance_id>/variables"): (
        403,
        {"name": "title", "value": "x", "comment": "x"},
    ),
    ("POST", "/instances/<instance_id>/withdraw"): (REFUSED_BY_REDIRECT, {}),
    ("POST", "/instances/<instance_id>/discard"): (REFUSED_BY_REDIRECT, {}),
    ("POST", "/instances/<instance_id>/cancel"): (REFUSED_BY_REDIRECT, {"reason": "不是我的"}),
    ("GET", "/login"): (200, None),
    ("POST", "/login"): (401, {"username": "wang", "password": "guess"}),
    ("GET", "/login/link/<token>"): (410, None),
    ("POST", "/logout"): (302, {}),
    ("GET", "/scores"): (200, None),
    ("GET", "/scores/export.xlsx"): (200, None),
    ("GET", "/org"): (200, None),
    ("GET", "/org/units/<code>"): (404, None),  # no such unit
    ("POST", "/org/units"): (REFUSED_BY_REDIRECT, {"code": "x1", "name": "某县", "kind": "county"}),
    ("POST", "/org/units/<code>/posts"): (REFUSED_BY_REDIRECT, {"username": "wang", "post": "书记"}),
    ("POST", "/org/units/<code>/posts/remove"): (REFUSED_BY_REDIRECT, {"username": "wang", "post": "书记"}),
    ("POST", "/org/units/<code>/delete"): (REFUSED_BY_REDIRECT, {}),
    # 旬阳's campaign: the stranger belongs to no county, so reads it like the API; runs nothing of it
    ("GET", "/campaigns"): (200, None),
    ("POST", "/campaigns"): (
        403,
        {"title": "某榜单", "year": "2026", "organiser_unit": "xy_zzb", "categories": "甲"},
    ),
    ("GET", "/campaigns/<int:campaign_id>"): (200, None),
    ("GET", "/campaigns/<int:campaign_id>/import"): (403, None),
    ("POST", "/campaigns/<int:campaign_id>/import"): (403, {}),
    ("GET", "/campaigns/<int:campaign_id>/collect"): (403, None),
    ("POST", "/campaigns/<int:campaign_id>/collect"): (
        403,
        {"units": "xy_zzb", "panel": "admin", "deadline": "2026-12-31", "discussion_days": "7"},
    ),
    ("POST", "/campaigns/<int:campaign_id>/publish"): (REFUSED_BY_REDIRECT, {}),
    ("GET", "/campaigns/<int:campaign_id>/template.xlsx"): (200, None),
    ("GET", "/campaigns/<int:campaign_id>/stats.xlsx"): (200, None),
    ("GET", "/attachments/<attachment_id>"): (404, None),  # no such file
    ("POST", "/instances/<instance_id>/attachments"): (REFUSED_BY_REDIRECT, {"kind": "evidence"}),
    ("GET", "/campaigns/<int:campaign_id>/assessment"): (403, None),  # the 考评组's page
    ("POST", "/campaigns/<int:campaign_id>/assessment"): (403, {}),
    ("POST", "/campaigns/<int:campaign_id>/assessment/open"): (REFUSED_BY_REDIRECT, {}),
    ("POST", "/campaigns/<int:campaign_id>/assessment/carry-over"): (
        REFUSED_BY_REDIRECT,
        {"to_campaign": "1"},
    ),
    ("GET", "/tasks/<task_id>"): (403, None),
    ("GET", "/tasks/people"): (200, None),  # name search for person pickers: any logged-in user
    ("POST", "/tasks/<task_id>/claim"): (REFUSED_BY_REDIRECT, {}),
    ("POST", "/tasks/<task_id>/unclaim"): (REFUSED_BY_REDIRECT, {}),
    ("POST", "/tasks/<task_id>/comments"): (REFUSED_BY_REDIRECT, {"text": "看看"}),
    ("POST", "/tasks/<task_id>/complete"): (REFUSED_BY_REDIRECT, {"data": '{"decision": "approve"}'}),
    ("POST", "/tasks/<task_id>/ops/<op>"): (REFUSED_BY_REDIRECT, {"comment": "快点"}),
    ("GET", "/appraisal/rankings"): (200, None),  # the county's rankings are public within it (公示)
    ("POST", "/appraisal/rankings/propose"): (REFUSED_BY_REDIRECT, {"scheme": "四强", "period": "2026"}),
    ("GET", "/appraisal/rankings.xlsx"): (200, None),
    ("GET", "/appraisal/awards.xlsx"): (200, None),
    ("GET", "/appraisal/lists/<int:list_id>"): (404, None),  # no such list
    ("POST", "/appraisal/lists/<int:list_id>/objections"): (
        REFUSED_BY_REDIRECT,
        {"subject": "x", "reason": "r"},
    ),
    ("POST", "/appraisal/lists/<int:list_id>/objections/<int:objection_id>"): (
        REFUSED_BY_REDIRECT,
        {"decision": "upheld"},
    ),
    ("POST", "/appraisal/lists/<int:list_id>/finalise"): (REFUSED_BY_REDIRECT, {}),
    ("GET", "/appraisal/units/<code>/archive"): (404, None),  # no such unit; its leaders and organisers
    ("GET", "/appraisal/units/<code>/archive.xlsx"): (404, None),
    # 五个一线: the catalogue and the nomination form are everyone's; dispatch is the organisation department's
    ("GET", "/frontline"): (403, None),
    ("GET", "/frontline/dashboard.xlsx"): (403, None),
    ("GET", "/frontline/posts"): (200, None),
    ("POST", "/frontline/posts"): (
        403,
        {
            "front_line": "rural",
            "unit": "xy_zzb",
            "title": "驻村",
            "duties": "驻村",
            "capacity": "1",
            "supervisor": "zhao",
        },
    ),
    ("POST", "/frontline/posts/<int:post_id>"): (403, {"capacity": "2", "active": "1"}),
    ("GET", "/frontline/nominate"): (200, None),
    ("POST", "/frontline/nominate"): (
        422,
        {"intake": "organisation", "cadre": "wang", "front_line": "rural", "reason": "选派"},
    ),  # only the organisation department selects
    ("GET", "/frontline/people/<username>"): (404, None),  # zhao's 成长档案: not a stranger's to read
    ("GET", "/frontline/people/<username>/archive.xlsx"): (404, None),
    ("POST", "/frontline/people/<username>/list-entries"): (
        404,
        {"kind": "positive", "text": "x"},
    ),  # not on post
    ("GET", "/sanhao"): (200, None),  # the county's 三好创争 and its publicity board
    ("POST", "/sanhao"): (403, {"year": "2027", "towns": "pingli", "panel": "li"}),  # organisers only
    ("POST", "/sanhao/<instance_id>/objections"): (
        REFUSED_BY_REDIRECT,
        {"against": "wang", "reason": "不实"},
    ),
    ("POST", "/sanhao/<instance_id>/nominations"): (
        REFUSED_BY_REDIRECT,
        {"nominee": "wang", "reason": "不作为"},
    ),
    ("GET", "/villages"): (200, None),  # one's own county's villages (none here)
    ("POST", "/villages/propose"): (
        REFUSED_BY_REDIRECT,
        {"village": "pingli", "leader": "zhao"},
    ),  # admins only
    ("POST", "/villages/assessment"): (
        REFUSED_BY_REDIRECT,
        {"village": "x", "year": "2026", "satisfaction": "90"},
    ),
    ("GET", "/villages/letters/<int:appointment_id>"): (404, None),  # no such letter
    ("GET", "/villages/problems"): (200, None),
    ("GET", "/villages/problems.xlsx"): (200, None),
    ("GET", "/villages/presence"): (200, None),
    ("POST", "/villages/presence"): (
        REFUSED_BY_REDIRECT,
        {"village": "pingli", "day": "2026-03-01"},
    ),  # no such village
}


def page_rules(app: Any) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(("/api", "/static"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_page_is_classified(app: Any) -> None:
    assert page_rules(app) - set(PAGES) == set(), "new pages: say what a stranger gets in this matrix"
    assert set(PAGES) - page_rules(app) == set()


def test_a_stranger_on_the_pages_sees_and_changes_nothing(
    client: FlaskClient, auth: Auth, engine: Engine, review: dict[str, str]
) -> None:
    auth.user(STRANGER)
    values = {**review, "filename": "claim_evaluate.bpmn", "token": "expired", "op": "urge"}
    history = engine.history(review["instance_id"])
    wrong = []
    for (method, rule), (expected, form) in sorted(PAGES.items()):
        page_login(client, engine, STRANGER, csrf_token="t")
        path = rule.replace("<int:version>", "<version>").replace("<path:filename>", "<filename>")
        path = path.replace("<int:campaign_id>", "<campaign_id>").replace("<int:list_id>", "<list_id>")
        path = path.replace("<int:objection_id>", "<objection_id>")
        path = path.replace("<int:campaign_id>", "<campaign_id>").replace("<int:post_id>", "<post_id>")
        path = path.replace("<int:campaign_id>", "<campaign_id>").replace(
            "<int:appointment_id>", "<appointment_id>"
        )
        for name, value in values.items():
            path = path.replace(f"<{name}>", value)
        resp = client.open(
            path, method=method, data={**(form or {}), "csrf_token": "t"} if method == "POST" else None
        )
        if resp.status_code != expected:
            wrong.append(f"{method} {rule}: {resp.status_code}, expected {expected}")
        if resp.status_code == 200 and resp.mimetype == "text/html":
            page = resp.get_data(as_text=True)
            assert review["task_id"] not in page and review["instance_id"] not in page, (
                rule
            )  # nothing leads a stranger to wang's application
    assert wrong == []
    assert engine.history(review["instance_id"]) == history
    task = engine.get_task(review["task_id"]).task
    assert (task.status, task.assignee) == ("open", None)
    assert engine.list_comments(review["task_id"], "zhao") == [] and engine.list_cc(STRANGER).total == 0


def test_the_instance_page_offers_withdraw_to_whoever_acted_last(
    client: FlaskClient, auth: Auth, engine: Engine, walk: HttpWalk
) -> None:
    walk.submit()
    walk.clock.advance(minutes=30)
    walk.do("preliminary_review", "zhao", {"decision": "approve", "comment": "符合条件"})
    page = f"/instances/{walk.instance_id}"
    page_login(client, engine, "wang", csrf_token="t")
    assert 'id="withdraw"' not in client.get(page).get_data(as_text=True)  # the starter no longer acted last
    page_login(client, engine, "zhao", csrf_token="t")
    assert 'id="withdraw"' in client.get(page).get_data(as_text=True)
    assert client.post(f"{page}/withdraw", data={"csrf_token": "t"}).status_code == 302
    assert [t.element_id for t in engine.get_instance(walk.instance_id).open_tasks] == ["preliminary_review"]


def test_the_task_page_shows_only_the_buttons_the_rulebook_allows(
    client: FlaskClient, auth: Auth, engine: Engine, review: dict[str, str]
) -> None:
    page = f"/tasks/{review['task_id']}"

    def buttons(user: str) -> set[str]:
        page_login(client, engine, user, csrf_token="t")
        html = client.get(page).get_data(as_text=True)
        shown = {
            op
            for op in ("transfer", "delegate", "add_signers", "return", "urge", "cc")
            if f'data-op="{op}"' in html
        }
        return shown | {b for b in ("claim", "unclaim", "complete") if f'id="{b}"' in html}

    assert buttons("zhao") == {"claim", "complete"}  # a candidate: no reminders, no copies until involved
    assert buttons("wang") == {"urge", "cc"}  # the starter follows up, works nothing
    engine.claim(review["task_id"], "zhao")
    assert buttons("zhao") == {"unclaim", "complete", "transfer", "delegate", "add_signers", "return"}


# ---- the route-permission matrix: every route, six people ---------------------------------------------
# Each person's view of wang's application, fresh for every route that changes something: it waits
# in preliminary review, in the task force's queue (zhao and ma are members); for "assignee", ma
# has claimed it. The admin and the OA service call as themselves.
PEOPLE = {
    "stranger": STRANGER,
    "candidate": "zhao",
    "assignee": "ma",
    "starter": "wang",
    "admin": "admin",
    "oa": "oa",
}

# fmt: off
#                                                                   stranger candidate assignee starter admin oa
STATUS: dict[tuple[str, str], tuple[int, int, int, int, int, int]] = {
    ("GET", "/board"):                                                  (200, 200, 200, 200, 200, 200),
    ("GET", "/campaigns"):                                              (200, 200, 200, 200, 200, 200),
    ("POST", "/campaigns"):                                             (403, 403, 403, 403, 201, 403),
    ("GET", "/campaigns/{campaign_id}"):                                (200, 200, 200, 200, 200, 200),  # people of no county see every county's
    ("GET", "/campaigns/{campaign_id}/problems/template"):              (200, 200, 200, 200, 200, 200),
    ("POST", "/campaigns/{campaign_id}/problems/import"):               (403, 403, 403, 403, 200, 403),  # the service reads, runs nothing
    ("POST", "/campaigns/{campaign_id}/publish"):                       (403, 403, 403, 403, 200, 403),
    ("PATCH", "/campaigns/{campaign_id}"):                              (403, 403, 403, 403, 200, 403),
    ("GET", "/attachments/{attachment_id}"):                            (404, 404, 404, 404, 404, 404),  # no such file
    ("POST", "/process-instances/{instance_id}/attachments"):           (403, 201, 201, 201, 201, 201),  # evidence: who sees it
    ("GET", "/process-instances/{instance_id}/attachments"):            (403, 200, 200, 200, 200, 200),
    ("GET", "/campaigns/{campaign_id}/stats"):                          (200, 200, 200, 200, 200, 200),
    ("GET", "/campaigns/{campaign_id}/stats/export"):                   (200, 200, 200, 200, 200, 200),
    ("POST", "/campaigns/{campaign_id}/assessment"):                    (403, 403, 403, 403, 200, 403),
    ("GET", "/campaigns/{campaign_id}/assessment"):                     (403, 403, 403, 403, 200, 403),  # the 考评组 (none here) and admins
    ("POST", "/campaigns/{campaign_id}/carry-over"):                    (403, 403, 403, 403, 422, 403),  # let in; not into itself
    ("GET", "/campaigns/{campaign_id}/report"):                         (200, 200, 200, 200, 200, 200),
    ("GET", "/people/{username}/archive"):                              (404, 200, 404, 404, 200, 404),
    ("GET", "/frontline/posts"):                                        (200, 200, 200, 200, 200, 200),
    ("POST", "/frontline/posts"):                                       (403, 403, 403, 403, 422, 403),  # let in; not the installation's unit
    ("GET", "/frontline/posts/{post_id}"):                              (404, 404, 404, 404, 404, 404),
    ("PATCH", "/frontline/posts/{post_id}"):                            (403, 403, 403, 403, 404, 403),  # let in; no such post
    ("GET", "/frontline/stints"):                                       (403, 403, 403, 403, 200, 403),
    ("GET", "/frontline/dashboard"):                                    (403, 403, 403, 403, 200, 403),
    ("POST", "/frontline/instances/{instance_id}/list-entries"):        (404, 404, 404, 404, 404, 404),  # not a front-line instance  # zhao's own, and admins; a peer: no such person
    ("POST", "/board/{instance_id}/claims"):                            (409, 409, 409, 409, 409, 409),  # not published yet: nobody claims
    ("GET", "/groups"):                                                 (200, 200, 200, 200, 200, 200),
    ("GET", "/jobs"):                                                   (403, 403, 403, 403, 200, 403),
    ("POST", "/jobs/{job_id}/execute"):                                 (403, 403, 403, 403, 404, 403),  # let in; no such job
    ("GET", "/leaderboard"):                                            (200, 200, 200, 200, 200, 200),
    ("POST", "/login-links"):                                           (403, 403, 403, 403, 403, 201),
    ("POST", "/messages"):                                              (403, 403, 403, 403, 422, 422),  # let in; claim_submitted is the engine's own message
    ("GET", "/process-definitions"):                                    (200, 200, 200, 200, 200, 200),
    ("POST", "/process-definitions"):                                   (403, 403, 403, 403, 201, 403),
    ("POST", "/process-definitions/validate"):                          (403, 403, 403, 403, 200, 403),
    ("GET", "/process-definitions/{key}/diff"):                         (403, 403, 403, 403, 422, 403),  # let in; one version only
    ("GET", "/process-definitions/{key}/analytics"):                    (403, 403, 403, 403, 200, 403),
    ("GET", "/metrics"):                                                (403, 403, 403, 403, 200, 403),
    ("GET", "/incidents"):                                              (403, 403, 403, 403, 200, 403),
    ("GET", "/incidents/{incident_id}"):                                (403, 403, 403, 403, 404, 403),  # let in; no such incident
    ("POST", "/incidents/{incident_id}/retry"):                         (403, 403, 403, 403, 404, 403),
    ("POST", "/process-instances/{instance_id}/resume"):                (403, 403, 403, 403, 409, 403),  # let in; it is running
    ("PATCH", "/process-instances/{instance_id}/variables"):            (403, 403, 403, 403, 200, 403),
    ("POST", "/process-instances/migrate"):                             (403, 403, 403, 403, 422, 403),  # let in; one version only
    ("GET", "/process-definitions/{key}"):                              (200, 200, 200, 200, 200, 200),
    ("GET", "/process-definitions/{key}/versions/{version}/xml"):       (200, 200, 200, 200, 200, 200),
    ("GET", "/process-instances"):                                      (200, 200, 200, 200, 200, 200),
    ("POST", "/process-instances"):                                     (201, 201, 201, 201, 201, 201),
    ("GET", "/process-instances/{instance_id}"):                        (403, 200, 200, 200, 200, 200),
    ("POST", "/process-instances/{instance_id}/cancel"):                (403, 403, 403, 200, 200, 403),
    ("POST", "/process-instances/{instance_id}/cc"):                    (403, 403, 403, 200, 200, 403),
    ("POST", "/process-instances/{instance_id}/cc/read"):               (404, 404, 404, 404, 404, 404),  # only a copy made to me
    ("GET", "/process-instances/{instance_id}/history"):                (403, 200, 200, 200, 200, 200),
    ("POST", "/process-instances/{instance_id}/withdraw"):              (403, 403, 403, 200, 403, 403),  # wang's submission is the last step
    ("GET", "/scores"):                                                 (200, 200, 200, 200, 200, 200),
    ("GET", "/scores/export"):                                          (200, 200, 200, 200, 200, 200),
    ("GET", "/tasks"):                                                  (200, 200, 200, 200, 200, 200),
    ("GET", "/tasks/{task_id}"):                                        (403, 200, 200, 200, 200, 200),
    ("POST", "/tasks/{task_id}/add-signers"):                           (403, 201, 201, 403, 403, 403),  # a candidate takes the task with it
    ("POST", "/tasks/{task_id}/claim"):                                 (403, 200, 200, 403, 403, 403),
    ("GET", "/tasks/{task_id}/comments"):                               (403, 200, 200, 200, 200, 200),
    ("POST", "/tasks/{task_id}/comments"):                              (403, 201, 201, 201, 201, 403),
    ("POST", "/tasks/{task_id}/complete"):                              (403, 200, 200, 403, 403, 403),
    ("POST", "/tasks/{task_id}/delegate"):                              (403, 200, 200, 403, 403, 403),
    ("POST", "/tasks/{task_id}/return"):                                (403, 200, 200, 403, 403, 403),
    ("GET", "/tasks/{task_id}/return-targets"):                         (403, 200, 200, 200, 200, 200),
    ("GET", "/tasks/{task_id}/signers"):                                (403, 200, 200, 200, 200, 200),
    ("DELETE", "/tasks/{task_id}/signers/{username}"):                  (403, 403, 404, 403, 403, 403),  # zhao signs nothing here
    ("POST", "/tasks/{task_id}/transfer"):                              (403, 200, 200, 403, 403, 403),
    ("POST", "/tasks/{task_id}/unclaim"):                               (403, 409, 200, 409, 409, 409),  # those who see it learn it is not claimed
    ("POST", "/tasks/{task_id}/urge"):                                  (403, 403, 403, 202, 202, 403),
    ("GET", "/tokens"):                                                 (200, 200, 200, 200, 200, 200),
    ("DELETE", "/tokens/{token_id}"):                                   (404, 404, 404, 404, 404, 404),  # someone else's token does not exist for you
    ("GET", "/imports/org/template"):                                   (200, 200, 200, 200, 200, 200),
    ("POST", "/imports/org"):                                           (403, 403, 403, 403, 200, 403),
    ("GET", "/units"):                                                  (200, 200, 200, 200, 200, 200),
    ("DELETE", "/units/{code}"):                                        (403, 403, 403, 403, 404, 403),  # let in; no such unit
    ("GET", "/units/{code}"):                                           (404, 404, 404, 404, 404, 404),  # no such unit
    ("PUT", "/units/{code}"):                                           (403, 403, 403, 403, 200, 403),
    ("GET", "/users/me"):                                               (200, 200, 200, 200, 200, 200),
    ("GET", "/appraisal/schemes"):                                      (200, 200, 200, 200, 200, 200),
    ("POST", "/appraisal/schemes"):                                     (403, 403, 403, 403, 201, 403),
    ("POST", "/appraisal/panels"):                                      (403, 403, 403, 403, 422, 403),  # let in; no unit pingli
    ("GET", "/appraisal/panels/{panel_id}"):                            (404, 404, 404, 404, 404, 404),
    ("POST", "/appraisal/panels/{panel_id}/scores"):                    (404, 404, 404, 404, 404, 404),
    ("POST", "/appraisal/panels/{panel_id}/close"):                     (403, 403, 403, 403, 404, 403),  # let in; no such panel
    ("GET", "/rankings"):                                               (422, 422, 422, 422, 422, 422),  # no scheme named
    ("GET", "/rankings/export"):                                        (422, 422, 422, 422, 422, 422),
    ("GET", "/awards"):                                                 (200, 200, 200, 200, 200, 200),
    ("GET", "/awards/export"):                                          (200, 200, 200, 200, 200, 200),
    ("GET", "/award-lists"):                                            (200, 200, 200, 200, 200, 200),
    ("POST", "/award-lists"):                                           (403, 403, 403, 403, 409, 403),  # let in; nobody scored yet
    ("GET", "/award-lists/{list_id}"):                                  (404, 404, 404, 404, 404, 404),
    ("POST", "/award-lists/{list_id}/objections"):                      (404, 404, 404, 404, 404, 404),
    ("POST", "/award-lists/{list_id}/objections/{objection_id}/decision"): (403, 403, 403, 403, 404, 403),
    ("POST", "/award-lists/{list_id}/finalise"):                        (403, 403, 403, 403, 404, 403),
    ("GET", "/units/{code}/archive"):                                   (404, 404, 404, 404, 404, 404),  # no such unit
    ("GET", "/users/{username}"):                                       (200, 200, 200, 200, 200, 200),
    ("PUT", "/users/{username}"):                                       (403, 403, 403, 403, 200, 200),
    ("POST", "/users/{username}/tokens"):                               (403, 403, 403, 403, 201, 403),
    ("GET", "/webhooks"):                                               (403, 403, 403, 403, 200, 403),
    ("POST", "/webhooks"):                                              (403, 403, 403, 403, 201, 403),
    ("DELETE", "/webhooks/{webhook_id}"):                               (403, 403, 403, 403, 404, 403),  # let in; no such webhook
    ("GET", "/webhooks/{webhook_id}/deliveries"):                       (403, 403, 403, 403, 404, 403),  # let in; no such webhook
    ("GET", "/notification-channels"):                                  (403, 403, 403, 403, 200, 403),
    ("POST", "/notification-channels"):                                 (403, 403, 403, 403, 201, 403),
    ("PATCH", "/notification-channels/{channel_id}"):                   (403, 403, 403, 403, 404, 403),  # let in; no such channel
    ("DELETE", "/notification-channels/{channel_id}"):                  (403, 403, 403, 403, 404, 403),  # let in; no such channel
    ("POST", "/notification-channels/{channel_id}/test"):               (403, 403, 403, 403, 404, 403),  # let in; no such channel
    ("GET", "/notification-deliveries"):                                (403, 403, 403, 403, 200, 403),
    ("GET", "/me/notification-preferences"):                            (200, 200, 200, 200, 200, 200),
    ("PUT", "/me/notification-preferences"):                            (200, 200, 200, 200, 200, 200),
    ("POST", "/sanhao/{instance_id}/objections"):                       (422, 422, 422, 422, 422, 422),  # not a 三好创争 instance
    ("POST", "/sanhao/{instance_id}/nominations"):                      (403, 422, 422, 422, 422, 422),  # who sees it; not 三好创争
    ("GET", "/villages"):                                               (200, 200, 200, 200, 200, 200),
    ("POST", "/villages/{code}/leader"):                                (403, 403, 403, 403, 422, 403),  # let in; pingli is no village here
    ("POST", "/villages/{code}/assessment"):                            (403, 403, 403, 403, 404, 403),  # let in; pingli is no village
    ("GET", "/villages/appointments/{appointment_id}"):                       (404, 404, 404, 404, 404, 404),  # no such letter
    ("GET", "/village-problems"):                                       (200, 200, 200, 200, 200, 200),
    ("GET", "/village-problems/export"):                                (200, 200, 200, 200, 200, 200),
    ("POST", "/village-visits"):                                        (422, 422, 422, 422, 422, 422),  # no such village
    ("GET", "/village-presence"):                                       (200, 200, 200, 200, 200, 200),
}
# fmt: on


def situation(walk: HttpWalk, person: str) -> dict[str, str]:
    """A fresh application as ``person`` finds it; the values the route templates need."""
    walk.submit()
    task_id = walk.task("preliminary_review")["id"]
    if person == "assignee":
        walk.call("POST", f"/tasks/{task_id}/claim", "ma")
    return {
        "instance_id": walk.instance_id,
        "task_id": task_id,
        "username": "zhao",
        "key": "claim_evaluate",
        "version": "1",
        "job_id": NO_SUCH_ID,
        "webhook_id": NO_SUCH_ID,
        "channel_id": NO_SUCH_ID,
        "token_id": "999999",
        "campaign_id": campaign_of(walk.auth.engine),
        "code": "pingli",
        "attachment_id": NO_SUCH_ID,
        "incident_id": NO_SUCH_ID,
        "panel_id": "999999",
        "list_id": "999999",
        "objection_id": "999999",
        "post_id": "999999",
        "appointment_id": "999999",
    }


@pytest.fixture
def webhook_host_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OA's webhook host resolves to a public address without asking DNS (nothing is delivered)."""
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port or 443))
        ],
    )


@pytest.mark.parametrize("person", list(PEOPLE))
def test_route_permission_matrix(
    client: FlaskClient, auth: Auth, walk: HttpWalk, webhook_host_resolves: None, person: str
) -> None:
    """Every route of the OpenAPI document answers each person what the table says."""
    auth.user("ma", ["taskforce"], display_name="马专班")
    user, column = PEOPLE[person], list(PEOPLE).index(person)
    reading = situation(walk, person)  # the GET routes share one; every other route gets its own
    wrong = []
    for method, path in openapi_operations(client):
        values = reading if method == "GET" else situation(walk, person)
        resp = call(client, auth, user, method, path, body_of((method, path)), values)
        expected = STATUS[(method, path)][column]
        if resp.status_code != expected:
            wrong.append(
                f"{method} {path}: {resp.status_code}, expected {expected}: {resp.get_data()[:160].decode(errors='replace')}"
            )
        elif expected >= 400:
            assert resp.mimetype == "application/problem+json", (method, path)
    assert wrong == []
