"""Units over the API: a county's tree built, read, searched and pruned, and who may change it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engine import Engine
from engine.tables import AuditEvent, Instance
from tests.api.conftest import Auth

PING = (Path(__file__).parent / "data" / "ping.bpmn").read_bytes()  # takes any start data


def put(client: FlaskClient, auth: Auth, who: str, code: str, **body: Any) -> Any:
    return client.put(f"/api/v1/units/{code}", json=body, headers=auth.headers(who))


@pytest.fixture
def county(client: FlaskClient, auth: Auth) -> None:
    """平利县 with a town (城关镇) and one of its villages (蒋家坪村, 深度贫困村)."""
    assert put(client, auth, "admin", "pingli", name="平利县", kind="county").status_code == 200
    assert (
        put(client, auth, "admin", "chengguan", name="城关镇", kind="town", parent="pingli").status_code
        == 200
    )
    resp = put(
        client,
        auth,
        "admin",
        "jiangxi",
        name="蒋家坪村",
        kind="village",
        parent="chengguan",
        attributes={"村类别": "深度贫困村"},
    )
    assert resp.status_code == 200, resp.get_json()


def test_an_admin_builds_a_county_and_everyone_reads_it(
    client: FlaskClient, auth: Auth, engine: Engine, county: None
) -> None:
    unit = client.get("/api/v1/units/chengguan", headers=auth.headers("wang")).get_json()
    assert (unit["name"], unit["kind"], unit["parent"]) == ("城关镇", "town", "pingli")
    assert [c["code"] for c in unit["children"]] == ["jiangxi"] and unit["members"] == []
    village = client.get("/api/v1/units/jiangxi", headers=auth.headers("wang")).get_json()
    assert village["attributes"] == {"村类别": "深度贫困村"}
    page = client.get("/api/v1/units?per_page=2", headers=auth.headers("wang")).get_json()
    assert (page["total"], page["page"], page["per_page"]) == (3, 1, 2)
    assert [u["code"] for u in page["items"]] == ["pingli", "chengguan"]  # from the root down
    assert [
        u["code"]
        for u in client.get("/api/v1/units?kind=village", headers=auth.headers("wang")).get_json()["items"]
    ] == ["jiangxi"]
    assert [
        u["code"]
        for u in client.get("/api/v1/units?parent=pingli", headers=auth.headers("wang")).get_json()["items"]
    ] == ["chengguan"]
    assert [
        u["code"]
        for u in client.get("/api/v1/units?q=蒋家", headers=auth.headers("wang")).get_json()["items"]
    ] == ["jiangxi"]
    with engine.store.read() as s:
        events = s.execute(select(AuditEvent.event, AuditEvent.actor, AuditEvent.data)).all()
    assert (
        "unit.created",
        "admin",
        {"code": "jiangxi", "name": "蒋家坪村", "kind": "village", "parent": "chengguan"},
    ) in [tuple(e) for e in events]


def test_renaming_and_moving_a_unit_is_an_update(client: FlaskClient, auth: Auth, county: None) -> None:
    assert (
        put(client, auth, "admin", "laoxian", name="老县镇", kind="town", parent="pingli").status_code == 200
    )
    resp = put(client, auth, "admin", "jiangxi", name="蒋家坪村", kind="village", parent="laoxian")
    assert resp.status_code == 200 and resp.get_json()["parent"] == "laoxian"
    kids = client.get("/api/v1/units/laoxian", headers=auth.headers("wang")).get_json()["children"]
    assert [k["code"] for k in kids] == ["jiangxi"]
    assert client.get("/api/v1/units/jiangxi", headers=auth.headers("wang")).get_json()["attributes"] == {
        "村类别": "深度贫困村"
    }  # an update without attributes keeps them


@pytest.mark.parametrize(
    ("code", "body", "field"),
    [
        ("bad code", {"name": "某镇", "kind": "town", "parent": "pingli"}, "code"),
        ("x1", {"name": "某镇", "kind": "province", "parent": "pingli"}, "kind"),
        ("x1", {"name": "某镇", "kind": "town", "parent": "nowhere"}, "parent"),
        ("chengguan", {"name": "城关镇", "kind": "town", "parent": "jiangxi"}, "parent"),  # a cycle
        ("x1", {"kind": "town", "parent": "pingli"}, "name"),
    ],
)
def test_bad_units_are_refused_with_the_field_and_nothing_changes(
    client: FlaskClient, auth: Auth, county: None, code: str, body: dict[str, Any], field: str
) -> None:
    before = client.get("/api/v1/units", headers=auth.headers("admin")).get_json()
    resp = client.put(f"/api/v1/units/{code}", json=body, headers=auth.headers("admin"))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert any(field in path for path in resp.get_json()["errors"]), resp.get_json()
    assert client.get("/api/v1/units", headers=auth.headers("admin")).get_json() == before


def test_only_admins_change_units(client: FlaskClient, auth: Auth, county: None) -> None:
    assert put(client, auth, "wang", "x1", name="某镇", kind="town", parent="pingli").status_code == 403
    assert put(client, auth, "oa", "x1", name="某镇", kind="town", parent="pingli").status_code == 403
    assert client.delete("/api/v1/units/jiangxi", headers=auth.headers("wang")).status_code == 403
    assert client.get("/api/v1/units/x1", headers=auth.headers("admin")).status_code == 404


def test_a_tenant_admin_works_in_their_county_only(
    client: FlaskClient, auth: Auth, engine: Engine, county: None
) -> None:
    assert put(client, auth, "admin", "luannan", name="滦南县", kind="county").status_code == 200
    auth.user("pl_admin", roles=["admin"])
    engine.upsert_user("pl_admin", posts=[{"unit": "pingli", "post": "组织部长"}])
    me = auth.headers("pl_admin")
    assert (
        put(client, auth, "pl_admin", "laoxian", name="老县镇", kind="town", parent="pingli").status_code
        == 200
    )
    assert (
        put(client, auth, "pl_admin", "benji", name="柏各庄镇", kind="town", parent="luannan").status_code
        == 403
    )
    assert (
        put(client, auth, "pl_admin", "ankang", name="安康市", kind="county").status_code == 403
    )  # new tenants: the installation's
    assert client.get("/api/v1/units/luannan", headers=me).status_code == 404  # another county does not exist
    assert client.delete("/api/v1/units/luannan", headers=me).status_code == 404
    assert [u["code"] for u in client.get("/api/v1/units", headers=me).get_json()["items"]] == [
        "pingli",
        "chengguan",
        "jiangxi",
        "laoxian",
    ]


def test_a_unit_with_children_members_or_instances_is_not_deleted(
    client: FlaskClient, auth: Auth, engine: Engine, county: None
) -> None:
    assert client.delete("/api/v1/units/chengguan", headers=auth.headers("admin")).status_code == 409
    engine.upsert_user("zhou", posts=[{"unit": "jiangxi", "post": "村支书"}])
    assert client.delete("/api/v1/units/jiangxi", headers=auth.headers("admin")).status_code == 409
    engine.upsert_user("zhou", posts=[])
    engine.deploy({"ping.bpmn": PING})
    filed = engine.start("ping", actor="wang")
    with engine.store.write() as s:  # filed under the village, as a process recording its unit does
        row = s.get(Instance, filed.id)
        row.data = {**row.data, "unit": "jiangxi"}
    resp = client.delete("/api/v1/units/jiangxi", headers=auth.headers("admin"))
    assert resp.status_code == 409 and "instances" in resp.get_json()["detail"]
    assert client.delete("/api/v1/units/nowhere", headers=auth.headers("admin")).status_code == 404
    assert (
        put(client, auth, "admin", "laoxian", name="老县镇", kind="town", parent="pingli").status_code == 200
    )
    assert client.delete("/api/v1/units/laoxian", headers=auth.headers("admin")).status_code == 204
    assert client.get("/api/v1/units/laoxian", headers=auth.headers("admin")).status_code == 404


def test_people_get_posts_with_ranks_and_show_as_members(
    client: FlaskClient, auth: Auth, county: None
) -> None:
    resp = client.put(
        "/api/v1/users/zhou",
        json={
            "display_name": "周书记",
            "units": [
                {"unit": "chengguan", "post": "书记", "rank": "科级"},
                {"unit": "jiangxi", "post": "驻村第一书记"},
            ],
        },
        headers=auth.headers("oa"),
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["units"] == [
        {"unit": "chengguan", "post": "书记", "rank": "科级"},
        {"unit": "jiangxi", "post": "驻村第一书记", "rank": None},
    ]
    assert (
        client.get("/api/v1/users/zhou", headers=auth.headers("admin")).get_json()["units"][0]["post"]
        == "书记"
    )
    assert client.get("/api/v1/users/zhou", headers=auth.headers("wang")).status_code == 404  # not of 平利
    members = client.get("/api/v1/units/chengguan", headers=auth.headers("admin")).get_json()["members"]
    assert members == [{"username": "zhou", "display_name": "周书记", "post": "书记", "rank": "科级"}]
    resp = client.put(  # the posts are replaced, not added to
        "/api/v1/users/zhou",
        json={"units": [{"unit": "jiangxi", "post": "村支书"}]},
        headers=auth.headers("oa"),
    )
    assert [p["post"] for p in resp.get_json()["units"]] == ["村支书"]
    assert client.get("/api/v1/units/chengguan", headers=auth.headers("wang")).get_json()["members"] == []


def test_bad_posts_are_refused_and_the_user_stays_as_they_were(
    client: FlaskClient, auth: Auth, county: None
) -> None:
    before = client.get("/api/v1/users/zhou", headers=auth.headers("admin")).get_json()
    resp = client.put(
        "/api/v1/users/zhou",
        json={"display_name": "改名", "units": [{"unit": "nowhere", "post": "书记"}]},
        headers=auth.headers("admin"),
    )
    assert resp.status_code == 422 and "units.0.unit" in resp.get_json()["errors"]
    assert client.get("/api/v1/users/zhou", headers=auth.headers("admin")).get_json() == before
    resp = client.put(
        "/api/v1/users/zhou", json={"units": [{"unit": "jiangxi"}]}, headers=auth.headers("admin")
    )
    assert resp.status_code == 422


def test_a_deactivated_post_holder_loses_access_and_their_tasks_go_back_to_the_queue(
    client: FlaskClient, auth: Auth, engine: Engine, county: None, walk: Any
) -> None:
    walk.submit()
    task = walk.task("preliminary_review")
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=auth.headers("zhao")).status_code == 200
    client.put(
        "/api/v1/users/zhao",
        json={"units": [{"unit": "chengguan", "post": "镇长", "rank": "科级"}]},
        headers=auth.headers("admin"),
    )
    headers = auth.headers("zhao")
    resp = client.put("/api/v1/users/zhao", json={"active": False}, headers=auth.headers("admin"))
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert resp.get_json()["units"][0]["post"] == "镇长"  # the posts stay on record
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert engine.get_task(task["id"]).task.assignee is None
