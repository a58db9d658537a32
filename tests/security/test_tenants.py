"""Tenants: two counties on one installation see nothing of each other, and scoped roles.

County A (``xian_a``) runs the walk's cast (wang files, zhao's task force reviews, sun's committee
approves); county B (``xian_b``) has its own people with the same display names and the same
group names (``taskforce``, ``committee``). Usernames are the installation's primary key (the
contract keeps them global; each county's OA prefixes its own), so B's people are ``b.wang``,
``b.zhao``…: what repeats across counties is the group names, and that is what must not leak.

Every route of ``test_authorization``'s matrix that names an object is called by B's task-force
member and by B's admin on A's objects: each answers 404 (never 403, never 200), and every list
B reads is empty of A's objects.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine import Engine
from engine.organisation import PostAssignment, set_posts, upsert_unit
from engine.tables import ScoreEntry
from tests.api import conftest as api
from tests.api.conftest import Auth, HttpWalk, page_login
from tests.campaigns import campaign_body
from tests.security.test_authorization import (
    INVOLVED_ONLY,
    MATRIX,
    OPEN_TO_EVERYONE,
    PING,
    ROLE_ONLY,
    call,
    webhook_host_resolves,
)

app, auth, client, walk = api.app, api.auth, api.client, api.walk  # the API suite's fixtures
pytestmark = pytest.mark.usefixtures(webhook_host_resolves.__name__)  # webhooks' hosts resolve offline

#: County B's people: the same display names and groups as A's, their own usernames.
B_PEOPLE = {
    "b.wang": ([], "王科长"),
    "b.zhao": (["taskforce"], "赵专班"),
    "b.sun": (["committee"], "孙书记"),
    "b.admin": ([], "管理员"),
}
UNITS = [  # code, name, kind, parent
    ("xian_a", "甲县", "county", None),
    ("town_a1", "甲一镇", "town", "xian_a"),
    ("village_a1", "甲一村", "village", "town_a1"),
    ("town_a2", "甲二镇", "town", "xian_a"),
    ("xian_b", "乙县", "county", None),
    ("town_b1", "乙一镇", "town", "xian_b"),
]
POSTS = {  # who holds which post where: this is what puts people in a tenant
    "wang": ("village_a1", "科员"),
    "zhao": ("xian_a", "专班成员"),
    "sun": ("xian_a", "书记"),
    "qian": ("xian_a", "考评员"),
    "zhou": ("town_a2", "科员"),
    "zhangjie": ("town_a1", "科员"),
    "li": ("town_a2", "科员"),
    "admin": ("xian_a", "管理员"),
    "b.wang": ("town_b1", "科员"),
    "b.zhao": ("xian_b", "专班成员"),
    "b.sun": ("xian_b", "书记"),
    "b.admin": ("xian_b", "管理员"),
}


def organise(engine: Engine, auth: Auth) -> None:
    """Both counties' trees, B's people, and everyone in their posts."""
    for username, (groups, name) in B_PEOPLE.items():
        auth.user(username, groups, roles=["admin"] if username == "b.admin" else [], display_name=name)
    auth.user("root", roles=["admin"], display_name="运维")  # the installation's admin: no unit
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with engine.store.write() as s:
        for code, name, kind, parent in UNITS:
            upsert_unit(s, code, name=name, kind=kind, parent=parent, attributes=None, now=now)
        for username, (unit, post) in POSTS.items():
            set_posts(s, username, [PostAssignment(unit, post)])


@pytest.fixture
def county_a(client: FlaskClient, auth: Auth, engine: Engine, walk: HttpWalk) -> dict[str, str]:
    """A's objects, one of each kind a route names: an application in review (its task), a
    published challenge (its claim-window job), a webhook, a token, a definition of its own, a
    ledger row. Returns the values the route templates need."""
    organise(engine, auth)
    walk.publish()
    published = walk.instance_id
    hook = walk.call(
        "POST",
        "/webhooks",
        "admin",
        201,
        json={"url": "https://oa-a.example.org/hooks", "events": ["task.created"], "secret": "s"},
    )
    own = client.post(
        "/api/v1/process-definitions",
        data={"file": [(io.BytesIO(PING), "ping.bpmn")]},
        content_type="multipart/form-data",
        headers=auth.headers("admin"),
    )
    assert own.status_code == 201, own.get_data(as_text=True)
    walk.submit()  # the application in review
    job = engine.list_jobs(instance_id=published, kind="timer").items[0]
    with engine.store.write() as s:
        s.add(
            ScoreEntry(
                period="2026-03",
                username="zhou",
                points=80,
                instance_id=published,
                reason="甲县的榜",
                awarded_at=now_(),
                tenant="xian_a",
            )
        )
    engine.copy_to(walk.instance_id, "wang", ["li"])
    campaign = engine.create_campaign("admin", campaign_body(organiser_unit="town_a1", key_prefix="A2026-"))
    return {
        "campaign_id": str(campaign.id),
        "code": "town_a1",
        "instance_id": walk.instance_id,
        "published_id": published,
        "task_id": walk.task("preliminary_review")["id"],
        "username": "zhao",
        "key": "ping",
        "version": str(own.get_json()["version"]),
        "job_id": job.id,
        "webhook_id": hook["id"],
        "token_id": str(engine.list_tokens("wang")[0].id),
    }


def now_() -> datetime:
    return datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def names_an_object(path: str) -> bool:
    return "{" in path


def b_body(key: tuple[str, str], values: dict[str, str]) -> Any:
    """The matrix's request body, aimed at A's objects (the board's claim at A's published challenge)."""
    if key == ("POST", "/board/{instance_id}/claims"):
        return {"kind": "individual", "plan": "逐户走访", "pledge": "不完成不收兵"}
    for table in (INVOLVED_ONLY, ROLE_ONLY, OPEN_TO_EVERYONE):
        if key in table:
            return table[key][1]
    raise AssertionError(key)


OBJECT_ROUTES = sorted(k for k in MATRIX if names_an_object(k[1]))


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=[f"{m} {p}" for m, p in OBJECT_ROUTES])
def test_another_tenants_objects_are_not_found(
    client: FlaskClient, auth: Auth, engine: Engine, county_a: dict[str, str], route: tuple[str, str]
) -> None:
    method, path = route
    values = dict(county_a)
    if path.startswith("/board/"):
        values["instance_id"] = county_a["published_id"]
    history = engine.history(county_a["instance_id"])
    for user in ("b.zhao", "b.admin"):
        # without the route's role, a refusal (403) tells nothing either; everyone else: not found
        expected = {403, 404} if route in ROLE_ONLY and user != "b.admin" else {404}
        resp = call(client, auth, user, method, path, b_body(route, values), values)
        assert resp.status_code in expected, (user, resp.get_data(as_text=True)[:300])
        assert resp.mimetype == "application/problem+json"
        assert "康渝高铁" not in resp.get_data(as_text=True)  # the problem's title: nothing of A's data
    assert engine.history(county_a["instance_id"]) == history  # nothing B tried was recorded
    assert engine.get_task(county_a["task_id"]).task.status == "open"
    assert engine.get_user("zhao").display_name == "赵专班"


LISTS = [
    "/process-instances",
    "/tasks?scope=involved",
    "/tasks?scope=candidate",
    "/tasks?scope=mine",
    "/tasks?scope=cc",
    "/tasks?scope=candidate&q=康渝",
    "/board",
    "/scores?period=2026-03",
    "/leaderboard?period=2026-03",
    "/jobs",
    "/webhooks",
    "/groups",
    "/process-definitions",
]


def test_another_tenants_lists_hold_nothing_of_the_first(
    client: FlaskClient, auth: Auth, county_a: dict[str, str]
) -> None:
    a_ids = [county_a[k] for k in ("instance_id", "published_id", "task_id", "job_id", "webhook_id")]
    for path in LISTS:
        for user in ("b.zhao", "b.admin"):
            resp = client.get(f"/api/v1{path}", headers=auth.headers(user))
            if path in ("/jobs", "/webhooks") and user == "b.zhao":
                assert resp.status_code == 403
                continue
            assert resp.status_code == 200, (path, user)
            text = resp.get_data(as_text=True)
            leaked = [x for x in (*a_ids, "康渝高铁", '"zhao"', '"zhou"', '"ping"') if x in text]
            assert leaked == [], (path, user, leaked)
    # ...while A's own people see theirs through the very same lists
    assert client.get("/api/v1/tasks?scope=candidate", headers=auth.headers("zhao")).get_json()["total"] == 1
    assert len(client.get("/api/v1/board", headers=auth.headers("li")).get_json()["items"]) == 1
    assert client.get("/api/v1/scores?period=2026-03", headers=auth.headers("li")).get_json()["items"]
    groups = client.get("/api/v1/groups", headers=auth.headers("b.admin")).get_json()["items"]
    assert {g["name"]: g["members"] for g in groups}["taskforce"] == ["b.zhao"]
    export = client.get("/api/v1/scores/export?period=2026-03", headers=auth.headers("b.zhao"))
    assert export.status_code == 200 and "甲县的榜".encode() not in export.get_data()
    assert b"zhou" not in export.get_data()


def test_a_task_force_of_another_county_never_sees_claims_or_completes_the_first_ones_tasks(
    client: FlaskClient, auth: Auth, engine: Engine, walk: HttpWalk
) -> None:
    """Both counties have a ``taskforce``; a group matches only within the task's tenant."""
    organise(engine, auth)
    b_hook = walk.call(
        "POST",
        "/webhooks",
        "b.admin",
        201,
        json={"url": "https://oa-b.example.org/hooks", "events": ["task.created"], "secret": "s"},
    )
    a_hook = walk.call(
        "POST",
        "/webhooks",
        "admin",
        201,
        json={"url": "https://oa-a.example.org/hooks", "events": ["task.created"], "secret": "s"},
    )
    root_hook = walk.call(
        "POST",
        "/webhooks",
        "root",
        201,
        json={"url": "https://ops.example.org/hooks", "events": ["task.created"], "secret": "s"},
    )
    walk.submit()  # A's application, now in A's task force's queue
    review = walk.task("preliminary_review")["id"]

    def inbox(user: str) -> list[str]:
        return [
            t["id"]
            for t in client.get("/api/v1/tasks?scope=candidate", headers=auth.headers(user)).get_json()[
                "items"
            ]
        ]

    assert inbox("zhao") == [review] and inbox("b.zhao") == []
    b = auth.headers("b.zhao")
    assert client.post(f"/api/v1/tasks/{review}/claim", headers=b).status_code == 404
    done = client.post(f"/api/v1/tasks/{review}/complete", json={"data": {"decision": "approve"}}, headers=b)
    assert done.status_code == 404
    assert engine.get_task(review).task.assignee is None

    # B's own application goes to B's task force only, with the same group name
    b_inst = walk.call("POST", "/process-instances", "b.wang", 201, json={"process_key": "claim_evaluate"})
    submit = next(t for t in b_inst["open_tasks"] if t["element_id"] == "submit_problem")
    walk.call("POST", f"/tasks/{submit['id']}/complete", "b.wang", 200, json={"data": {**PROBLEM_B}})
    b_review = inbox("b.zhao")
    assert len(b_review) == 1 and inbox("zhao") == [review]
    assert client.post(f"/api/v1/tasks/{b_review[0]}/claim", headers=auth.headers("zhao")).status_code == 404
    assert client.post(f"/api/v1/tasks/{b_review[0]}/claim", headers=b).get_json()["assignee"] == "b.zhao"

    # the board: each county's challenges only
    walk.do("preliminary_review", "zhao", {"decision": "approve", "comment": "符合条件"})
    walk.do("committee_approval", "sun", COMMITTEE)
    board = lambda user: client.get("/api/v1/board", headers=auth.headers(user)).get_json()["items"]  # noqa: E731
    assert [c["instance_id"] for c in board("li")] == [walk.instance_id]
    assert board("b.wang") == [] and len(board("root")) == 1

    # webhooks: B's hears B's tasks, A's hears A's, the installation's hears both
    owner = {b_hook["id"]: "b.admin", a_hook["id"]: "admin", root_hook["id"]: "root"}
    counts = {
        who: client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=auth.headers(who)).get_json()[
            "total"
        ]
        for who, hook in (("b.admin", b_hook), ("admin", a_hook), ("root", root_hook))
    }
    assert counts["b.admin"] == 2  # B's submit and review tasks
    assert counts["admin"] == 3  # A's submit, review and committee tasks
    assert counts["root"] == 5
    assert (
        client.get(f"/api/v1/webhooks/{a_hook['id']}/deliveries", headers=auth.headers("b.admin")).status_code
        == 404
    )
    assert {
        h["id"] for h in client.get("/api/v1/webhooks", headers=auth.headers("root")).get_json()["items"]
    } == set(owner)


