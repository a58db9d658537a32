"""The engine's runtime guarantees: concurrency, long loops, sandbox, hostile XML, versions, timers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import (
    ConflictError,
    DefinitionInvalidError,
    Engine,
    HostileDiagramError,
    ScriptError,
)
from engine.tables import AuditEvent, Instance
from tests.walk import Walk

DATA = Path(__file__).resolve().parent.parent / "data" / "engine"


def deploy(engine: Engine, name: str, text: str | None = None) -> None:
    engine.deploy({name: (text or (DATA / name).read_text()).encode()}, actor="admin")


def test_two_threads_completing_one_task_exactly_one_wins(make_engine, clock) -> None:
    walk = Walk(make_engine, clock)
    walk.submit()
    review = walk.open_task("preliminary_review")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def complete(engine: Engine) -> None:
        barrier.wait()
        try:
            engine.complete(review.id, "zhao", {"decision": "approve"})
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=complete, args=(make_engine(),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert walk.open_elements() == ["committee_approval"]
    assert walk.events().count("task.complete") == 2  # submit + one review, never two


def test_two_racing_claims_by_one_leader_file_one_claim(make_engine, clock) -> None:
    """The board's checks (one claim per leader) run under the instance lock, in the step that files it."""
    walk = Walk(make_engine, clock)
    walk.publish()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def claim(engine: Engine) -> None:
        barrier.wait()
        try:
            engine.file_claim(
                walk.instance_id, "zhou", {"kind": "individual", "plan": "逐户走访", "pledge": "不完成不收兵"}
            )
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=claim, args=(make_engine(),)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert [c["leader"] for c in walk.data()["claims"]] == ["zhou"]


@pytest.mark.slow
def test_a_thousand_progress_reports_on_one_instance(make_engine, clock) -> None:
    walk = Walk(make_engine, clock)
    walk.publish()
    walk.claim_individual("zhou")
    walk.close_claim_window()
    walk.do("select_claim", "sun", {"selected": 0})
    engine = walk.engine
    sizes = {}
    for n in range(1, 1001):
        task = engine.list_tasks("zhou", scope="mine").items[0]
        engine.complete(
            task.id,
            "zhou",
            {"progress_percent": n % 100, "summary": f"第 {n} 次", "status_self": "on_track", "final": False},
        )
        if n in (5, 100, 1000):
            with engine.store.read() as s:
                sizes[n] = len(s.get(Instance, walk.instance_id).state)
    assert walk.data()["reports_count"] == 1000
    assert walk.open_elements() == ["progress_report"]
    assert sizes[1000] <= sizes[5] * 1.5, sizes  # history is compacted, not carried
    walk.finish_supervision()
    assert walk.accept("pass", "good").status == "completed"


@pytest.mark.slow
def test_a_plain_gateway_loop_passes_a_thousand_times_with_bounded_state(engine: Engine) -> None:
    deploy(engine, "gateway_loop.bpmn")
    inst = engine.start("check_in_loop", actor="wang")
    sizes = []
    for n in range(1000):
        task = engine.list_tasks("wang", scope="mine").items[0]
        engine.complete(task.id, "wang", {"done": n == 999})
        if n % 100 == 0:
            with engine.store.read() as s:
                sizes.append(len(s.get(Instance, inst.id).state))
    final = engine.get_instance(inst.id)
    assert final.status == "completed"
    assert final.data["count"] == 1000
    assert max(sizes[1:]) <= 1.5 * min(sizes[1:]), sizes  # flat: loop 900 costs what loop 100 did
    assert [e.event for e in engine.history(inst.id)].count("task.complete") == 1000


