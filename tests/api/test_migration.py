"""Moving instances over HTTP: an admin dry-runs, then moves; bad input is 422 and changes nothing,
nobody but an admin moves anything, and another county's instances do not exist for them."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine import Engine
from tests.engine.test_migration import V1, V2_ARCHIVE, V3_RENAMED

from .conftest import Auth, page_login


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


def test_the_page_shows_where_instances_wait_then_dry_runs_and_moves_in_words(
    client: FlaskClient, auth: Auth, engine: Engine
) -> None:
    iid = leave_request(engine, V3_RENAMED)
    engine.add_comment(engine.get_instance(iid).open_tasks[0].id, "wang", "请尽快")
    page_login(client, engine, "admin", csrf_token="t")

    listing = client.get("/designer").get_data(as_text=True)
    assert "/designer/leave/migrate?to=2" in listing and "迁移实例到 v2" in listing
    page = client.get("/designer/leave/migrate?to=2").get_data(as_text=True)
    assert "v1 上在办的实例：1 个" in page
    assert '<td data-label="停在环节">审核</td>' in page and "新版本没有这个环节，请指定：" in page
    assert '<option value="check">复核</option>' in page  # the new version's steps by name

    form = {"csrf_token": "t", "from": "1", "to": "2", "action": "dry_run", "map-review": ""}
    dry = client.post("/designer/leave/migrate", data=form).get_data(as_text=True)
    assert "试运行结果：0 个可以迁移，1 个不能迁移" in dry
    assert "“审核”正在等待办理，但新版本没有对应环节，请为它指定新环节" in dry
    assert "is waiting" not in dry  # the page's language only
    assert f'<a href="/instances/{iid}">请假（' in dry  # the instance by its process and start, not its id

    form.update(action="migrate", **{"map-review": "check"})
    moved = client.post("/designer/leave/migrate", data=form).get_data(as_text=True)
    assert "已迁移 1 个实例（共 1 个）" in moved and "复核" in moved
    assert engine.get_instance(iid).version == 2

    english = client.get("/designer/leave/migrate?to=2&lang=en").get_data(as_text=True)
    assert "Move instances" in english and "Instances running on v1: 0" in english

    page_login(client, engine, "wang")
    assert client.get("/designer/leave/migrate").status_code in (302, 403)