PROBLEM_B = {
    "title": "乙县河道清淤",
    "category": "生态环保",
    "description": "河道淤积",
    "goals": "汛期前完成",
    "proposed_deadline": "2026-06-30T00:00:00+08:00",
    "proposed_points": 60,
}
COMMITTEE = {
    "decision": "approve",
    "points": 100,
    "deadline": "2026-12-31T00:00:00+08:00",
    "claim_window": "P14D",
    "report_interval": "P30D",
}


def test_definitions_deployed_by_a_tenant_are_its_own_and_shipped_ones_are_shared(
    client: FlaskClient, auth: Auth, engine: Engine
) -> None:
    organise(engine, auth)

    def deploy(user: str, name: str) -> dict[str, Any]:
        xml = PING.replace(b'name="Ping"', f'name="{name}"'.encode()) if b'name="Ping"' in PING else PING
        resp = client.post(
            "/api/v1/process-definitions",
            data={"file": [(io.BytesIO(xml), "ping.bpmn")]},
            content_type="multipart/form-data",
            headers=auth.headers(user),
        )
        assert resp.status_code == 201, resp.get_data(as_text=True)
        return resp.get_json()

    def start(user: str, key: str) -> Any:
        return client.post("/api/v1/process-instances", json={"process_key": key}, headers=auth.headers(user))

    mine = deploy("admin", "甲县的流程")
    assert start("wang", "ping").status_code == 201
    assert start("b.wang", "ping").status_code == 404  # B cannot start A's definition...
    b = auth.headers("b.wang")
    assert client.get("/api/v1/process-definitions/ping", headers=b).status_code == 404  # ...or see it
    assert (
        client.get(f"/api/v1/process-definitions/ping/versions/{mine['version']}/xml", headers=b).status_code
        == 404
    )
    assert "ping" not in [
        d["key"] for d in client.get("/api/v1/process-definitions", headers=b).get_json()["items"]
    ]
    for user in ("wang", "b.wang"):  # the shipped process is everyone's
        assert start(user, "claim_evaluate").status_code == 201

    shared = deploy("root", "共享的流程")  # the installation's: shared, but A's own ping shadows it for A
    assert start("b.wang", "ping").get_json()["version"] == shared["version"]
    assert start("wang", "ping").get_json()["version"] == mine["version"]
    a_versions = client.get("/api/v1/process-definitions/ping", headers=auth.headers("wang")).get_json()[
        "versions"
    ]
    assert a_versions == [mine["version"]]


