"""Diagrams as other modelers export them: either they deploy and run, or the problems name the elements."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.definitions.modelcheck import (
    normalise,
    normalise_with_notes,
    process_ids,
    referenced_forms,
    validate,
)
from engine.definitions.modelfix import translate

DATA = Path(__file__).resolve().parent.parent / "data" / "modelers"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
}


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def doc(body: str, executable: str = "true") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{NS["bpmn"]}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://x">
<bpmn:process id="p" isExecutable="{executable}">{body}</bpmn:process></bpmn:definitions>""".encode()


def deploy(name: str, xml: bytes) -> BpmnWorkflow:
    """validate() must accept it; then run it on Spiff's default engine (tests only)."""
    files, problems = validate({name: xml})
    assert problems == []
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(files[name], name)
    pid = process_ids(files[name])[0]
    wf = BpmnWorkflow(parser.get_spec(pid), parser.get_subprocess_specs(pid))
    wf.do_engine_steps()
    return wf


def ready(wf: BpmnWorkflow) -> list[str]:
    return [t.task_spec.name for t in wf.get_tasks(state=TaskState.READY, manual=True)]


def complete(wf: BpmnWorkflow, task_id: str, **data: object) -> None:
    task = next(t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == task_id)
    task.data.update(data)
    task.run()
    wf.do_engine_steps()


def ended_at(wf: BpmnWorkflow) -> set[str]:
    return {
        t.task_spec.name
        for t in wf.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.name.startswith(("Event_", "End_", "sid-END", "_e-"))
    }


def codes(problems) -> set[tuple[str | None, str]]:
    return {(p.element_id, p.code) for p in problems}


def raw_spiff_error(name: str, xml: bytes) -> str:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_str(xml, name)
        for pid in parser.process_parsers:
            parser.get_spec(pid)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


# ---------------------------------------------------------------- fixtures that deploy and run


def test_bpmnio_implicit_parallel_split_runs_both_branches():
    xml = load("bpmnio_parallel.bpmn")
    assert "Multiple outgoing flows" in raw_spiff_error("p.bpmn", xml)
    wf = deploy("bpmnio_parallel.bpmn", xml)
    assert wf.is_completed()
    assert wf.last_task.data == {"registered": True, "filed": True, "notified": True}
    root = etree.fromstring(normalise(xml, name="p.bpmn")[0])
    gw = root.xpath("//bpmn:parallelGateway[@id='Activity_register__split']", namespaces=NS)
    assert gw and root.xpath(
        "//bpmn:lane[bpmn:flowNodeRef='Activity_register__split']/@id", namespaces=NS
    ) == ["Lane_clerk"]
    bounds = root.xpath(
        "//bpmndi:BPMNShape[@bpmnElement='Activity_register__split']/dc:Bounds", namespaces=NS
    )[0]
    assert 380 <= float(bounds.get("x")) < 480  # between the source task and its targets
    assert root.xpath("//bpmndi:BPMNEdge[@bpmnElement='Activity_register__split_flow']", namespaces=NS)
    assert root.xpath("//bpmn:scriptTask[@id='Activity_register']/bpmn:outgoing/text()", namespaces=NS) == [
        "Activity_register__split_flow"
    ]


def test_camunda_modeler5_juel_conditions_and_iso_timer():
    xml = load("camunda_modeler5.bpmn")
    for data, end in [
        ({"approved": True, "amount": 50, "currency": "EUR"}, {"Event_paid"}),
        ({"approved": False, "amount": 50, "currency": "EUR"}, {"Event_rejected"}),
    ]:
        wf = deploy("camunda_modeler5.bpmn", xml)
        assert ready(wf) == ["Activity_review"]
        assert [e.event_type for e in wf.waiting_events()] == ["DurationTimerEventDefinition"]
        complete(wf, "Activity_review", **data)
        assert wf.is_completed() and ended_at(wf) == end
    wf = deploy("camunda_modeler5.bpmn", xml)
    complete(wf, "Activity_review", approved=True, amount=5000, currency="EUR")
    assert ready(wf) == ["Activity_cfo"]
    complete(wf, "Activity_cfo")
    assert wf.is_completed() and wf.last_task.data["paid"] is True


def test_signavio_not_executable_and_conditionless_flow_becomes_default():
    xml = load("signavio_export.bpmn")
    assert "not executable" in raw_spiff_error("s.bpmn", xml)
    out, problems, notes = normalise_with_notes(xml, name="s.bpmn")
    assert problems == []
    assert {("sid-PROC-permit", "made-executable"), ("sid-GW", "made-default")} <= codes(notes)
    wf = deploy("signavio_export.bpmn", xml)
    assert ready(wf) == ["sid-CHECK"]
    complete(wf, "sid-CHECK", complete=False)
    assert wf.is_completed() and ended_at(wf) == {"sid-END-NO"}


