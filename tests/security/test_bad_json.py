"""Bad JSON against every route: non-finite numbers, lone surrogates, NUL and deep nesting.

Routes come from the OpenAPI document, so a route added later is attacked by default. Each
attack must answer 400 or 422 problem+json (never 5xx) and leave every table as it was.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from api.cli import main as cli_main
from engine import DefinitionInvalidError, Engine, FormInvalidError, ManualClock
from engine.tables import Base
from tests.api.conftest import Auth, HttpWalk, make_app
from tests.walk import PROBLEM

PROBLEM_JSON = "application/problem+json"

# Raw bodies: json.dumps could not even write most of them.
BAD_BODIES = {
    "NaN": '{"data": {"points": NaN}, "x": 1}',
    "Infinity": '{"data": {"points": Infinity}}',
    "-Infinity": '{"share": -Infinity}',
    "overflowing number": '{"data": {"points": 1e999}}',
    "lone high surrogate": '{"data": {"title": "\\ud800"}}',
    "lone low surrogate": '{"comment": "ok \\udfff"}',
    "NUL in a value": '{"data": {"title": "a\\u0000b"}, "text": "a\\u0000b"}',
    "NUL in a key": '{"data": {"a\\u0000": 1}}',
    "5,000-deep nesting": '{"data": ' + "[" * 5000 + "]" * 5000 + "}",
    "100-deep nesting": '{"data": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}",
    "not JSON": '{"data": {',
}


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    return make_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"}).test_client()


@pytest.fixture
def auth(engine: Engine) -> Auth:
    a = Auth(engine)
    a.people()
    return a


@pytest.fixture
def ids(engine: Engine, auth: Auth) -> dict[str, str]:
    """Real path parameters, so each attack reaches as deep into its route as it can."""
    inst = engine.start("claim_evaluate", actor="wang", data={})
    task = inst.open_tasks[0]
    return {
        "instance_id": inst.id,
        "task_id": task.id,
        "username": "wang",
        "key": "claim_evaluate",
        "version": "1",
    }


# Bookkeeping that authenticating a request writes, not something the request changed.
USE_STAMPS = {"last_used_at", "last_seen_at"}


def snapshot(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table (less the credentials' last-use stamps)."""
    with engine.store.read() as s:
        return {
            t.name: sorted(
                repr(tuple(r)) for r in s.execute(select(*(c for c in t.columns if c.name not in USE_STAMPS)))
            )
            for t in Base.metadata.sorted_tables
        }


def operations(client: FlaskClient, want_body: bool) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/api/openapi.json").get_json()
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or method not in ("get", "post", "put", "patch", "delete"):
                continue
            takes_json = "application/json" in (op.get("requestBody") or {}).get("content", {})
            if takes_json == want_body:
                out.append((method.upper(), path, op))
    return out


def fill(path: str, ids: dict[str, str], value: str | None = None) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: value if value is not None else ids.get(m.group(1), "x"), path)


def assert_refused(resp: Any, what: str) -> None:  # a test response
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.get_data(as_text=True)[:300]}"
    assert resp.status_code in (400, 401, 403, 404, 405, 409, 413, 415, 422), (
        f"{what}: accepted with {resp.status_code}"
    )
    assert resp.mimetype == PROBLEM_JSON, what


def test_every_json_route_refuses_every_bad_body_and_changes_nothing(
    client: FlaskClient, engine: Engine, auth: Auth, ids: dict[str, str]
) -> None:
    routes = operations(client, want_body=True)
    assert len(routes) >= 15, "the OpenAPI document lists the JSON routes"
    before = snapshot(engine)
    for method, path, _ in routes:
        for name, body in BAD_BODIES.items():
            resp = client.open(
                fill(path, ids),
                method=method,
                data=body,
                content_type="application/json",
                headers=auth.headers("admin"),
            )
            assert_refused(resp, f"{method} {path} with {name}")
            if resp.status_code in (400, 422):
                assert resp.get_json()["detail"], f"{method} {path} with {name} says why"
    assert snapshot(engine) == before


