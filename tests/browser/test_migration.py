"""An admin moves running leave requests to a new version from the designer: sees where they wait
by step name, dry-runs and reads in words why one cannot move, picks the renamed step for it, and
moves both after confirming. Desk and phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.test_migration import V1, V3_RENAMED

from .steps import api, deploy
from .test_walk import keep

pytestmark = pytest.mark.browser


def own_key(xml: bytes) -> bytes:
    """The leave process under a key of this test's own (the server is shared by the session),
    started with a title as people give one."""
    xml = xml.replace('id="leave" name="请假"'.encode(), 'id="leave_move" name="调休申请"'.encode())
    xml = xml.replace(
        b'id="d_leave"', b'id="d_leave" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
    )
    return xml.replace(
        b'<bpmn:startEvent id="start" />',
        b'<bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>'
        b'<spiffworkflow:property name="startVariables" value="title" /></spiffworkflow:properties>'
        b"</bpmn:extensionElements></bpmn:startEvent>",
    )


def test_an_admin_dry_runs_then_moves_running_requests(server, login, tmp_path: Path) -> None:
    deploy(server, {"leave_move.bpmn": own_key(V1)})
    wang = login("wang")
    at_review = api(
        wang, "POST", "/process-instances", {"process_key": "leave_move", "data": {"title": "张杰调休三天"}}
    )
    at_approve = api(
        wang, "POST", "/process-instances", {"process_key": "leave_move", "data": {"title": "李明补休一天"}}
    )
    api(wang, "POST", f"/tasks/{at_approve['open_tasks'][0]['id']}/complete", {"data": {}})
    deploy(server, {"leave_move.bpmn": own_key(V3_RENAMED)})

    admin = login("admin", viewport=(1366, 900))
    admin.goto("/designer")
    admin.locator("tr[data-key='leave_move'] a.migrate", has_text="迁移实例到 v2").click()
    waiting = admin.locator("table.migrate-waiting")
    assert "审核" in waiting.locator("tr[data-element='review']").inner_text()
    assert "新版本没有这个环节" in waiting.locator("tr[data-element='review']").inner_text()
    assert "同一环节" in waiting.locator("tr[data-element='approve']").inner_text()

    admin.locator("button[value=dry_run]").click()
    result = admin.locator(".migrate-result")
    assert "试运行结果：1 个可以迁移，1 个不能迁移" in result.locator("h2").inner_text()
    refused = result.locator(f"tr[data-instance='{at_review['id']}']")
    assert "不能迁移，保持原样" in refused.inner_text()
    assert "“审核”正在等待办理，但新版本没有对应环节" in refused.inner_text()
    assert "张杰调休三天" in refused.inner_text() and "王科长" in refused.inner_text()
    assert at_review["id"] not in refused.inner_text()
    keep(admin, tmp_path, "migrate-dry-run.png")
    assert api(admin, "GET", f"/process-instances/{at_review['id']}")["version"] == 1  # nothing moved

    phone = login("admin", viewport=(390, 844))
    phone.goto("/designer/leave_move/migrate?to=2")
    phone.locator("button[value=dry_run]").click()
    assert phone.locator(".migrate-result").is_visible()
    keep(phone, tmp_path, "migrate-dry-run-phone.png")

    admin.locator("select[name='map-review']").select_option(label="复核")
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.locator("button[value=migrate]").click()
    admin.wait_for_selector(".migrate-result")
    assert "已迁移 2 个实例（共 2 个）" in admin.locator(".migrate-result h2").inner_text()
    keep(admin, tmp_path, "migrate-done.png")
    moved = api(admin, "GET", f"/process-instances/{at_review['id']}")
    assert moved["version"] == 2 and moved["open_tasks"][0]["name"] == "复核"
