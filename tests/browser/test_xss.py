"""Hostile text on the pages stays text: what a submitter, a reviewer or a form's author writes never
runs in another user's browser, and the Content-Security-Policy costs the pages nothing.

Every payload would set ``window.__pwned`` or request a ``/pwned`` URL if it ran; the page also
records each CSP violation, which the sanitiser must make unnecessary (nothing inline is even tried).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pytest

from .conftest import PASSWORD
from .steps import deploy, done, fill_duration, local_input, open_task, submit_form

pytestmark = pytest.mark.browser

TITLE = (
    'XSS标题<img src=x onerror="window.__pwned=1;fetch(\'/pwned-title\')">"><svg onload="window.__pwned=2">'
)
DESCRIPTION = (
    '<script>window.__pwned=3</script><a href="javascript:window.__pwned=4">点我</a>'
    '"><svg/onload="fetch(\'/pwned-description\')"> 征迁矛盾多'
)
COMMENT = '退回<img src=x onerror="window.__pwned=5;fetch(\'/pwned-comment\')"><a href="javascript:window.__pwned=6">详情</a>'

# Collect CSP violations from the first script on, before any page script runs. DOMPurify parses
# hostile markup in an inert document, where Chrome still reports each handler attribute it would
# refuse: those reports come from the sanitiser at work, not from a payload trying to run.
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  if (/\\/dompurify\\//.test(e.sourceFile || '')) return;
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || ''));
});
"""

# Elements carrying an event-handler attribute, or a link/src a click would run as script.
LIVE_MARKUP = """() => Array.from(document.querySelectorAll('*')).filter(el =>
  Array.from(el.attributes).some(a => /^on/i.test(a.name) ||
    (/^(href|src|action|formaction|xlink:href)$/i.test(a.name) && /^\\s*(javascript|vbscript):/i.test(a.value)))
).map(el => el.outerHTML.slice(0, 120))"""


def watch(page) -> list[str]:
    """Record requests to payload URLs and CSP complaints on the console; install the violation collector."""
    hits: list[str] = []
    page.add_init_script(WATCH)
    page.on(
        "request", lambda req: hits.append(req.url) if "pwned" in req.url or req.url.endswith("/x") else None
    )
    page.on(
        "console",
        lambda msg: (
            hits.append(msg.text)
            if "Content Security Policy" in msg.text
            and "/dompurify/" not in (msg.location or {}).get("url", "")
            else None
        ),
    )
    return hits


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/inbox**")


def assert_inert(page, hits: list[str]) -> None:
    """Nothing ran, nothing was blocked (so nothing tried), nothing live is left in the DOM."""
    page.wait_for_timeout(300)  # let a failing <img> fire its onerror, if there were one
    assert page.evaluate("window.__pwned") is None, page.url
    assert page.evaluate("window.__cspViolations") == [], page.url
    assert page.evaluate(LIVE_MARKUP) == [], page.url
    assert hits == [], page.url
    assert page.js_errors == [], page.js_errors