def test_a_scoped_admin_manages_its_subtree_only(client: FlaskClient, auth: Auth, engine: Engine) -> None:
    organise(engine, auth)
    grant = client.put(
        "/api/v1/users/zhangjie", json={"roles": ["admin@town_a1"]}, headers=auth.headers("admin")
    )
    assert grant.status_code == 200 and grant.get_json()["tenant"] == "xian_a"
    scoped = auth.headers("zhangjie")
    # people of the town's subtree: managed; the sibling town's: refused; another county's: not found
    assert (
        client.put("/api/v1/users/wang", json={"display_name": "王村长"}, headers=scoped).status_code == 200
    )
    assert client.put("/api/v1/users/zhou", json={"display_name": "周"}, headers=scoped).status_code == 403
    assert client.put("/api/v1/users/b.wang", json={"display_name": "王"}, headers=scoped).status_code == 404
    # grants within the subtree only, never above itself
    ok = client.put("/api/v1/users/wang", json={"roles": ["admin@village_a1"]}, headers=scoped)
    assert ok.status_code == 200 and ok.get_json()["roles"] == ["admin@village_a1"]
    for above in (["admin"], ["admin@town_a2"], ["admin@xian_a"]):
        assert client.put("/api/v1/users/wang", json={"roles": above}, headers=scoped).status_code == 403
    bad = client.put("/api/v1/users/wang", json={"roles": ["admin@nowhere"]}, headers=auth.headers("admin"))
    assert bad.status_code == 422 and "roles" in bad.get_json()["errors"]
    across = client.put(
        "/api/v1/users/wang", json={"roles": ["admin@town_b1"]}, headers=auth.headers("admin")
    )
    assert across.status_code == 422  # a unit of another county
    assert engine.manages_unit("zhangjie", "village_a1") and not engine.manages_unit("zhangjie", "town_a2")
    assert engine.manages_unit("admin", "town_a2") and not engine.manages_unit("admin", "town_b1")
    assert engine.manages_unit("root", "town_b1")  # the installation's admin holds over every county

    # instances: the town's subtree (wang is in village_a1), not the sibling town's (zhou, town_a2)
    in_town = client.post(
        "/api/v1/process-instances", json={"process_key": "claim_evaluate"}, headers=auth.headers("wang")
    ).get_json()
    sibling = client.post(
        "/api/v1/process-instances", json={"process_key": "claim_evaluate"}, headers=auth.headers("zhou")
    ).get_json()
    assert (in_town["id"], sibling["id"]) and engine.get_instance(in_town["id"]).status == "running"
    listed = [i["id"] for i in client.get("/api/v1/process-instances", headers=scoped).get_json()["items"]]
    assert listed == [in_town["id"]]
    assert client.get(f"/api/v1/process-instances/{sibling['id']}", headers=scoped).status_code == 403
    # and administers them: cancels the town's, not the sibling town's
    cancel = lambda inst: client.post(  # noqa: E731
        f"/api/v1/process-instances/{inst['id']}/cancel", json={"reason": "重复申报"}, headers=scoped
    )
    assert cancel(sibling).status_code == 403 and cancel(in_town).get_json()["status"] == "cancelled"