def test_trisotech_feel_conditions_translated():
    wf = deploy("trisotech_feel.bpmn", load("trisotech_feel.bpmn"))
    assert ready(wf) == ["_t-fast"]


def test_aris_data_store_dropped_and_process_completes():
    xml = load("aris_export.bpmn")
    assert "has no implementation" in raw_spiff_error("a.bpmn", xml)
    out, problems = normalise(xml, name="a.bpmn")
    assert problems == [] and b"dataStore" not in out
    wf = deploy("aris_export.bpmn", xml)
    assert wf.is_completed() and wf.last_task.data["customer_id"] == "C-1001"


# ---------------------------------------------------------------- fixtures with exact problems


@pytest.mark.parametrize(
    "fixture, expected",
    [
        ("camunda8_zeebe.bpmn", {("Flow_bulk", "unsupported-expression-language")}),
        (
            "complex_compensation.bpmn",
            {
                ("Gateway_complex", "unsupported-element"),
                ("Event_compensate_book", "unsupported-element"),
                ("Event_undo", "unsupported-element"),
            },
        ),
        (
            "javascript_script.bpmn",
            {
                ("Activity_js", "unsupported-script-language"),
                ("Activity_groovy", "unsupported-script-language"),
            },
        ),
        (
            "descriptive_timer.bpmn",
            {("Event_wait_month_end", "unsupported-timer"), ("Event_weekdays", "unsupported-timer")},
        ),
        ("xsd_invalid.bpmn", {("Activity_a", "xsd-invalid"), ("Flow_2", "xsd-invalid")}),
        ("spiff_typeerror.bpmn", {("Event_card_declined", "unresolved-reference")}),
    ],
)
def test_unsupported_fixtures_name_their_elements(fixture, expected):
    _, problems = validate({fixture: load(fixture)})
    assert codes(problems) == expected
    for p in problems:
        assert p.file == fixture and p.line and p.message and p.message_zh
        assert any("\u4e00" <= ch <= "\u9fff" for ch in p.message_zh)


def test_xsd_lines_point_into_the_original_file():
    _, problems = validate({"x.bpmn": load("xsd_invalid.bpmn")})
    assert {p.element_id: p.line for p in problems} == {"Activity_a": 6, "Flow_2": 10}


def test_undefined_error_ref_is_spiffs_own_typeerror():
    assert "TypeError" in raw_spiff_error("t.bpmn", load("spiff_typeerror.bpmn"))


def test_spiff_internal_errors_become_problems(monkeypatch):
    def broken(self, *a, **k):
        raise TypeError("'>' not supported between instances of 'NoneType' and 'int'")

    monkeypatch.setattr(SpiffBpmnParser, "get_subprocess_specs", broken)
    _, problems = validate({"p.bpmn": load("bpmnio_parallel.bpmn")})
    assert [(p.code, p.file) for p in problems] == [("spiff-internal-error", "p.bpmn")]


def test_spiff_validation_errors_are_pinned():
    xml = doc("""<bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="mi"/>
      <bpmn:userTask id="mi"><bpmn:multiInstanceLoopCharacteristics/></bpmn:userTask>""")
    _, problems = validate({"mi.bpmn": xml})
    assert codes(problems) == {("mi", "spiff-invalid")} and problems[0].line == 6


# ---------------------------------------------------------------- rewrites in isolation


@pytest.mark.parametrize(
    "src, py",
    [
        ("${a == 'x'}", "a == 'x'"),
        ("${approved}", "approved"),
        ("${!approved}", "not approved"),
        ("${amount > 100}", "amount > 100"),
        ("#{a && b || c}", "a and b or c"),
        ("${x != 'y'}", "x != 'y'"),
        ("${amount gt 10 and not done}", "amount > 10 and not done"),
        ('= a = "x"', 'a == "x"'),
        ("= flag = true", "flag == True"),
        ("a.b == 1", "a.b == 1"),
    ],
)
def test_translate_simple_expressions(src, py):
    assert translate(src) == py


@pytest.mark.parametrize(
    "src, lang",
    [
        ("${execution.getVariable('a')}", None),
        ("= count(items) > 3", None),
        ("a > 1", "javascript"),
        ("${a ? b : c}", None),
        ("amount > 1000?", None),
        ("some x in xs satisfies x > 1", "FEEL"),
    ],
)
def test_translate_refuses_what_it_cannot_prove(src, lang):
    assert translate(src, lang) is None