def test_payloads_in_a_problem_and_a_comment_stay_text(login, tmp_path: Path) -> None:
    wang, zhao, sun = login(None), login(None), login(None)
    hits = {p: watch(p) for p in (wang, zhao, sun)}
    for page, name in ((wang, "wang"), (zhao, "zhao"), (sun, "sun")):
        sign_in(page, name)

    # wang files the problem with payloads in its title and description
    wang.goto("/inbox")
    wang.fill(".start-form input[name=business_key]", "XSS-2026-001")
    wang.click("#start-process")
    wang.wait_for_selector("#form-editor[data-ready='1']")
    wang.fill("[name='root[title]']", TITLE)
    wang.select_option("[name='root[category]']", "经济建设")
    wang.fill("[name='root[description]']", DESCRIPTION)
    wang.fill("[name='root[goals]']", "三个月内完成")
    wang.fill("[name='root[proposed_deadline]']", local_input(150))
    wang.fill("[name='root[proposed_points]']", "80")
    wang.fill("[name='root[support_needed]']", "无")
    submit_form(wang)
    done(wang)

    # zhao (task force) reads it, then sends it back with a hostile comment
    open_task(zhao, "preliminary_review", tab="candidate", title=TITLE)
    facts = zhao.locator(".facts").inner_text()
    assert TITLE in facts and "征迁矛盾多" in facts and "<script>" in facts
    assert_inert(zhao, hits[zhao])
    zhao.click("#claim")
    zhao.wait_for_selector("#form-editor[data-ready='1']")
    zhao.select_option("[name='root[decision]']", "return")
    zhao.fill("[name='root[comment]']", COMMENT)
    submit_form(zhao)
    done(zhao)

    # wang's redo form shows his own words exactly, as values
    open_task(wang, "revise_problem", title=TITLE)
    assert wang.input_value("[name='root[title]']") == TITLE
    assert wang.input_value("[name='root[description]']") == DESCRIPTION
    assert_inert(wang, hits[wang])
    submit_form(wang)
    done(wang)

    # the review comes back to the task force: the earlier comment is shown among the opinions, as text,
    # and the reviewer's own comment field starts empty
    open_task(zhao, "preliminary_review", tab="candidate", title=TITLE)
    zhao.click("#claim")
    zhao.wait_for_selector("#form-editor[data-ready='1']")
    assert zhao.input_value("[name='root[comment]']") == ""
    assert COMMENT in zhao.locator(".opinions").inner_text()
    assert TITLE in zhao.locator(".facts").inner_text()
    zhao.screenshot(path=str(tmp_path / "xss-task-page.png"), full_page=True)
    assert_inert(zhao, hits[zhao])
    zhao.select_option("[name='root[decision]']", "approve")
    zhao.fill("[name='root[comment]']", COMMENT)
    submit_form(zhao)
    done(zhao)

    open_task(sun, "committee_approval", tab="candidate", title=TITLE)
    assert_inert(sun, hits[sun])
    sun.select_option("[name='root[decision]']", "approve")
    sun.fill("[name='root[points]']", "100")
    sun.fill("[name='root[deadline]']", local_input(120))
    fill_duration(sun, "claim_window", 14)
    fill_duration(sun, "report_interval", 30)
    sun.fill("[name='root[guarantees]']", "保障")
    submit_form(sun)
    done(sun)

    # the published challenge on the board, and its instance page, as the reviewer
    zhao.goto("/board")
    card = zhao.locator("article.card", has_text="XSS标题")
    assert TITLE in card.inner_text()
    assert_inert(zhao, hits[zhao])
    for url in ("/inbox?tab=done", "/instances", "/scores"):
        zhao.goto(url)
        assert_inert(zhao, hits[zhao])
    zhao.goto("/instances")
    zhao.locator("a", has_text="XSS标题").first.click()
    zhao.wait_for_selector("#diagram[data-ready='1']")
    assert TITLE in zhao.locator("main").inner_text()
    assert_inert(zhao, hits[zhao])
    zhao.screenshot(path=str(tmp_path / "xss-instance-page.png"), full_page=True)


FORM = {
    "type": "object",
    "description": '表单说明"><svg onload="window.__pwned=10"><b>加粗</b>',
    "properties": {
        "answer": {
            "type": "string",
            "title": '答复<img src=x onerror="window.__pwned=11">',
            "description": (
                '<a href="javascript:window.__pwned=12">危险链接</a> '
                '<a href="https://example.org/guide">填写指南</a> <a href="/inbox">待办</a>'
            ),
            "links": [
                {"rel": "打开", "href": "javascript:window.__pwned=13"},
                {"rel": "指南", "href": "https://example.org/{{self}}"},
            ],
        },
    },
}

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_xss" targetNamespace="http://jiebang.example/xss">
  <bpmn:process id="xss_form" name="XSS 表单" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="answer" />
    <bpmn:userTask id="answer" name="答复">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="xss_answer.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="answer" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_hostile_texts_in_a_deployed_form_are_cleaned(login, server, tmp_path: Path) -> None:
    deploy(server, {"xss_form.bpmn": BPMN.encode(), "xss_answer.schema.json": json.dumps(FORM).encode()})

    zhou = login(None)
    hits = watch(zhou)
    sign_in(zhou, "zhou")
    zhou.select_option(".start-form select[name=process_key]", "xss_form")
    zhou.click("#start-process")
    zhou.wait_for_selector("#form-editor[data-ready='1']")
    editor = zhou.locator("#form-editor")
    assert "答复" in editor.inner_text() and "填写指南" in editor.inner_text()
    assert editor.locator("b", has_text="加粗").count() == 1  # harmless markup is kept
    guide = editor.locator("a", has_text="填写指南")
    assert guide.get_attribute("href") == "https://example.org/guide"
    assert guide.get_attribute("rel") == "noopener noreferrer"
    assert editor.locator("a", has_text="待办").get_attribute("href") == "/inbox"
    assert editor.locator("a", has_text="危险链接").get_attribute("href") is None
    assert editor.locator("a", has_text="打开").is_hidden()  # the schema link to javascript: is dropped
    zhou.fill("[name='root[answer]']", "javascript:alert(1)")
    zhou.locator("[name='root[answer]']").blur()
    zhou.wait_for_timeout(200)
    for link in editor.locator("a[href]").all():
        href = link.get_attribute("href") or ""
        assert href.startswith(("https://", "http://", "/")), href
    zhou.screenshot(path=str(tmp_path / "xss-deployed-form.png"), full_page=True)
    assert_inert(zhou, hits)