def test_a_towns_leader_sees_its_units_instances_and_unit_filters_take_the_subtree(
    client: FlaskClient, auth: Auth, engine: Engine
) -> None:
    organise(engine, auth)
    with engine.store.write() as s:
        set_posts(s, "zhangjie", [PostAssignment("town_a1", "书记")])  # the town's party secretary
    starts = {
        user: client.post(
            "/api/v1/process-instances", json={"process_key": "claim_evaluate"}, headers=auth.headers(user)
        ).get_json()["id"]
        for user in ("wang", "zhou", "b.wang")
    }
    leader = auth.headers("zhangjie")
    seen = [i["id"] for i in client.get("/api/v1/process-instances", headers=leader).get_json()["items"]]
    assert seen == [starts["wang"]]  # village_a1 lies in town_a1; zhou's town_a2 does not
    assert client.get(f"/api/v1/process-instances/{starts['wang']}", headers=leader).status_code == 200

    def by_unit(user: str, path: str, unit: str) -> Any:
        return client.get(f"/api/v1/{path}?unit={unit}", headers=auth.headers(user))

    root_ids = lambda unit: [i["id"] for i in by_unit("root", "process-instances", unit).get_json()["items"]]  # noqa: E731
    assert root_ids("town_a1") == [starts["wang"]] and root_ids("town_a2") == [starts["zhou"]]
    assert set(root_ids("xian_a")) == {starts["wang"], starts["zhou"]}
    assert set(
        i["id"]
        for i in client.get("/api/v1/process-instances", headers=auth.headers("root")).get_json()["items"]
    ) == set(starts.values())  # the installation's admin sees both counties
    assert set(
        i["id"]
        for i in client.get("/api/v1/process-instances", headers=auth.headers("admin")).get_json()["items"]
    ) == {starts["wang"], starts["zhou"]}  # A's admin sees A's
    assert [t["instance_id"] for t in by_unit("wang", "tasks", "village_a1").get_json()["items"]] == [
        starts["wang"]
    ]
    assert by_unit("zhou", "tasks", "town_a1").get_json()["items"] == []
    assert by_unit("wang", "board", "town_a1").status_code == 200
    assert by_unit("b.wang", "process-instances", "town_a1").status_code == 404  # another county's unit
    assert by_unit("wang", "tasks", "nowhere").status_code == 404


