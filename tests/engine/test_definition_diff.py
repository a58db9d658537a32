"""Comparing versions of a definition: a process owner sees what a new version changes in how work
runs (steps added and removed, names, timers, where flows go, Jiebang's properties, a form's
fields), and a version that only moved shapes around changes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine import Engine, InvalidInputError, NotFoundError

PING = (Path(__file__).resolve().parents[1] / "api" / "data" / "ping.bpmn").read_text(encoding="utf-8")
SHIPPED = (Path(__file__).resolve().parents[2] / "bpmn" / "claim_evaluate.bpmn").read_text(encoding="utf-8")
SPIFF = 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
FORM = {"type": "object", "properties": {"answer": {"type": "string", "title": "答复"}}}


def deploy(engine: Engine, xml: str, **forms: dict) -> int:
    files = {"ping.bpmn": xml.encode()}
    files.update({f"{name}.schema.json": json.dumps(schema).encode() for name, schema in forms.items()})
    return engine.deploy(files, actor="admin").version


def ping_v2() -> str:
    """The owner renames the answer, gives it a form and a due time, waits two hours instead of
    one, and adds a check after it."""
    xml = PING.replace('id="Definitions_ping"', f'id="Definitions_ping" {SPIFF}')
    xml = xml.replace('"PT1H"', '"PT2H"')
    xml = xml.replace(
        '<bpmn:userTask id="answer" name="Answer">',
        '<bpmn:userTask id="answer" name="Reply"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="reply.schema.json" />'
        '<spiffworkflow:property name="dueIn" value="P2D" />'
        "</spiffworkflow:properties></bpmn:extensionElements>",
    )
    return xml.replace(
        '<bpmn:sequenceFlow id="f3" sourceRef="answer" targetRef="end" />',
        '<bpmn:sequenceFlow id="f3" sourceRef="answer" targetRef="check" />'
        '<bpmn:userTask id="check" name="Check"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>'
        '<bpmn:sequenceFlow id="f4" sourceRef="check" targetRef="end" />',
    )


def test_a_new_version_lists_what_was_added_and_changed(engine: Engine) -> None:
    deploy(engine, PING)
    assert deploy(engine, ping_v2(), reply=FORM) == 2

    diff = engine.diff_definition("ping", viewer="admin")  # the newest against the one before it

    assert (diff.from_version, diff.to_version) == (1, 2)
    assert [(e.id, e.type, e.name) for e in diff.added] == [
        ("check", "userTask", "Check"),
        ("f4", "sequenceFlow", ""),
    ]
    assert diff.removed == []
    changes = {c.id: {p.property: (p.before, p.after) for p in c.changes} for c in diff.changed}
    assert changes == {
        "answer": {
            "name": ("Answer", "Reply"),
            "property:dueIn": (None, "P2D"),
            "property:formJsonSchemaFilename": (None, "reply.schema.json"),
        },
        "f3": {"targetRef": ("end", "check")},
        "wait": {"timer": ('"PT1H"', '"PT2H"')},
    }
    assert diff.files_added == ["reply.schema.json"]

    back = engine.diff_definition("ping", from_version=2, to_version=1, viewer="admin")
    assert [e.id for e in back.removed] == ["check", "f4"] and back.added == []


def test_a_form_whose_fields_changed_marks_its_task(engine: Engine) -> None:
    deploy(engine, PING)
    deploy(engine, ping_v2(), reply=FORM)
    wider = {**FORM, "properties": {**FORM["properties"], "note": {"type": "string"}}}
    assert deploy(engine, ping_v2(), reply=wider) == 3

    diff = engine.diff_definition("ping", viewer="admin")

    assert diff.added == diff.removed == []
    assert [(c.id, [(p.property, p.after) for p in c.changes]) for c in diff.changed] == [
        ("answer", [("form content", "reply.schema.json")])
    ]
    assert diff.files_changed == ["reply.schema.json"]


def test_moving_shapes_changes_nothing(engine: Engine) -> None:
    engine.deploy_shipped()
    moved = re.sub(r'(<dc:Bounds x=")(\d+)', lambda m: f"{m.group(1)}{int(m.group(2)) + 40}", SHIPPED)
    assert moved != SHIPPED
    dmn = (Path(__file__).resolve().parents[2] / "bpmn" / "claim_evaluate.dmn").read_bytes()
    engine.deploy({"claim_evaluate.bpmn": moved.encode(), "claim_evaluate.dmn": dmn}, actor="admin")

    diff = engine.diff_definition("claim_evaluate", viewer="admin")

    assert diff.to_version == 2
    assert (diff.added, diff.removed, diff.changed, diff.files_changed) == ([], [], [], [])


def test_refusals(engine: Engine) -> None:
    deploy(engine, PING)
    with pytest.raises(InvalidInputError):  # v1 has nothing before it
        engine.diff_definition("ping", viewer="admin")
    with pytest.raises(NotFoundError):
        engine.diff_definition("ping", from_version=1, to_version=7, viewer="admin")
    with pytest.raises(NotFoundError):
        engine.diff_definition("nowhere", viewer="admin")
