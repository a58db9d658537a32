"""An admin finds a process stopped by an error from the instance list, reads why in words with
the data it had, changes the wrong value and retries; the process goes on. Desk and phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from .steps import api, deploy
from .test_walk import keep

pytestmark = pytest.mark.browser

DIVIDE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="divide_budget" name="NAME_PROCESS" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startVariables" value="title,budget,people" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="divide" />
    <bpmn:scriptTask id="divide" name="NAME_STEP"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>share = budget / people</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="divide" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


# Names people would type (the page walk knows them as typed text): the designer's content.
DIVIDE = DIVIDE.replace(b"NAME_PROCESS", "镇财政保障工作经费".encode()).replace(b"NAME_STEP", "谈判".encode())


def test_an_admin_repairs_and_retries_a_stopped_process(server, login, tmp_path: Path) -> None:
    deploy(server, {"divide_budget.bpmn": DIVIDE})
    admin = login("admin")
    started = api(
        admin,
        "POST",
        "/process-instances",
        {"process_key": "divide_budget", "data": {"title": "村道修缮经费", "budget": 9000, "people": 0}},
    )
    assert started["status"] == "error"

    admin.goto("/instances")
    admin.locator(".stopped-instances a", has_text="查看并修复").click()
    panel = admin.locator(f".incident:has(a[href='/instances/{started['id']}'])")
    assert "谈判" in panel.locator(".step").inner_text()
    assert "除以了零" in panel.locator(".reason").inner_text()
    panel.locator("summary").click()
    assert "people" in panel.inner_text()
    keep(admin, tmp_path, "incidents.png")

    panel.locator("input[name=name]").fill("people")
    panel.locator("input[name=value]").fill("3")
    panel.locator("input[name=comment]").fill("人数录入为 0，应为 3")
    panel.locator("form.repair button[type=submit]").click()
    assert "已修改" in admin.inner_text(".flash")

    admin.once("dialog", lambda dialog: dialog.accept())
    admin.locator(f".incident:has(a[href='/instances/{started['id']}']) button.retry").click()
    admin.wait_for_selector(".flash")
    assert "已重试" in admin.inner_text(".flash")
    after = api(admin, "GET", f"/process-instances/{started['id']}")
    assert after["status"] == "completed" and after["data"]["share"] == 3000

    admin.goto(f"/instances/{started['id']}")
    history = admin.inner_text("body")
    assert "管理员修改流程数据" in history and "修复后重新运行" in history

    phone = login("admin", viewport=(390, 844))
    again = api(
        phone,
        "POST",
        "/process-instances",
        {"process_key": "divide_budget", "data": {"title": "桥梁维修", "budget": 100, "people": 0}},
    )
    phone.goto(f"/instances/{again['id']}")
    assert (
        phone.locator(".flash.stopped").count() == 1 and phone.locator(".incident button.retry").count() == 1
    )
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.wait_for_selector(
        "#diagram[data-ready='error']"
    )  # drawn by hand, without layout: said so in Chinese
    assert "没有布局信息" in phone.inner_text("#diagram")
    phone.screenshot(path=str(tmp_path / "incident-phone.png"), full_page=True)
    api(phone, "POST", f"/process-instances/{again['id']}/cancel", {"reason": "不再需要"})
    assert admin.js_errors == [] and phone.js_errors == []