def test_the_refusal_names_the_field_and_the_reason(client: FlaskClient, auth: Auth) -> None:
    resp = client.post(
        "/api/v1/process-instances",
        data=BAD_BODIES["NaN"],
        content_type="application/json",
        headers=auth.headers("wang"),
    )
    assert resp.status_code == 422 and "data.points" in resp.get_json()["errors"]
    resp = client.post(
        "/api/v1/process-instances",
        data=BAD_BODIES["NUL in a value"],
        content_type="application/json",
        headers=auth.headers("wang"),
    )
    assert resp.status_code == 422 and "NUL" in resp.get_json()["detail"]
    resp = client.post(
        "/api/v1/process-instances",
        data=BAD_BODIES["not JSON"],
        content_type="application/json",
        headers=auth.headers("wang"),
    )
    assert resp.status_code == 400 and "not valid JSON" in resp.get_json()["detail"]


def test_every_route_refuses_nul_in_path_and_query_and_changes_nothing(
    client: FlaskClient, engine: Engine, auth: Auth, ids: dict[str, str]
) -> None:
    before = snapshot(engine)
    for method, path, op in operations(client, want_body=False) + operations(client, want_body=True):
        query = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"] or ["q"]
        for url, what in [
            (fill(path, ids) + "?" + "&".join(f"{q}=a%00b" for q in query), "NUL in the query")
        ] + ([(fill(path, ids, "a%00b"), "NUL in the path")] if "{" in path else []):
            resp = client.open(url, method=method, json={}, headers=auth.headers("admin"))
            assert_refused(resp, f"{method} {path}: {what}")
    assert snapshot(engine) == before


def test_every_page_refuses_nul_in_the_query_and_path(
    client: FlaskClient, engine: Engine, ids: dict[str, str]
) -> None:
    """The web pages, from the app's URL map: a NUL never reaches a database query (PostgreSQL refuses it)."""
    engine.upsert_user("admin", roles=["admin"])
    token, _ = engine.create_login_link("admin")
    client.get(f"/login/link/{token}")
    before = snapshot(engine)
    rules = [
        r
        for r in client.application.url_map.iter_rules()
        if "GET" in (r.methods or ()) and not r.rule.startswith(("/api", "/static"))
    ]
    assert len(rules) >= 8, "the pages are in the URL map"
    for rule in rules:
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ids.get(m.group(1), "x"), rule.rule)
        for url in (f"{path}?q=a%00b&period=a%00b&next=a%00b", re.sub(r"<(?:\w+:)?\w+>", "a%00b", rule.rule)):
            resp = client.get(url)
            assert resp.status_code < 500, f"GET {url}: {resp.status_code}"
    assert snapshot(engine) == before


def test_nothing_it_stores_makes_a_listing_invalid_json(client: FlaskClient, auth: Auth) -> None:
    for body in BAD_BODIES.values():
        client.post(
            "/api/v1/process-instances",
            data=body.replace('{"data"', '{"process_key": "claim_evaluate", "data"', 1),
            content_type="application/json",
            headers=auth.headers("wang"),
        )
    resp = client.get("/api/v1/process-instances", headers=auth.headers("admin"))
    assert resp.status_code == 200
    json.loads(
        resp.get_data(as_text=True),
        parse_constant=lambda name: pytest.fail(f"{name} in a response: not JSON"),
    )


def test_forms_refuse_non_finite_points_from_any_caller(
    engine: Engine, auth: Auth, ids: dict[str, str]
) -> None:
    """The engine itself refuses NaN, so a page or CLI caller cannot slip one past the API."""
    task = engine.get_instance(ids["instance_id"]).open_tasks[0]
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(FormInvalidError) as refused:
            engine.complete(task.id, "wang", {**PROBLEM, "proposed_points": bad})
        assert "proposed_points" in refused.value.errors
    with pytest.raises(FormInvalidError):
        engine.complete(task.id, "wang", {**PROBLEM, "title": "a\x00b"})
    assert engine.get_instance(ids["instance_id"]).open_tasks[0].element_id == "submit_problem"