def test_the_pages_show_one_tenant_only(
    client: FlaskClient, auth: Auth, engine: Engine, county_a: dict[str, str]
) -> None:
    page_login(client, engine, "b.admin")
    for page in ("/instances", "/board", "/scores?period=2026-03", "/inbox?tab=candidate"):
        text = client.get(page).get_data(as_text=True)
        assert "康渝高铁" not in text and county_a["instance_id"] not in text, page
    assert client.get(f"/instances/{county_a['instance_id']}").status_code == 404
    assert client.get(f"/tasks/{county_a['task_id']}").status_code == 404
    page_login(client, engine, "zhao")
    assert "康渝高铁" in client.get("/inbox?tab=candidate").get_data(as_text=True)


def test_installation_users_see_the_implicit_tenant_only_and_single_tenant_data_stays_usable(
    walk: HttpWalk, auth: Auth, engine: Engine, client: FlaskClient
) -> None:
    """Before any county exists everything is the implicit tenant; creating one changes nothing for it."""
    walk.submit()
    before = walk.instance_id
    organise(engine, auth)  # wang, zhao… now belong to county A; their old work stays in the implicit tenant
    auth.user("old", ["taskforce"])  # someone of the installation, in a group of the same name
    assert [
        t["instance_id"]
        for t in client.get("/api/v1/tasks?scope=candidate", headers=auth.headers("old")).get_json()["items"]
    ] == [before]
    assert client.get(f"/api/v1/process-instances/{before}", headers=auth.headers("root")).status_code == 200


def test_a_countys_oa_service_acts_only_for_its_own_people(
    client: FlaskClient, auth: Auth, engine: Engine
) -> None:
    organise(engine, auth)
    auth.user("oa_b", roles=["oa-service"])
    with engine.store.write() as s:
        set_posts(s, "oa_b", [PostAssignment("xian_b", "系统")])
    as_ = lambda person: auth.headers("oa_b", **{"X-Acting-User": person})  # noqa: E731
    assert client.get("/api/v1/users/me", headers=as_("b.wang")).get_json()["tenant"] == "xian_b"
    assert client.get("/api/v1/users/me", headers=as_("wang")).status_code == 404
    # the installation's service acts for anyone, and takes that person's tenant
    me = client.get("/api/v1/users/me", headers=auth.headers("oa", **{"X-Acting-User": "wang"})).get_json()
    assert me["tenant"] == "xian_a"
