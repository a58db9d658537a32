"""Moving instances over HTTP: an admin dry-runs, then moves; bad input is 422 and changes nothing,
nobody but an admin moves anything, and another county's instances do not exist for them."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine import Engine
from tests.engine.test_migration import V1, V2_ARCHIVE, V3_RENAMED

from .conftest import Auth


def leave_request(engine: Engine, *versions: bytes) -> str:
    """wang's leave request, waiting at review in version 1; then the later versions deployed."""
    engine.deploy({"leave.bpmn": V1}, actor="admin")
    iid = engine.start("leave", actor="wang").id
    for xml in versions:
        engine.deploy({"leave.bpmn": xml}, actor="admin")
    return iid


def test_a_dry_run_then_the_move(client: FlaskClient, auth: Auth, engine: Engine) -> None:
    iid = leave_request(engine, V3_RENAMED)
    body = {"process_key": "leave", "from_version": 1, "to_version": 2, "dry_run": True}

    dry = client.post("/api/v1/process-instances/migrate", json=body, headers=auth.headers("admin"))
    assert dry.status_code == 200
    answer = dry.get_json()
    assert (answer["moved"], answer["total"]) == (0, 1)
    [item] = answer["items"]
    assert item["id"] == iid and item["ok"] is False
    assert [(p["element_id"], p["kind"], p["blocking"]) for p in item["problems"]] == [
        ("review", "no_target", True)
    ]

    body.update(dry_run=False, mapping={"review": "check"})
    moved = client.post("/api/v1/process-instances/migrate", json=body, headers=auth.headers("admin"))
    assert moved.get_json() == {
        "items": [{"id": iid, "ok": True, "problems": []}],
        "moved": 1,
        "total": 1,
        "dry_run": False,
    }
    shown = client.get(f"/api/v1/process-instances/{iid}", headers=auth.headers("wang")).get_json()
    assert shown["version"] == 2 and shown["open_tasks"][0]["element_id"] == "check"


def test_bad_input_is_422_and_changes_nothing(client: FlaskClient, auth: Auth, engine: Engine) -> None:
    iid = leave_request(engine, V3_RENAMED)
    admin = auth.headers("admin")
    for body in (
        {"process_key": "leave", "from_version": 1, "to_version": 9},  # no such version
        {"process_key": "absent", "from_version": 1, "to_version": 2},  # no such process
        {"process_key": "leave", "from_version": 1, "to_version": 2, "mapping": {"review": "nothing"}},
        {"process_key": "leave", "from_version": 1, "to_version": 1},
        {"process_key": "leave", "from_version": 1},
    ):
        refused = client.post("/api/v1/process-instances/migrate", json=body, headers=admin)
        assert refused.status_code == 422, body
        assert refused.mimetype == "application/problem+json"
    assert engine.get_instance(iid).version == 1


def test_only_admins_move_instances(client: FlaskClient, auth: Auth, engine: Engine) -> None:
    iid = leave_request(engine, V2_ARCHIVE)
    body = {"process_key": "leave", "from_version": 1, "to_version": 2}
    for who in ("wang", "zhao", "oa"):
        refused = client.post("/api/v1/process-instances/migrate", json=body, headers=auth.headers(who))
        assert refused.status_code == 403, who
    assert engine.get_instance(iid).version == 1


def test_another_countys_instances_are_404(client: FlaskClient, auth: Auth, engine: Engine) -> None:
    engine.put_unit("xian_a", name="甲县", kind="county", actor="admin")
    engine.put_unit("xian_b", name="乙县", kind="county", actor="admin")
    engine.upsert_user("b_clerk", posts=[{"unit": "xian_b", "post": "科员"}])
    auth.user("a_admin", roles=["admin"])
    engine.upsert_user("a_admin", posts=[{"unit": "xian_a", "post": "管理员"}])
    engine.deploy({"leave.bpmn": V1}, actor="admin")
    theirs = engine.start("leave", actor="b_clerk").id
    engine.deploy({"leave.bpmn": V2_ARCHIVE}, actor="admin")

    body = {"process_key": "leave", "from_version": 1, "to_version": 2, "instance_ids": [theirs]}
    refused = client.post("/api/v1/process-instances/migrate", json=body, headers=auth.headers("a_admin"))
    assert refused.status_code == 404
    assert engine.get_instance(theirs).version == 1