def test_the_designer_and_every_page_work_under_the_csp(login, tmp_path: Path) -> None:
    """bpmn-js, dmn-js and json-editor need nothing the policy refuses: no violation, no script error."""
    admin = login(None)
    hits = watch(admin)
    sign_in(admin, "admin")
    admin.goto("/designer/claim_evaluate")
    admin.wait_for_selector("#modeler[data-ready='1']")
    admin.locator(".tab[data-pane^='pane-dmn']").first.click()
    admin.wait_for_selector(".dmn-editor[data-ready='1']")
    admin.locator(".tab[data-pane='pane-bpmn']").click()
    admin.click("#validate")
    admin.wait_for_selector("#designer-status[data-result]")
    assert_inert(admin, hits)
    for url in ("/inbox", "/inbox?tab=candidate", "/board", "/instances", "/scores", "/designer"):
        admin.goto(url)
        assert_inert(admin, hits)
    admin.goto("/inbox")
    admin.click("#start-process")
    admin.wait_for_selector("#form-editor[data-ready='1']")
    assert_inert(admin, hits)
    admin.locator(".crumbs a").nth(1).click()
    admin.wait_for_selector("#diagram[data-ready='1']")
    assert (
        admin.locator("#diagram .djs-overlay .jb-badge").count() >= 1
    )  # overlays positioned by style attributes
    assert_inert(admin, hits)


HOSTILE = '<img src=x onerror="window.__pwned=20">'
DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  id="defs_xss_diagram" targetNamespace="http://jiebang.example/xss">
  <bpmn:process id="xss_diagram" name="XSS 图 {escape(HOSTILE)}" isExecutable="true">
    <bpmn:documentation>{escape(HOSTILE)}</bpmn:documentation>
    <bpmn:startEvent id="start" name="{escape(HOSTILE)}"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="answer" name="{escape(HOSTILE)}" />
    <bpmn:userTask id="answer" name="答复 {escape(HOSTILE)}"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="answer" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="xss_diagram">
    <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="100" y="100" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="answer_di" bpmnElement="answer"><dc:Bounds x="200" y="78" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="360" y="100" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118" /><di:waypoint x="200" y="118" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="300" y="118" /><di:waypoint x="360" y="118" /></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
DECISION = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs_xss_dmn" name="XSS {escape(HOSTILE)}" namespace="http://x">
  <decision id="xss_decision" name="决策 {escape(HOSTILE)}">
    <description>{escape(HOSTILE)}</description>
    <decisionTable id="xss_table" hitPolicy="UNIQUE">
      <input id="in1" label="{escape(HOSTILE)}"><inputExpression id="ie1" typeRef="string"><text>grade</text></inputExpression></input>
      <output id="out1" label="{escape(HOSTILE)}" name="x" typeRef="string" />
      <rule id="r1"><description>{escape(HOSTILE)}</description>
        <inputEntry id="e1"><text>"{escape(HOSTILE)}"</text></inputEntry><outputEntry id="o1"><text>"{escape(HOSTILE)}"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_hostile_names_in_a_deployed_diagram_stay_text_in_the_designer(login, server) -> None:
    deploy(server, {"xss_diagram.bpmn": DIAGRAM.encode(), "xss_diagram.dmn": DECISION.encode()})
    admin = login(None)
    hits = watch(admin)
    sign_in(admin, "admin")
    admin.goto("/designer")
    assert HOSTILE in admin.locator("tr[data-key='xss_diagram']").inner_text()
    assert_inert(admin, hits)
    admin.goto("/designer/xss_diagram")
    admin.wait_for_selector("#modeler[data-ready='1']")
    assert "答复" in admin.locator("#modeler").inner_text()
    assert_inert(admin, hits)
    admin.locator(".tab[data-pane^='pane-dmn']").first.click()
    admin.wait_for_selector(".dmn-editor[data-ready='1']")
    assert_inert(admin, hits)