@pytest.mark.parametrize(
    "script",
    [
        "rc = __import__('os').system('touch MARKER')",
        "import os\nrc = os.system('touch MARKER')",
        "x = open('/etc/hostname').read()",
        "x = [c for c in ().__class__.__base__.__subclasses__()]",
        "while True:\n    pass",
    ],
    ids=["dunder-import", "import", "open", "subclass-walk", "endless-loop"],
)
def test_hostile_script_marks_the_instance_error_and_harms_nothing(
    make_engine, tmp_path, monkeypatch, script: str
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine(script_time_limit=0.5)
    marker = tmp_path / "MARKER"
    deploy(
        engine,
        "hostile_script.bpmn",
        (DATA / "hostile_script.bpmn").read_text().replace("SCRIPT", script.replace("MARKER", str(marker))),
    )
    inst = engine.start("hostile", actor="wang")
    task = inst.open_tasks[0]
    started = time.monotonic()
    with pytest.raises(ScriptError):
        engine.complete(task.id, "wang", {"answer": 42})
    assert time.monotonic() - started < 10
    after = engine.get_instance(inst.id)
    assert after.status == "error"
    assert after.error
    assert not marker.exists()
    assert "instance.error" in [e.event for e in engine.history(inst.id)]
    with pytest.raises(ConflictError):
        engine.complete(task.id, "wang", {"answer": 42})
    other = engine.start("claim_evaluate", actor="wang")  # nothing else harmed
    assert other.status == "running"


@pytest.mark.parametrize(
    "xml",
    [
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</bpmn:definitions>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;</bpmn:definitions>',
        "<a>" * 5000 + "</a>" * 5000,
        "not xml at all",
    ],
    ids=["entity-bomb", "external-entity", "deep-nesting", "garbage"],
)
def test_hostile_xml_is_refused_before_parsing_finishes(engine: Engine, xml: str) -> None:
    shipped = [d.key for d in engine.list_definitions()]
    with pytest.raises(DefinitionInvalidError) as err:
        engine.deploy({"evil.bpmn": xml.encode()}, actor="admin")
    assert err.value.problems
    assert err.value.problems[0].message and err.value.problems[0].message_zh
    assert "claim_evaluate" in shipped
    assert [d.key for d in engine.list_definitions()] == shipped  # nothing deployed


def test_oversized_diagram_is_refused(engine: Engine) -> None:
    with pytest.raises(HostileDiagramError):
        engine.deploy({"big.bpmn": b"<a>" + b" " * 6_000_000 + b"</a>"}, actor="admin")


def test_invalid_diagram_names_the_element(engine: Engine) -> None:
    broken = (
        (DATA / "gateway_loop.bpmn")
        .read_text()
        .replace(
            '<bpmn:sequenceFlow id="f7" sourceRef="more" targetRef="end">',
            '<bpmn:sequenceFlow id="f7" sourceRef="more" targetRef="nowhere">',
        )
    )
    with pytest.raises(DefinitionInvalidError) as err:
        engine.deploy({"loop.bpmn": broken.encode()}, actor="admin")
    assert any(p.element_id for p in err.value.problems), err.value.problems


def test_running_instances_keep_their_version(engine: Engine) -> None:
    deploy(engine, "gateway_loop.bpmn")
    old = engine.start("check_in_loop", actor="wang")
    renamed = (DATA / "gateway_loop.bpmn").read_text().replace('name="Check in"', 'name="Weekly check in"')
    deploy(engine, "gateway_loop.bpmn", renamed)
    assert engine.get_definition("check_in_loop").versions == [1, 2]
    new = engine.start("check_in_loop", actor="wang")
    assert (old.version, new.version) == (1, 2)
    assert engine.get_instance(old.id).open_tasks[0].name == "Check in"
    assert engine.get_instance(new.id).open_tasks[0].name == "Weekly check in"
    engine.complete(old.open_tasks[0].id, "wang", {"done": True})
    assert engine.get_instance(old.id).status == "completed"
    deploy(engine, "gateway_loop.bpmn", renamed)  # identical content is not a new version
    assert engine.get_definition("check_in_loop").versions == [1, 2]


def test_timer_jobs_follow_the_workflow_and_fire_once_with_the_injected_clock(make_engine, clock) -> None:
    walk = Walk(make_engine, clock)
    walk.publish()
    job = walk.engine.list_jobs(instance_id=walk.instance_id).items[0]
    assert job.kind == "timer"
    assert job.element_id == "claim_window_closed"
    assert job.due_at.isoformat() == walk.data()["claim_deadline"]
    assert walk.engine.run_due_jobs() == 0  # not due yet: time stands still in tests
    clock.advance(days=13)
    assert walk.engine.run_due_jobs() == 0
    walk.engine.execute_job(job.id, actor="sun")  # close the claim window early
    assert walk.data()["republished"] == 1
    fired = [e for e in walk.engine.history(walk.instance_id) if e.event == "timer.fired"]
    assert len(fired) == 1


def test_every_action_is_in_the_audit_log_with_its_actor(make_engine, clock) -> None:
    walk = Walk(make_engine, clock)
    walk.submit()
    review = walk.open_task("preliminary_review")
    walk.engine.claim(review.id, "zhao")
    walk.engine.unclaim(review.id, "zhao")
    walk.review()
    walk.approve()
    walk.claim_individual("zhou")
    walk.engine.cancel(walk.instance_id, actor="wang", reason="并入其他事项")
    history = walk.engine.history(walk.instance_id)
    seen = [
        (e.event, e.actor)
        for e in history
        if e.event
        in (
            "instance.start",
            "task.claim",
            "task.unclaim",
            "task.complete",
            "message.received",
            "instance.cancel",
        )
    ]
    assert seen == [
        ("instance.start", "wang"),
        ("task.complete", "wang"),
        ("task.claim", "zhao"),
        ("task.unclaim", "zhao"),
        ("task.complete", "zhao"),
        ("task.complete", "sun"),
        ("message.received", "zhou"),
        ("instance.cancel", "wang"),
    ]
    complete = next(e for e in history if e.event == "task.complete" and e.actor == "zhao")
    assert complete.data["form"] == {"decision": "approve", "comment": "符合条件"}


def test_a_workflow_loaded_from_the_database_runs_on_the_sandbox(engine: Engine) -> None:
    from engine.sandbox.environment import SandboxScriptEngine

    inst = engine.start("claim_evaluate", actor="wang")
    with engine.store.read() as s:
        row = s.get(Instance, inst.id)
        workflow = engine.runner.load(engine.runner.model_of(s, row), row)
    assert isinstance(workflow.script_engine, SandboxScriptEngine)
    assert all(isinstance(sp.script_engine, SandboxScriptEngine) for sp in workflow.subprocesses.values())


@pytest.mark.parametrize("version", [0, -1, 18988481781325173182431232])
def test_a_version_that_cannot_exist_is_not_found(engine: Engine, version: int) -> None:
    from engine import NotFoundError

    with pytest.raises(NotFoundError):
        engine.definition_files("claim_evaluate", version)
    with pytest.raises(NotFoundError):
        engine.start("claim_evaluate", actor="wang", version=version)


def test_a_restart_redeploys_nothing_and_records_nothing(make_engine) -> None:
    """Every start deploys the shipped diagrams; once they are there, a start only reads."""
    shipped = {d.key: d.version for d in make_engine().deploy_shipped()}

    again = make_engine()

    assert {d.key: d.version for d in again.deploy_shipped()} == shipped
    with again.store.read() as s:
        deploys = s.scalar(select(func.count()).where(AuditEvent.event == "model.deploy"))
    assert deploys == len(shipped)  # one per diagram, from the first start only
