"""总队长制 in a browser: an admin proposes a village's leader from the page, the committee confirms
(over the OA), the appointment letter is printable; the courtyard meeting's problems appear on the
red/yellow/green list with their owner by name; at a desk and on a phone (390 px)."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .test_campaigns import no_sideways_scroll, put_unit

pytestmark = pytest.mark.browser


def call(server, method: str, path: str, body: dict | None = None, *, acting: str | None = None) -> Any:
    token = server.oa_token if acting else server.admin_token
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if acting:
        headers["X-Acting-User"] = acting
    request = urllib.request.Request(
        f"{server.base_url}/api/v1{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers=headers,
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def county(server) -> None:
    put_unit(server, "bv_pingli", "平利县", "county", None)
    put_unit(server, "bv_changan", "长安镇", "town", "bv_pingli")
    put_unit(server, "bv_jtj", "县交通运输局", "department", "bv_pingli")
    body = json.dumps(
        {
            "name": "金沙河村",
            "kind": "village",
            "parent": "bv_changan",
            "attributes": {"村类别": "深度贫困村"},
        }
    )
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/units/bv_jinshahe",
        data=body.encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {server.admin_token}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=30).close()
    call(  # the county's standing committee: a person of 平利 in group committee
        server,
        "PUT",
        "/users/bv_changwei",
        {
            "display_name": "常委会",
            "groups": ["committee"],
            "units": [{"unit": "bv_pingli", "post": "县委办主任"}],
        },
    )
    call(
        server,
        "PUT",
        "/users/bv_zheng",
        {
            "display_name": "郑小东",
            "units": [{"unit": "bv_pingli", "post": "县委书记", "rank": "县级主要领导"}],
        },
    )


def wait_for(check, seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_a_leader_is_appointed_from_the_page_and_the_lists_show_the_village_problems(
    login, server, tmp_path: Path
) -> None:
    county(server)
    admin = login("admin", viewport=(1366, 768))
    admin.goto("/inbox")
    admin.locator(".mainnav a", has_text="总队长").click()
    admin.wait_for_url("**/villages")
    form = admin.locator("#propose")
    form.locator("select[name=village]").select_option(label="长安镇 金沙河村（深度贫困村）")
    form.locator("select[name=leader]").select_option(label="郑小东（县级主要领导）")
    form.locator("input[name=reason]").fill("县委常委会研究决定")
    form.locator("button[type=submit]").click()
    assert "已提交常委会审定" in admin.locator(".flash").first.inner_text()
    row = admin.locator("tr[data-village=bv_jinshahe]")
    assert "提名待审定" in row.inner_text()

    pending = next(v for v in call(server, "GET", "/villages") if v["village"] == "bv_jinshahe")[
        "pending_instance"
    ]
    task = call(server, "GET", f"/process-instances/{pending}")["open_tasks"][0]
    call(
        server,
        "POST",
        f"/tasks/{task['id']}/complete",
        {"data": {"decision": "confirm"}},
        acting="bv_changwei",
    )

    admin.reload()
    row = admin.locator("tr[data-village=bv_jinshahe]")
    assert "郑小东" in row.inner_text() and "bv_zheng" not in row.inner_text()
    assert admin.locator("#assess select[name=village] option").count() >= 1  # the year-end 考核捆绑 form
    admin.screenshot(path=str(tmp_path / "villages-desk.png"), full_page=True)
    narrow = login("admin", viewport=(390, 844))
    narrow.goto("/villages")
    assert narrow.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    narrow.screenshot(path=str(tmp_path / "villages-phone.png"), full_page=True)
    row.locator("a.letter").click()
    letter = admin.locator("#letter")
    text = letter.inner_text()
    assert (
        "任命书" in text
        and "郑小东" in text
        and "长安镇" in text
        and "金沙河村" in text
        and "深度贫困村" in text
    )
    admin.screenshot(path=str(tmp_path / "letter-desk.png"), full_page=True)
    phone = login("admin", viewport=(390, 844))
    phone.goto(admin.url)
    assert "郑小东" in phone.locator("#letter").inner_text()
    assert no_sideways_scroll(phone) <= 0
    phone.screenshot(path=str(tmp_path / "letter-phone.png"), full_page=True)

    village = call(
        server,
        "POST",
        "/process-instances",
        {
            "process_key": "village_leader",
            "data": {
                "unit": "bv_jinshahe",
                "village": "bv_jinshahe",
                "village_name": "金沙河村",
                "meeting_interval": "PT1S",
            },
        },
    )
    meeting = wait_for(
        lambda: next(
            (
                t
                for t in call(server, "GET", "/tasks?limit=50", acting="bv_zheng")["items"]
                if t["instance_id"] == village["id"] and t["element_id"] == "courtyard_meeting"
            ),
            None,
        )
    )
    problems = [{"title": "产业路不通", "description": "雨季塌方"}, {"title": "手机信号弱", "common": False}]
    call(
        server,
        "POST",
        f"/tasks/{meeting['id']}/complete",
        {"data": {"attendees": 40, "problems": problems}},
        acting="bv_zheng",
    )

    admin.goto("/villages/problems?village=bv_jinshahe")
    table = admin.locator("#problems")
    assert table.locator("tbody tr[data-colour=untriaged]").count() == 2
    assert "产业路不通" in table.inner_text() and "郑小东" in table.inner_text()
    assert "bv_zheng" not in table.inner_text()
    admin.locator("#filters select[name=colour]").select_option(label="红")
    admin.locator("#filters button[type=submit]").click()
    assert "没有未办结的问题" in admin.locator("#problems").inner_text()
    admin.goto("/villages/problems?village=bv_jinshahe")
    admin.screenshot(path=str(tmp_path / "problems-desk.png"), full_page=True)
    phone.goto("/villages/problems?village=bv_jinshahe&lang=en")
    assert "Red/yellow/green problem list" in phone.inner_text("h1")
    phone.screenshot(path=str(tmp_path / "problems-phone.png"), full_page=True)
    admin.goto("/designer/village_problem?version=1")
    admin.wait_for_selector(".djs-element[data-element-id=triage]")
    assert admin.locator(".djs-shape").count() > 20  # the shipped diagram is drawn, lanes and all
    admin.screenshot(path=str(tmp_path / "village-problem-diagram.png"), full_page=True)
    assert admin.js_errors == [] and phone.js_errors == []
    print(f"screenshots in {tmp_path}")