@pytest.mark.parametrize(
    "kind, literal",
    [
        ("timeDuration", "P14D"),
        ("timeDate", "2099-01-01T00:00:00Z"),
        ("timeCycle", "R3/PT1H"),
        ("timeDuration", "PT36H"),
    ],
)
def test_iso_timer_literals_are_quoted(kind, literal):
    xml = doc(f"""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
      <bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition>
      <bpmn:{kind}>{literal}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
      <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>""")
    out, problems = normalise(xml, name="t.bpmn")
    assert problems == [] and f'"{literal}"'.encode() in out
    wf = deploy("t.bpmn", xml)
    assert not wf.is_completed() and len(wf.waiting_events()) == 1


def test_timer_expression_from_data_is_left_alone():
    xml = doc("""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
      <bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition><bpmn:timeDate>claim_deadline</bpmn:timeDate>
      </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
      <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>""")
    out, problems = normalise(xml, name="t.bpmn")
    assert problems == [] and b">claim_deadline<" in out


def test_exclusive_gateway_with_several_bare_flows_is_ambiguous():
    xml = doc("""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
      <bpmn:exclusiveGateway id="g"/>
      <bpmn:sequenceFlow id="fa" sourceRef="g" targetRef="a"/><bpmn:sequenceFlow id="fb" sourceRef="g" targetRef="b"/>
      <bpmn:sequenceFlow id="fc" sourceRef="g" targetRef="b"><bpmn:conditionExpression>x</bpmn:conditionExpression>
      </bpmn:sequenceFlow><bpmn:endEvent id="a"/><bpmn:endEvent id="b"/>""")
    _, problems = validate({"g.bpmn": xml})
    assert codes(problems) == {("fa", "ambiguous-flow"), ("fb", "ambiguous-flow")}


def test_activity_with_conditions_and_default_gets_inclusive_gateway():
    xml = doc("""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="t"/>
      <bpmn:scriptTask id="t" default="fdef"><bpmn:script>amount = 500</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="fbig" sourceRef="t" targetRef="big">
        <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${amount &gt; 100}</bpmn:conditionExpression>
      </bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="faudit" sourceRef="t" targetRef="audit"/>
      <bpmn:sequenceFlow id="fdef" sourceRef="t" targetRef="small"/>
      <bpmn:endEvent id="big"/><bpmn:endEvent id="small"/><bpmn:endEvent id="audit"/>""")
    root = etree.fromstring(normalise(xml, name="c.bpmn")[0])
    gw = root.find(".//bpmn:inclusiveGateway", NS)
    assert gw.get("id") == "t__split" and gw.get("default") == "fdef"
    wf = deploy("c.bpmn", xml)
    done = {t.task_spec.name for t in wf.get_tasks(state=TaskState.COMPLETED)}
    assert wf.is_completed() and {"big", "audit"} <= done and "small" not in done


def test_several_incoming_flows_need_no_rewrite():
    xml = doc("""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="a"/>
      <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="b"/>
      <bpmn:task id="a"/><bpmn:task id="b"/>
      <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="m"/><bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="m"/>
      <bpmn:scriptTask id="m"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="f4" sourceRef="m" targetRef="e"/><bpmn:endEvent id="e"/>""")
    out, _, notes = normalise_with_notes(xml, name="m.bpmn")
    assert notes == [] and b"Gateway" not in out
    assert validate({"m.bpmn": xml})[1] == []


def test_link_events_become_a_sequence_flow():
    xml = doc("""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="go"/>
      <bpmn:intermediateThrowEvent id="go"><bpmn:linkEventDefinition name="A"/></bpmn:intermediateThrowEvent>
      <bpmn:intermediateCatchEvent id="land"><bpmn:linkEventDefinition name="A"/></bpmn:intermediateCatchEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="land" targetRef="t"/>
      <bpmn:scriptTask id="t"><bpmn:script>arrived = True</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>""")
    wf = deploy("l.bpmn", xml)
    assert wf.is_completed() and wf.last_task.data == {"arrived": True}


def test_service_task_without_operator():
    xml = doc("""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="svc"/>
      <bpmn:serviceTask id="svc" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" camunda:type="external"
        camunda:topic="payments"/><bpmn:sequenceFlow id="f1" sourceRef="svc" targetRef="e"/><bpmn:endEvent id="e"/>""")
    _, problems = normalise(xml, name="svc.bpmn")
    assert codes(problems) == {("svc", "unsupported-service-task")} and "payments" in problems[0].message


