"""Hostile diagrams: every upload an attacker (or a careless modeler) can send is refused with a
4xx problem+json that says why, quickly, and nothing is deployed; what is big but legitimate
deploys without holding up other writers.
"""

from __future__ import annotations

import gc
import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from engine import DefinitionInvalidError, Engine, FormInvalidError
from engine.definitions.modelrules import MAX_PATH_ELEMENTS
from tests.api.conftest import Auth, make_app

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">\n'


def process(pid: str, body: str) -> bytes:
    return f'{HEAD}<bpmn:process id="{pid}" isExecutable="true">\n{body}</bpmn:process>\n</bpmn:definitions>\n'.encode()


PASS_THROUGH = "intermediateThrowEvent"  # runs on by itself (a plain task waits for a person here)


def chain(pid: str, n: int, kind: str = PASS_THROUGH, first: str = "s", last: str = "e") -> str:
    """``n`` elements one after another, from ``first`` to ``last`` (which the caller declares)."""
    parts = []
    for i in range(n):
        parts.append(
            f'<bpmn:{kind} id="{pid}_{i}"><bpmn:incoming>{pid}_f{i}</bpmn:incoming><bpmn:outgoing>{pid}_f{i + 1}</bpmn:outgoing></bpmn:{kind}>\n'
        )
        parts.append(
            f'<bpmn:sequenceFlow id="{pid}_f{i}" sourceRef="{first if i == 0 else f"{pid}_{i - 1}"}" targetRef="{pid}_{i}"/>\n'
        )
    parts.append(f'<bpmn:sequenceFlow id="{pid}_f{n}" sourceRef="{pid}_{n - 1}" targetRef="{last}"/>\n')
    return "".join(parts)


def chain_process(n: int, kind: str = PASS_THROUGH) -> bytes:
    return process("chain", f'<bpmn:startEvent id="s"/>\n{chain("c", n, kind)}<bpmn:endEvent id="e"/>\n')


def wide_process(branches: int, length: int) -> bytes:
    """A parallel split into ``branches`` chains of ``length`` tasks: many tasks, short paths."""
    body = [
        '<bpmn:startEvent id="s"/>\n<bpmn:parallelGateway id="split"/>\n<bpmn:parallelGateway id="join"/>\n<bpmn:endEvent id="e"/>\n',
        '<bpmn:sequenceFlow id="to_split" sourceRef="s" targetRef="split"/>\n<bpmn:sequenceFlow id="to_end" sourceRef="join" targetRef="e"/>\n',
    ]
    body += [chain(f"b{b}", length, first="split", last="join") for b in range(branches)]
    return process("wide", "".join(body))


def form_process(form: str) -> bytes:
    return process(
        "formed",
        f"""<bpmn:startEvent id="s"/>
<bpmn:userTask id="fill"><bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fill"/><bpmn:sequenceFlow id="f2" sourceRef="fill" targetRef="e"/>
""",
    )


BILLION_LAUGHS = b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</bpmn:definitions>'
XXE_FILE = b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>'
EXTERNAL_DTD = b'<?xml version="1.0"?>\n<!DOCTYPE d SYSTEM "http://169.254.169.254/evil.dtd">\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'
PARAMETER_ENTITY = b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1/x.dtd"> %p;]>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.bpmn", b"\0" * 20_000_000)
    return buf.getvalue()


def timer_process(kind: str, value: str) -> bytes:
    return process(
        "timed",
        f"""<bpmn:startEvent id="s"/>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/><bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e"/>
""",
    )


def property_process(name: str, value: str) -> bytes:
    return process(
        "propped",
        f"""<bpmn:startEvent id="s"/>
<bpmn:userTask id="review"><bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="{name}" value="{value}"/></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/><bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e"/>
""",
    )


BAD_TIMERS = [
    ("timeDuration", "not a duration"),
    ("timeDuration", "P99999999999999999999D"),
    ("timeDuration", "-P1D"),
    ("timeDuration", '"not a duration"'),
    ("timeDuration", "'P99999999999999999999D'"),
    ("timeDuration", "'-P1D'"),
    ("timeDuration", "P99999999999M"),
    ("timeDuration", "P"),
    ("timeDate", "9999-99-99"),
    ("timeDate", '"2026-13-45T00:00:00"'),
    ("timeCycle", "R/P99999999999M"),
    ("timeCycle", "R5/PT0S"),
    ("timeCycle", "R5/not-a-duration"),
    ("timeCycle", "0 0 * * *"),
]
BAD_PROPERTIES = [
    ("dueIn", "P99999999999M"),
    ("dueIn", "soon"),
    ("timeout", "-P1D"),
    ("timeoutAction", "explode"),
    ("approvalMode", "ratio:7"),
    ("approvalMode", "most"),
]

