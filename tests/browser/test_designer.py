"""The designer: the modeler opens the latest version; its properties panel edits Jiebang's extension
properties as fields; a renamed task validates and, once the confirmation listing the changes is
accepted, deploys as a new version, both through the REST API (the page has no deploy endpoint of its
own); refusals speak the page's language; the page writes nothing to the console."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.engine.test_definition_diff import FORM, PING, ping_v2

from .steps import api, deploy, redeploy_shipped, start, submit
from .test_walk import keep

pytestmark = pytest.mark.browser

NEW_NAME = "申报问题（新版）"


@pytest.fixture
def shipped_afterwards(server):
    """The test deploys a changed claim_evaluate; the tests after it on this server get the shipped one back."""
    yield
    redeploy_shipped(server)


def test_rename_a_task_and_deploy_a_new_version(login, tmp_path: Path, shipped_afterwards) -> None:
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

    admin.click("#deploy")
    admin.wait_for_selector("#deploy-confirm[open]")
    changed = admin.locator("#deploy-changes [data-kind='changed'] li[data-element-id='submit_problem']")
    assert NEW_NAME in changed.inner_text()
    with admin.expect_response(
        lambda r: r.url.endswith("/api/v1/process-definitions") and r.request.method == "POST"
    ) as deployed:
        admin.click("#deploy-confirm-button")
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


def _open_designer(page) -> None:
    page.goto("/designer/claim_evaluate")
    page.wait_for_selector("#modeler[data-ready='1']")


def _saved_xml(page) -> str:
    return page.evaluate("() => window.jbModeler.saveXML({ format: true }).then(r => r.xml)")


def _element_xml(xml: str, element_id: str) -> str:
    start = xml.index(f'id="{element_id}"')
    return xml[start : xml.index("</bpmn:userTask>", start)]


def test_the_panel_sets_a_tasks_form_and_signing_without_touching_xml(login, tmp_path: Path) -> None:
    admin = login("admin")
    _open_designer(admin)
    admin.locator("#modeler .djs-element[data-element-id='preliminary_review']").click()
    panel = admin.locator("#properties")
    assert "初审" in panel.locator(".bio-properties-panel-header").inner_text()
    assert panel.locator("[data-group-id='group-jiebang-task']").inner_text().startswith("办理设置")

    panel.locator("[data-entry-id='jiebang-formJsonSchemaFilename'] select").select_option(
        "acceptance.schema.json"
    )
    panel.locator("[data-entry-id='jiebang-approvalMode'] select").select_option("ratio")
    ratio = panel.locator("[data-entry-id='jiebang-ratio'] input")
    ratio.fill("0.6")
    panel.locator("[data-entry-id='jiebang-approvers'] input").fill("reviewers")
    panel.locator("[data-entry-id='jiebang-timeout'] input").fill("P3D")
    admin.wait_for_timeout(600)  # the panel writes text fields after a short pause in typing
    assert "即 3 天" in panel.locator("[data-entry-id='jiebang-timeout']").inner_text()
    keep(admin, tmp_path, "designer.png")
    panel.locator("[data-entry-id='jiebang-timeoutAction'] select").select_option("approve")
    panel.locator("[data-entry-id='jiebang-dueIn'] input").fill("14 days")
    admin.wait_for_timeout(600)
    assert (
        "ISO 8601"
        in panel.locator("[data-entry-id='jiebang-dueIn'] .bio-properties-panel-error").inner_text()
    )

    task = _element_xml(_saved_xml(admin), "preliminary_review")
    for name, value in (
        ("formJsonSchemaFilename", "acceptance.schema.json"),
        ("approvalMode", "ratio:0.6"),
        ("approvers", "reviewers"),
        ("timeout", "P3D"),
        ("timeoutAction", "approve"),
    ):
        assert f'<spiffworkflow:property name="{name}" value="{value}" />' in task, (name, task)
    assert 'name="dueIn"' not in task  # a value the engine would refuse is never written
    assert "<spiffworkflow:instructionsForEndUser>" in task  # what the panel did not touch stays

    # the lanes: the Committee's tasks go to one person instead of the group
    admin.evaluate(
        """() => { const m = window.jbModeler;
                   m.get('selection').select(m.get('elementRegistry').get('participant_claim_evaluate')); }"""
    )
    # the task force's review goes to the 书记 of the filing unit (a post, not a group)
    force = panel.locator(
        "[data-group-id='group-jiebang-process'] [data-entry-id$='-kind']", has_text="TaskForce"
    )
    force.locator("select").select_option("post")
    force_target = force.get_attribute("data-entry-id").replace("-kind", "-target")
    panel.locator(f"[data-entry-id='{force_target}'] input").fill("书记")
    admin.wait_for_timeout(600)
    assert (
        "职务@" in panel.locator(f"[data-entry-id='{force_target}'] .bio-properties-panel-error").inner_text()
    )
    panel.locator(f"[data-entry-id='{force_target}'] input").fill("书记@data:unit")
    admin.wait_for_timeout(600)
    assert '<spiffworkflow:property name="lane:TaskForce" value="post:书记@data:unit" />' in _saved_xml(admin)

    lane = panel.locator(
        "[data-group-id='group-jiebang-process'] [data-entry-id$='-kind']", has_text="Committee"
    )
    lane.locator("select").select_option("user")
    target_id = lane.get_attribute("data-entry-id").replace("-kind", "-target")
    panel.locator(f"[data-entry-id='{target_id}'] input").fill("sun")
    admin.wait_for_timeout(600)
    assert '<spiffworkflow:property name="lane:Committee" value="user:sun" />' in _saved_xml(admin)

    # renaming the lane keeps its rule under the new name
    admin.evaluate(
        """() => { const m = window.jbModeler;
                   m.get('modeling').updateLabel(m.get('elementRegistry').get('lane_committee'), 'PartyCommittee'); }"""
    )
    xml = _saved_xml(admin)
    assert 'name="lane:PartyCommittee" value="user:sun"' in xml and 'name="lane:Committee"' not in xml
    admin.evaluate("() => window.jbModeler.get('commandStack').undo()")

    # undo takes a panel change back whole
    admin.evaluate("() => window.jbModeler.get('commandStack').undo()")
    assert 'name="lane:Committee" value="user:sun"' not in _saved_xml(admin)

    # a gateway's outgoing condition is a field too
    condition = panel.locator("[data-entry-id='jiebang-condition-expression'] textarea")
    for attempt in range(3):  # on a loaded machine a selection made mid-render can be lost: select again
        admin.evaluate(
            """() => { const m = window.jbModeler;
                       m.get('selection').select(m.get('elementRegistry').get('flow_review_approve')); }"""
        )
        try:
            condition.wait_for(timeout=5000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    assert condition.input_value() == "decision == 'approve'"
    condition.fill("decision == 'approve' and bool(title)")
    admin.wait_for_timeout(600)
    assert "decision == 'approve' and bool(title)</bpmn:conditionExpression>" in _saved_xml(admin)

    # the engine accepts what the panel wrote
    with admin.expect_response("**/api/v1/process-definitions/validate") as checked:
        admin.click("#validate")
    assert checked.value.status == 200, admin.inner_text("#problems")
    assert admin.js_errors == [], admin.js_errors


def test_the_panel_keeps_every_spiffworkflow_extension_of_the_shipped_diagram(login) -> None:
    admin = login("admin")
    _open_designer(admin)
    original = admin.evaluate("() => JSON.parse(document.getElementById('designer-files').textContent).bpmn")
    original = next(iter(original.values()))
    saved = _saved_xml(admin)
    for tag in ("properties", "property", "instructionsForEndUser", "messageVariable", "calledDecisionId"):
        assert saved.count(f"<spiffworkflow:{tag}") == original.count(f"<spiffworkflow:{tag}"), tag
    assert not admin.locator("#designer-status[data-result='warnings']").count()


def test_deploy_asks_first_and_lists_what_changed(login, tmp_path: Path) -> None:
    admin = login("admin")
    _open_designer(admin)
    deploys: list[str] = []
    admin.on(
        "request",
        lambda r: (
            deploys.append(r.url) if r.method == "POST" and r.url.endswith("/process-definitions") else None
        ),
    )
    admin.locator("#modeler .djs-element[data-element-id='acceptance']").click()
    admin.locator("#properties [data-entry-id='jiebang-approvalMode'] select").select_option("all")
    admin.evaluate(
        """() => { const m = window.jbModeler; const r = m.get('elementRegistry');
                   m.get('modeling').appendShape(r.get('flag_overdue'), { type: 'bpmn:Task' }); }"""
    )
    admin.click("#deploy")
    dialog = admin.locator("#deploy-confirm[open]")
    dialog.wait_for()
    assert "部署为 v" in dialog.locator("h2").inner_text()
    changed = dialog.locator("[data-kind='changed'] li[data-element-id='acceptance']")
    assert "审批方式" in changed.inner_text() and "会签（全部同意）" in changed.inner_text()
    assert dialog.locator("[data-kind='added'] li").count() >= 1  # the new task and its flow
    assert admin.locator(".djs-element.jb-diff-changed[data-element-id='acceptance']").count() == 1
    keep(admin, tmp_path, "designer-deploy.png")

    admin.click("#deploy-cancel")
    assert not admin.locator("#deploy-confirm[open]").count()
    assert admin.locator(".djs-element.jb-diff-changed").count() == 0
    admin.wait_for_timeout(300)
    assert deploys == []  # cancelling deploys nothing
    assert admin.js_errors == [], admin.js_errors


def test_a_diagram_the_engine_refuses_is_explained_in_chinese(login) -> None:
    admin = login("admin")
    _open_designer(admin)
    # a FEEL condition that cannot be turned into Python
    admin.evaluate(
        """() => { const m = window.jbModeler; const flow = m.get('elementRegistry').get('flow_report_final');
                   const expr = m.get('moddle').create('bpmn:FormalExpression',
                     { body: 'some x in reports satisfies x.final', language: 'FEEL' });
                   m.get('modeling').updateProperties(flow, { conditionExpression: expr }); }"""
    )
    admin.click("#deploy")
    admin.wait_for_selector("#deploy-confirm[open]")
    with admin.expect_response(
        lambda r: r.url.endswith("/api/v1/process-definitions") and r.request.method == "POST"
    ) as refused:
        admin.click("#deploy-confirm-button")
    assert refused.value.status == 422
    admin.wait_for_selector("#designer-status[data-result='failed']")
    status = admin.inner_text("#designer-status")
    assert status.startswith("部署失败") and not re.search(r"[A-Za-z]{4,}", status), status
    problem = admin.locator("#problems li[data-element-id='flow_report_final']")
    assert problem.get_attribute("data-code") == "unsupported-expression-language"
    assert "条件表达式无法转换为 Python" in problem.inner_text()
    assert "cannot be translated" not in admin.inner_text("main")


def test_the_designer_writes_nothing_to_the_console_and_leaves_the_start_event_visible(login) -> None:
    admin = login("admin")
    messages: list[str] = []
    admin.on(
        "console",
        lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    _open_designer(admin)
    admin.locator("#modeler .djs-element[data-element-id='submit_problem']").click()
    admin.locator(".tab[data-pane^='pane-dmn']").first.click()
    admin.wait_for_selector(".dmn-editor[data-ready='1']")
    admin.locator(".tab[data-pane='pane-bpmn']").click()
    admin.wait_for_timeout(300)
    assert messages == [] and admin.js_errors == [], messages + admin.js_errors

    palette = admin.locator("#modeler .djs-palette").bounding_box()
    start = admin.locator("#modeler .djs-element[data-element-id='start']").bounding_box()
    assert start["x"] > palette["x"] + palette["width"], (start, palette)


def test_the_panel_edits_a_tasks_english_name_under_its_name(login, tmp_path: Path) -> None:
    admin = login("admin")
    _open_designer(admin)
    admin.locator("#modeler .djs-element[data-element-id='preliminary_review']").click()
    general = admin.locator("#properties [data-group-id='group-general']")
    if not general.locator("[data-entry-id='jiebang-name_en']").is_visible():
        general.locator(".bio-properties-panel-group-header").click()
    entry = general.locator("[data-entry-id='jiebang-name_en']")
    assert entry.locator("label").inner_text() == "英文名称"
    assert entry.locator("input").input_value() == "Preliminary review"
    keep(admin, tmp_path, "designer-name-en.png")

    entry.locator("input").fill("Preliminary check")
    admin.wait_for_timeout(600)  # the panel writes text fields after a short pause in typing
    task = _element_xml(_saved_xml(admin), "preliminary_review")
    assert '<spiffworkflow:property name="name_en" value="Preliminary check" />' in task
    assert 'name="初审"' in task  # the Chinese name stays the element's name

    entry.locator("input").fill("x" * 201)
    admin.wait_for_timeout(600)
    assert "200" in entry.locator(".bio-properties-panel-error").inner_text()
    assert 'value="Preliminary check"' in _saved_xml(
        admin
    )  # a value the engine would refuse is never written

    entry.locator("input").fill("")
    admin.wait_for_timeout(600)
    assert 'name="name_en"' not in _element_xml(_saved_xml(admin), "preliminary_review")


def test_the_panel_speaks_english_under_lang_en(login) -> None:
    admin = login("admin")
    admin.goto("/designer/claim_evaluate?lang=en")
    admin.wait_for_selector("#modeler[data-ready='1']")
    admin.locator("#modeler .djs-element[data-element-id='preliminary_review']").click()
    panel = admin.locator("#properties")
    assert "Approval mode" in panel.inner_text() and "审批方式" not in panel.inner_text()
    assert "Deploy" in admin.inner_text(".toolbar")


def laid_out(xml: str) -> str:
    """The diagram with shapes in a row and straight edges, as a modeler would save it."""
    nodes = re.findall(r'<bpmn:(?:startEvent|intermediateCatchEvent|userTask|endEvent) id="(\w+)"', xml)
    flows = re.findall(r'<bpmn:sequenceFlow id="(\w+)" sourceRef="(\w+)" targetRef="(\w+)"', xml)
    x = {node: 100 + 160 * i for i, node in enumerate(nodes)}
    shapes = "".join(
        f'<bpmndi:BPMNShape id="{n}_di" bpmnElement="{n}"><dc:Bounds x="{x[n]}" y="80" width="100" height="80" /></bpmndi:BPMNShape>'
        for n in nodes
    )
    edges = "".join(
        f'<bpmndi:BPMNEdge id="{f}_di" bpmnElement="{f}"><di:waypoint x="{x[a] + 100}" y="120" /><di:waypoint x="{x[b]}" y="120" /></bpmndi:BPMNEdge>'
        for f, a, b in flows
    )
    namespaces = (
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    )
    xml = xml.replace("<bpmn:definitions ", f"<bpmn:definitions {namespaces}", 1)
    plane = f'<bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="p" bpmnElement="ping">{shapes}{edges}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>'
    return xml.replace("</bpmn:definitions>", plane + "</bpmn:definitions>")


# Names people would type (those the page walk knows as typed text), not the engine test's English ones.
TYPED_NAMES = {"Ping": "三个月签约", "Wait": "摸排", "Answer": "谈判", "Reply": "签约", "Check": "符合条件"}


def in_chinese(xml: str) -> str:
    for english, chinese in TYPED_NAMES.items():
        xml = xml.replace(f'name="{english}"', f'name="{chinese}"')
    return xml


def test_two_versions_compared_side_by_side(login, server, tmp_path: Path) -> None:
    """The owner deploys ping twice (a renamed task, a new check step) and compares: the new step
    is green on the new diagram, the renamed one amber on both, and the table says it in words."""
    deploy(server, {"ping.bpmn": laid_out(in_chinese(PING)).encode()})
    deploy(
        server,
        {
            "ping.bpmn": laid_out(in_chinese(ping_v2())).encode(),
            "reply.schema.json": json.dumps(FORM).encode(),
        },
    )
    admin = login("admin")
    admin.goto("/designer")
    row = admin.locator("tr[data-key='ping']")
    row.locator("a", has_text="与 v1 比较").click()
    admin.wait_for_selector("#diagram-old[data-ready='1']")
    admin.wait_for_selector("#diagram-new[data-ready='1']")

    assert admin.locator("#diagram-new .djs-element.jb-diff-added[data-element-id='check']").count() == 1
    assert admin.locator("#diagram-new .djs-element.jb-diff-changed[data-element-id='answer']").count() == 1
    assert admin.locator("#diagram-old .djs-element.jb-diff-changed[data-element-id='answer']").count() == 1
    assert "新增 2 处，删除 0 处，修改 3 处" in admin.inner_text(".compare-summary")
    answer = admin.inner_text("tr.changed[data-element='answer']")
    assert "谈判" in answer and "签约" in answer and "办理期限" in answer
    keep(admin, tmp_path, "designer-compare.png")

    phone = login("admin", viewport=(390, 844))
    phone.goto("/designer/ping/compare")
    phone.wait_for_selector("#diagram-new[data-ready='1']")
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(tmp_path / "designer-compare-phone.png"), full_page=True)
    assert admin.js_errors == [] and phone.js_errors == []


def test_a_token_plays_through_the_diagram_before_deploying(login, tmp_path: Path) -> None:
    admin = login("admin")
    _open_designer(admin)
    toggle = admin.locator(".bts-toggle-mode")
    assert toggle.inner_text().strip() == "模拟运行"  # the plug-in's words in the page's language

    toggle.click()
    admin.evaluate(  # legible, the start event in view: the plug-in hides its pads on a zoomed-out diagram
        """() => { const c = window.jbModeler.get('canvas'); const s = window.jbModeler.get('elementRegistry').get('start');
                   c.zoom(1); c.scrollToElement(s); }"""
    )
    start = admin.locator(".djs-overlays[data-container-id='start'] .bts-context-pad:not(.hidden)").first
    start.wait_for()
    start.click()
    admin.wait_for_function(
        "() => [...document.querySelectorAll('.bts-log .bts-text, .bts-notification .bts-text')]"
        ".some(e => e.textContent.includes('流程开始'))",
        timeout=10_000,
    )
    keep(admin, tmp_path, "designer-simulation.png")
    texts = admin.evaluate("() => [...document.querySelectorAll('.bts-palette [title]')].map(e => e.title)")
    assert texts and all(not any(c.isascii() and c.isalpha() for c in t) for t in texts), texts

    toggle.click()  # back to editing: the diagram is unchanged
    assert "<bpmn:startEvent" in _saved_xml(admin)
    assert admin.js_errors == [], admin.js_errors


def test_the_heatmap_colours_where_work_waits(login, tmp_path: Path) -> None:
    admin = login("admin")
    started = {"id": start(admin, "HEAT-1", "村道硬化")}
    submit(admin, started["id"], "村道硬化")  # one done; the preliminary review now waits

    admin.goto("/designer")
    admin.locator("tr[data-key='claim_evaluate'] a.analytics").click()
    admin.wait_for_selector("#heatmap[data-ready='1']")

    done = admin.locator(".djs-overlays[data-container-id='submit_problem'] .jb-heat-badge")
    assert "办完" in done.inner_text()
    waiting = admin.locator(".djs-overlays[data-container-id='preliminary_review'] .jb-heat-badge")
    assert "在办" in waiting.inner_text()
    assert admin.locator(".djs-element[data-element-id='submit_problem'][class*='jb-heat-']").count() == 1
    assert admin.locator("tr[data-element='preliminary_review']").count() == 1
    keep(admin, tmp_path, "designer-heatmap.png")
    api(admin, "POST", f"/process-instances/{started['id']}/cancel", {"reason": "示例"})
    assert admin.js_errors == [], admin.js_errors