# ---------------------------------------------------------------- hostile / broken input, helpers


def test_malformed_xml_is_a_problem_not_a_traceback():
    out, problems = normalise(b"<bpmn:definitions", name="bad.bpmn")
    assert out == b"<bpmn:definitions" and codes(problems) == {(None, "xml-malformed")}
    _, problems = validate({"bad.bpmn": b"<a><b></a>", "d.dmn": b"not xml"})
    assert {(p.file, p.code) for p in problems} == {("bad.bpmn", "xml-malformed"), ("d.dmn", "xml-malformed")}
    assert codes(normalise(b"<html/>", name="x")[1]) == {(None, "not-bpmn")}


@pytest.mark.parametrize(
    "body, code",
    [
        ('<bpmn:startEvent id="s" name="&b;"/>', "xml-dtd"),
        (
            '<bpmn:startEvent id="s"><bpmn:documentation>&ext;</bpmn:documentation></bpmn:startEvent>',
            "xml-dtd",
        ),
        ('<bpmn:startEvent id="s" name="&ext;"/>', "xml-malformed"),
    ],
)
def test_entities_are_refused_not_expanded(body, code):
    bomb = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">
    <!ENTITY ext SYSTEM "file:///etc/passwd">]>""" + doc(body).split(b"?>", 1)[1]
    out, problems = normalise(bomb, name="bomb.bpmn")
    assert out == bomb and codes(problems) == {(None, code)}
    files, problems = validate({"b.bpmn": bomb})
    assert files["b.bpmn"] == bomb and codes(problems) == {(None, code)}


def test_no_executable_process():
    _, problems = normalise(doc('<bpmn:task id="t"/>', executable="false"), name="n.bpmn")
    assert codes(problems) == {(None, "no-executable-process")}


def test_process_ids_and_forms():
    xml = doc("""<bpmn:startEvent id="s"/><bpmn:userTask id="u"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="u.schema.json"/>
      <spiffworkflow:property name="formUiSchemaFilename" value="u.ui.json"/>
      </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask><bpmn:userTask id="plain"/>""")
    assert referenced_forms(xml) == {"u": "u.schema.json"}
    assert process_ids(xml) == ["p"]
    assert process_ids(load("signavio_export.bpmn")) == ["sid-PROC-permit"]
    assert process_ids(b"junk") == [] and referenced_forms(b"junk") == {}


DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn" name="d" namespace="http://x">
  <decision id="fee" name="Fee"><decisionTable id="dt" hitPolicy="UNIQUE">
    <input id="i1" label="amount"><inputExpression id="ie1" typeRef="number"><text>amount</text></inputExpression></input>
    <output id="o1" name="fee" typeRef="number"/>
    <rule id="r1"><inputEntry id="e1"><text>&gt; 100</text></inputEntry><outputEntry id="x1"><text>5</text></outputEntry></rule>
    <rule id="r2"><inputEntry id="e2"><text>&lt;= 100</text></inputEntry><outputEntry id="x2"><text>1</text></outputEntry></rule>
  </decisionTable></decision></definitions>"""


def test_dmn_passes_through_and_camunda_decision_ref_is_mapped():
    xml = doc("""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="rule"/>
      <bpmn:businessRuleTask id="rule" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" camunda:decisionRef="fee"/>
      <bpmn:sequenceFlow id="f1" sourceRef="rule" targetRef="e"/><bpmn:endEvent id="e"/>""")
    files, problems = validate({"r.bpmn": xml, "fee.dmn": DMN})
    assert problems == [] and files["fee.dmn"] == DMN
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(files["r.bpmn"], "r.bpmn")
    parser.add_dmn_str(DMN, "fee.dmn")
    wf = BpmnWorkflow(parser.get_spec("p"))
    wf.get_tasks(state=TaskState.READY)[0].data["amount"] = 500
    wf.do_engine_steps()
    assert wf.is_completed() and wf.last_task.data["fee"] == 5


def test_shipped_diagram_needs_no_rewrite():
    root = Path(__file__).resolve().parents[2] / "bpmn"
    files = {p.name: p.read_bytes() for p in sorted(root.glob("*.bpmn")) + sorted(root.glob("*.dmn"))}
    assert validate(files)[1] == []
    for name, data in files.items():
        if name.endswith(".bpmn"):
            assert normalise_with_notes(data, name=name)[1:] == ([], [])
