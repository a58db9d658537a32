"""The designer: the modeler opens the latest version; a renamed task validates and deploys as a new version,
both through the REST API (the page has no deploy endpoint of its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NEW_NAME = "申报问题（新版） Submit problem v2"


def test_rename_a_task_and_deploy_a_new_version(login, tmp_path: Path) -> None:
    admin = login("admin")
    admin.goto("/designer")
    row = admin.locator("tr[data-key='claim_evaluate']")
    before = int(row.get_attribute("data-latest"))
    row.locator("a.button", has_text="编辑").click()
    admin.wait_for_selector("#modeler[data-ready='1']")
    assert admin.locator("#modeler .djs-element[data-element-id='submit_problem']").count() == 1
    admin.locator(".tab[data-pane^='pane-dmn']").first.click()
    admin.wait_for_selector(".dmn-editor[data-ready='1']")
    admin.locator(".tab[data-pane='pane-bpmn']").click()

    admin.evaluate(
        """name => { const m = window.jbModeler;
                     m.get('modeling').updateLabel(m.get('elementRegistry').get('submit_problem'), name); }""",
        NEW_NAME,
    )
    with admin.expect_response("**/api/v1/process-definitions/validate") as checked:
        admin.click("#validate")
    assert checked.value.status == 200 and checked.value.request.headers.get("x-csrf-token")
    admin.wait_for_selector("#designer-status[data-result]")
    assert admin.get_attribute("#designer-status", "data-result") == "valid", admin.inner_text("#problems")
    admin.screenshot(path=str(tmp_path / "designer.png"))

    with admin.expect_response(
        lambda r: r.url.endswith("/api/v1/process-definitions") and r.request.method == "POST"
    ) as deployed:
        admin.click("#deploy")
    assert deployed.value.status == 201
    admin.wait_for_url("**/designer?deployed=**")
    row = admin.locator("tr[data-key='claim_evaluate']")
    assert int(row.get_attribute("data-latest")) == before + 1
    version = row.locator(f"li.version[data-version='{before + 1}']")
    assert version.count() == 1
    xml = admin.request.get(version.locator("a[download]", has_text=".bpmn").get_attribute("href")).text()
    assert NEW_NAME in xml
    admin.screenshot(path=str(tmp_path / "designer-list.png"))
    assert admin.js_errors == [], admin.js_errors


def test_validate_pins_problems_to_their_elements(login, tmp_path: Path) -> None:
    admin = login("admin")
    admin.goto("/designer/claim_evaluate")
    admin.wait_for_selector("#modeler[data-ready='1']")
    # a condition that is not an expression: the server names the sequence flow that carries it
    admin.evaluate(
        """() => { const m = window.jbModeler; const flow = m.get('elementRegistry').get('flow_report_final');
                   const expr = m.get('moddle').create('bpmn:FormalExpression', { body: 'final ==== ' });
                   m.get('modeling').updateProperties(flow, { conditionExpression: expr }); }"""
    )
    with admin.expect_response("**/api/v1/process-definitions/validate") as checked:
        admin.click("#validate")
    assert checked.value.status == 422 and checked.value.headers["content-type"].startswith(
        "application/problem+json"
    )
    admin.wait_for_selector("#designer-status[data-result]")
    assert admin.get_attribute("#designer-status", "data-result") == "problems"
    assert admin.locator("#problems li[data-element-id='flow_report_final']").count() >= 1
    assert admin.locator(".djs-element.jb-problem[data-element-id='flow_report_final']").count() == 1
    assert admin.locator(".jb-problem-note").count() >= 1
    admin.screenshot(path=str(tmp_path / "designer-problems.png"))
