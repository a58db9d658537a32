"""Caller data never writes what the diagram owns: start data, task data and deployments.

The attacks of the security review: a starter sending ``ledger`` (a score row, 破解难题之星) or
``phase: published`` (an unapproved challenge on the board), and presetting variables later forms
prefill. Each is refused with a 422 naming the field, and nothing is written.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from engine import DefinitionInvalidError, Engine, FormInvalidError
from engine.ownership import ENGINE_OWNED
from tests.api import conftest as api
from tests.api.conftest import Auth
from tests.walk import PROBLEM

app, auth, client = api.app, api.auth, api.client  # the API suite's fixtures

LEDGER_ATTACK = {"ledger": [{"username": "wang", "points": 99999}]}
BOARD_ATTACK = {"phase": "published", "title": "未经审定的榜单", "points": 100000}


def diagram(key: str, *, start: str = "", task: str = "") -> bytes:
    """A start event and one user task; ``start``/``task`` are their extension properties."""

    def props(text: str) -> str:
        return (
            f"<bpmn:extensionElements><spiffworkflow:properties>{text}</spiffworkflow:properties></bpmn:extensionElements>"
            if text
            else ""
        )

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d_{key}" targetNamespace="http://jiebang.example/test">
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:startEvent id="begin">{props(start)}<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="fill" name="Fill">{props(task)}<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="fill" />
    <bpmn:sequenceFlow id="f2" sourceRef="fill" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def prop(name: str, value: str) -> str:
    return f'<spiffworkflow:property name="{name}" value="{value}" />'


def form(**properties: dict) -> bytes:
    """A form that, unlike the shipped ones, does not say ``additionalProperties: false``."""
    return json.dumps({"type": "object", "properties": properties}).encode()


# ---- start data --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "attack", [LEDGER_ATTACK, BOARD_ATTACK, {"claims": []}, {"claimant_leader": "wang"}, {"rag": "green"}]
)
def test_start_data_cannot_set_engine_owned_variables(engine: Engine, attack: dict) -> None:
    with pytest.raises(FormInvalidError) as err:
        engine.start("claim_evaluate", actor="wang", data=attack)
    owned = {k for k in attack if k in ENGINE_OWNED}
    assert owned and owned <= set(err.value.errors)
    assert engine.list_instances().total == 0
    assert engine.board() == [] and engine.leaderboard()[1] == []


def test_undeclared_start_data_is_refused_by_name(engine: Engine) -> None:
    with pytest.raises(FormInvalidError) as err:
        engine.start(
            "claim_evaluate",
            actor="wang",
            data={"title": "村道", "points": 500, "deadline": "2030-01-01T00:00:00Z"},
        )
    assert set(err.value.errors) == {"points", "deadline"}
    assert engine.list_instances().total == 0


def test_start_data_is_validated_against_the_start_form(engine: Engine) -> None:
    with pytest.raises(FormInvalidError) as err:
        engine.start(
            "claim_evaluate",
            actor="wang",
            data={"title": "x" * 201, "category": "不存在", "proposed_points": 1e9},
        )
    assert {"title", "category", "proposed_points"} <= set(err.value.errors)
    assert engine.list_instances().total == 0


def test_declared_start_data_prefills_the_application_form(engine: Engine) -> None:
    inst = engine.start(
        "claim_evaluate", actor="wang", data={"title": PROBLEM["title"], "category": PROBLEM["category"]}
    )
    task = engine.get_task(inst.open_tasks[0].id, "wang")
    assert task.data == {"title": PROBLEM["title"], "category": PROBLEM["category"]}


def test_a_process_declaring_nothing_takes_no_start_data(engine: Engine) -> None:
    engine.deploy({"plain.bpmn": diagram("plain")})
    assert engine.start("plain", actor="wang", data={}).status == "running"
    assert engine.start("plain", actor="wang").status == "running"
    with pytest.raises(FormInvalidError) as err:
        engine.start("plain", actor="wang", data={"anything": 1})
    assert set(err.value.errors) == {"anything"}


def test_start_variables_declare_what_a_starter_sends(engine: Engine) -> None:
    engine.deploy({"vars.bpmn": diagram("vars", start=prop("startVariables", "amount, reason"))})
    inst = engine.start("vars", actor="wang", data={"amount": 3, "reason": "差旅"})
    assert inst.data["amount"] == 3
    with pytest.raises(FormInvalidError) as err:
        engine.start("vars", actor="wang", data={"amount": 3, "approved": True})
    assert set(err.value.errors) == {"approved"}


@pytest.mark.parametrize("name", ["now", "add_duration", "_internal"])
def test_script_helpers_and_internal_names_are_reserved_everywhere(engine: Engine, name: str) -> None:
    engine.deploy({"open.bpmn": diagram("open", start=prop("startVariables", "amount"))})
    with pytest.raises(FormInvalidError) as err:
        engine.start("open", actor="wang", data={name: 1})
    assert "reserved" in err.value.errors[name][0]
    inst = engine.start("open", actor="wang")
    with pytest.raises(FormInvalidError) as err:
        engine.complete(inst.open_tasks[0].id, "wang", {name: 1})
    assert "reserved" in err.value.errors[name][0]


# ---- task completion data --------------------------------------------------------------------------
def test_task_data_is_limited_to_what_its_form_declares(engine: Engine) -> None:
    engine.deploy(
        {
            "open.bpmn": diagram("open", task=prop("formJsonSchemaFilename", "open.json")),
            "open.json": form(note={"type": "string"}),
        }
    )
    inst = engine.start("open", actor="wang")
    task_id = inst.open_tasks[0].id
    with pytest.raises(FormInvalidError) as err:
        engine.complete(task_id, "wang", {"note": "好", "approved": True, "phase": "published"})
    assert set(err.value.errors) == {"approved", "phase"}
    assert engine.get_task(task_id, "wang").task.status == "open"
    assert engine.complete(task_id, "wang", {"note": "好"}).status == "completed"


def test_a_task_without_a_form_cannot_write_the_ledger(engine: Engine) -> None:
    engine.deploy({"bare.bpmn": diagram("bare")})
    inst = engine.start("bare", actor="wang")
    with pytest.raises(FormInvalidError) as err:
        engine.complete(inst.open_tasks[0].id, "wang", {"opinion": "同意", **LEDGER_ATTACK})
    assert set(err.value.errors) == {"ledger"}
    assert engine.scores()[1] == []
    assert engine.complete(inst.open_tasks[0].id, "wang", {"opinion": "同意"}).status == "completed"


# ---- deploy time ---------------------------------------------------------------------------------
def test_a_form_naming_an_engine_owned_variable_is_a_deploy_problem(engine: Engine) -> None:
    files = {
        "bad.bpmn": diagram("bad", task=prop("formJsonSchemaFilename", "bad.json")),
        "bad.json": form(phase={"type": "string"}),
    }
    with pytest.raises(DefinitionInvalidError) as err:
        engine.deploy(files)
    assert [(p.element_id, p.code) for p in err.value.problems] == [("fill", "engine-owned-variable")]
    assert "phase" in err.value.problems[0].message
    assert engine.validate(files)[0].code == "engine-owned-variable"


def test_start_variables_naming_an_engine_owned_variable_is_a_deploy_problem(engine: Engine) -> None:
    with pytest.raises(DefinitionInvalidError) as err:
        engine.deploy({"bad.bpmn": diagram("bad", start=prop("startVariables", "title,ledger"))})
    assert [(p.element_id, p.code) for p in err.value.problems] == [("begin", "engine-owned-variable")]
    assert "ledger" in err.value.problems[0].message


def test_a_start_form_naming_an_engine_owned_variable_is_a_deploy_problem(engine: Engine) -> None:
    files = {
        "bad.bpmn": diagram("bad", start=prop("formJsonSchemaFilename", "s.json")),
        "s.json": form(claims={"type": "array"}),
    }
    with pytest.raises(DefinitionInvalidError) as err:
        engine.deploy(files)
    assert [(p.element_id, p.code) for p in err.value.problems] == [("begin", "engine-owned-variable")]


# ---- over HTTP -----------------------------------------------------------------------------------
@pytest.mark.parametrize("attack", [LEDGER_ATTACK, BOARD_ATTACK])
def test_start_data_attacks_answer_422_and_change_nothing(
    client: FlaskClient, auth: Auth, attack: dict
) -> None:
    resp = client.post(
        "/api/v1/process-instances",
        json={"process_key": "claim_evaluate", "data": attack},
        headers=auth.headers("wang"),
    )
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert {k for k in attack if k in ENGINE_OWNED} <= set(resp.get_json()["errors"])
    admin = auth.headers("admin")
    assert client.get("/api/v1/process-instances", headers=admin).get_json()["total"] == 0
    assert client.get("/api/v1/board", headers=admin).get_json()["items"] == []
    assert client.get("/api/v1/leaderboard", headers=admin).get_json()["items"] == []