def test_task_page_refuses_nan_in_the_posted_form(
    client: FlaskClient, engine: Engine, ids: dict[str, str]
) -> None:
    token, _ = engine.create_login_link("wang")
    client.get(f"/login/link/{token}")
    page = client.get(f"/tasks/{ids['task_id']}")
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
    form = {
        "data": '{"title": "t", "proposed_points": NaN}',
        **({"csrf_token": csrf.group(1).decode()} if csrf else {}),
    }
    before = snapshot(engine)
    resp = client.post(f"/tasks/{ids['task_id']}/complete", data=form)
    # the field is named by its label, in the page's language
    assert resp.status_code == 422 and '<li data-path="proposed_points">建议分值：' in resp.get_data(
        as_text=True
    )
    assert snapshot(engine) == before


def test_board_page_refuses_an_infinite_share(
    client: FlaskClient, engine: Engine, auth: Auth, clock: ManualClock
) -> None:
    walk = HttpWalk(client, auth, clock)
    walk.publish()
    token, _ = engine.create_login_link("zhangjie")
    client.get(f"/login/link/{token}")
    page = client.get("/board")
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    before = snapshot(engine)
    for share in ("inf", "-inf", "nan", "1e999"):
        form = {
            "csrf_token": csrf,
            "kind": "team",
            "plan": "p",
            "pledge": "x",
            "member": ["li"],
            "share": [share],
            "leader_share": "50",
        }
        resp = client.post(f"/board/{walk.instance_id}/claims", data=form)
        assert resp.status_code < 500, (share, resp.status_code)
    assert snapshot(engine) == before


def test_deployed_form_schema_with_nan_is_refused(engine: Engine) -> None:
    with pytest.raises(DefinitionInvalidError) as refused:
        engine.deploy(
            {
                "nan_form.bpmn": _one_task_bpmn(),
                "nan.json": b'{"type": "object", "properties": {"p": {"maximum": NaN}}}',
            }
        )
    assert "form-not-json" in [p.code for p in refused.value.problems]
    assert "nan_form" not in {d.key for d in engine.list_definitions()}


def test_a_script_that_computes_nan_fails_its_step_naming_the_variable_and_stores_no_nan(
    engine: Engine,
) -> None:
    engine.deploy({"nan_script.bpmn": _script_bpmn('x = float("nan")')})
    instance = engine.start("nan_script", actor="wang", data={})
    assert instance.status == "error" and "x" not in instance.data
    failure = engine.history(instance.id)[-1]
    assert failure.event == "instance.error" and "'x'" in failure.data["error"]
    json.dumps(instance.data, allow_nan=False)  # what the API would write is valid JSON


def _one_task_bpmn() -> bytes:
    return b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="nan_form" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="u"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="nan.json"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="u"/>
    <bpmn:sequenceFlow id="f2" sourceRef="u" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def _script_bpmn(script: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="nan_script" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="calc" scriptFormat="python"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="u"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="calc"/>
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="u"/>
    <bpmn:sequenceFlow id="f3" sourceRef="u" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def test_cli_deploy_and_validate_refuse_a_form_file_with_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIEBANG_DATABASE_URL", f"sqlite:///{tmp_path}/cli.sqlite3")
    (tmp_path / "nan_form.bpmn").write_bytes(_one_task_bpmn())
    (tmp_path / "nan.json").write_text('{"type": "object", "properties": {"p": {"maximum": Infinity}}}')
    files = [str(tmp_path / "nan_form.bpmn"), str(tmp_path / "nan.json")]
    assert cli_main(["validate", *files]) == 1
    assert "form-not-json" in capsys.readouterr().out
    assert cli_main(["deploy", *files]) != 0
    engine = Engine(f"sqlite:///{tmp_path}/cli.sqlite3", deploy_shipped=False)
    assert "nan_form" not in {d.key for d in engine.list_definitions()}
    engine.store.dispose()