HOSTILE: dict[str, dict[str, bytes]] = {
    **{f"timer {kind} {value}": {"x.bpmn": timer_process(kind, value)} for kind, value in BAD_TIMERS},
    **{
        f"property {name}={value}": {"x.bpmn": property_process(name, value)}
        for name, value in BAD_PROPERTIES
    },
    "billion laughs": {"x.bpmn": BILLION_LAUGHS},
    "external entity to a file": {"x.bpmn": XXE_FILE},
    "external DTD over HTTP": {"x.bpmn": EXTERNAL_DTD},
    "parameter entity": {"x.bpmn": PARAMETER_ENTITY},
    "huge attribute": {"x.bpmn": process("p", f'<bpmn:startEvent id="s" name="{"A" * 200_000}"/>')},
    "10,000-deep nesting": {
        "x.bpmn": (HEAD + "<a>" * 10_000 + "</a>" * 10_000 + "</bpmn:definitions>").encode()
    },
    "60,000 elements": {"x.bpmn": process("p", "<bpmn:documentation/>" * 60_000)},
    "6 MB file": {"x.bpmn": process("p", "<!--" + "x" * 6_000_000 + "-->")},
    f"{6000}-task chain": {"x.bpmn": chain_process(6000)},
    "non-BPMN XML": {"x.bpmn": b'<?xml version="1.0"?><html><body>hello</body></html>'},
    "SVG": {"x.bpmn": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'},
    "binary junk": {"x.bpmn": bytes(range(256)) * 64},
    "empty file": {"x.bpmn": b""},
    "UTF-16 text": {"x.bpmn": process("p", '<bpmn:startEvent id="s"/>').decode().encode("utf-16")},
    "zip bomb as .bpmn": {"x.bpmn": _zip_bomb()},
    "zip archive": {"x.zip": _zip_bomb()},
    "executable": {"x.exe": b"MZ\x90\x00" + b"\0" * 100},
    "no process": {"x.bpmn": (HEAD + "</bpmn:definitions>").encode()},
    "form file with NaN": {
        "x.bpmn": form_process("f.json"),
        "f.json": b'{"type": "object", "properties": {"p": {"maximum": NaN}}}',
    },
    "form file 5,000 deep": {"x.bpmn": form_process("f.json"), "f.json": b"[" * 5000 + b"]" * 5000},
    "form path traversal": {"x.bpmn": form_process("../../etc/passwd")},
    "form with a catastrophic pattern": {
        "x.bpmn": form_process("f.json"),
        "f.json": json.dumps(
            {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}}
        ).encode(),
    },
    "form with a catastrophic patternProperties key": {
        "x.bpmn": form_process("f.json"),
        "f.json": json.dumps({"type": "object", "patternProperties": {"^(\\w+\\s?)*$": {}}}).encode(),
    },
}


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    built = Engine(sqlite_url)
    yield built
    built.store.dispose()


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    return make_app(
        {"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test", "MAX_CONTENT_LENGTH": 8 * 1024 * 1024}
    ).test_client()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_upload_is_refused_quickly_and_deploys_nothing(
    name: str, engine: Engine, client: FlaskClient
) -> None:
    auth = Auth(engine)
    auth.user("admin", roles=["admin"])
    deployed = [(d.key, d.version) for d in engine.list_definitions()]
    files = {"file": [(io.BytesIO(data), fname) for fname, data in HOSTILE[name].items()]}
    # CPU time of this thread (the test client serves in it), with the collector held off: the bound is
    # about the work a refusal does, not the wait for a core on a loaded machine or a long worker's heap.
    gc.collect()
    gc.disable()
    try:
        started = time.thread_time()
        resp = client.post(
            "/api/v1/process-definitions",
            data=files,
            content_type="multipart/form-data",
            headers=auth.headers("admin"),
        )
        elapsed = time.thread_time() - started
    finally:
        gc.enable()
    assert 400 <= resp.status_code < 500, (name, resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "application/problem+json", name
    assert resp.get_json()["detail"], name
    assert elapsed < 5, f"{name}: refusing took {elapsed:.1f} s"
    assert [(d.key, d.version) for d in engine.list_definitions()] == deployed, name


def test_the_refusal_of_a_long_chain_names_the_limit(engine: Engine) -> None:
    with pytest.raises(DefinitionInvalidError) as refused:
        engine.deploy({"chain.bpmn": chain_process(6000)})
    [problem] = refused.value.problems
    assert problem.code == "process-too-long" and problem.element_id == "chain"
    assert f"{MAX_PATH_ELEMENTS:,}" in problem.message and "6,002" in problem.message


def test_a_chain_at_the_limit_deploys_and_runs_to_the_end(engine: Engine) -> None:
    """Before, 480 elements exhausted the recursion limit while parsing; the parse is now iterative."""
    engine.deploy({"chain.bpmn": chain_process(MAX_PATH_ELEMENTS - 2)})
    inst = engine.start("chain", actor="wang", data={})
    assert inst.status == "completed"


def test_a_long_chain_of_user_tasks_deploys_starts_and_steps(engine: Engine) -> None:
    engine.deploy({"chain.bpmn": chain_process(MAX_PATH_ELEMENTS - 2, kind="userTask")})
    inst = engine.start("chain", actor="wang", data={})
    for _ in range(3):
        [task] = engine.get_instance(inst.id).open_tasks
        engine.complete(task.id, "wang", {})
    assert [t.element_id for t in engine.get_instance(inst.id).open_tasks] == ["c_3"]


def test_a_6000_task_deploy_does_not_block_other_writers(engine: Engine) -> None:
    """Validation and parsing run before the write transaction: SQLite writers are not queued behind them."""
    big = wide_process(branches=20, length=300)  # 6,000 tasks
    latencies: list[float] = []
    stop = threading.Event()

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            started = time.monotonic()
            engine.upsert_user(f"writer{n % 3}", display_name=str(n))
            latencies.append(time.monotonic() - started)
            n += 1
            time.sleep(0.01)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    started = time.monotonic()
    try:
        record = engine.deploy({"wide.bpmn": big})
    finally:
        stop.set()
        writer.join()
    took = time.monotonic() - started
    assert record.key == "wide"
    assert len(latencies) >= 5, f"the writer ran while the {took:.1f} s deploy did"
    # Blocked, a write waits as long as the deploy runs; a loaded machine slows each write a little.
    assert max(latencies) < max(1.5, took / 2), (
        f"a write waited {max(latencies):.2f} s behind the deploy ({took:.1f} s)"
    )
    assert engine.get_definition("wide").version == 1


def test_a_catastrophic_pattern_is_refused_at_deploy_naming_form_and_field(engine: Engine) -> None:
    form = {
        "type": "object",
        "properties": {
            "members": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"phone": {"type": "string", "pattern": "^(\\d+)+$"}},
                },
            }
        },
    }
    with pytest.raises(DefinitionInvalidError) as refused:
        engine.deploy({"formed.bpmn": form_process("team.json"), "team.json": json.dumps(form).encode()})
    [problem] = [p for p in refused.value.problems if p.code == "form-pattern-unsafe"]
    assert (
        "team.json" in problem.message
        and "members.phone" in problem.message
        and "^(\\d+)+$" in problem.message
    )


def test_a_stored_catastrophic_pattern_is_matched_in_linear_time() -> None:
    """A form deployed before patterns were vetted still cannot stall the server: RE2 matches it."""
    from engine.definitions.forms import validate

    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}},
        "patternProperties": {"^(x+)+$": {"type": "string"}},
    }
    started = time.thread_time()  # work done, not the wait for a core on a loaded machine
    for n in (24, 28, 5000):
        with pytest.raises(FormInvalidError):
            validate(schema, {"code": "a" * n + "!"})
        with pytest.raises(FormInvalidError):
            validate(schema, {"x" * n: 1})
    elapsed = time.thread_time() - started
    assert elapsed < 0.5, (
        f"matching took {elapsed:.2f} s (Python's re needs ~0.84 s at 24 characters, doubling per character)"
    )
