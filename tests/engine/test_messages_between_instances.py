"""A BPMN message thrown inside one instance reaches the instance that waits for it, exactly once,
in the throwing step's transaction; no receiver fails the step, loses nothing, and stops the thrower
with an incident an admin can retry once a receiver exists."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import Engine, UnroutableMessageError
from engine.tables import Instance, MessageSubscription

DATA = Path(__file__).resolve().parent.parent / "data" / "engine"
FILES = ("relay_desk", "relay_keyed_desk", "relay_intake", "relay_village", "relay_timed")


@pytest.fixture
def engine(make_engine) -> Engine:
    built = make_engine()
    for name in FILES:
        built.deploy({f"{name}.bpmn": (DATA / f"{name}.bpmn").read_bytes()}, actor="admin")
    return built


def village(engine: Engine, **data: str) -> str:
    """A village instance whose courtyard meeting is open; returns the meeting task."""
    started = engine.start("relay_village", actor="zhou", data=data)
    return next(t.id for t in started.open_tasks if t.element_id == "meet")


def test_an_escalation_thrown_by_a_village_reaches_the_desk_named_by_its_business_key(engine: Engine) -> None:
    county = engine.start("relay_desk", actor="admin", business_key="county-pingli")
    other = engine.start("relay_desk", actor="admin", business_key="county-ziyang")
    meeting = village(engine, target="county-pingli", problem="产业路不通", way="escalate")

    after = engine.complete(meeting, "zhou", {})

    assert after.active_elements == ["follow_up"]  # the thrower went on in the same step
    assert engine.get_instance(county.id).data["received"] == ["产业路不通"]
    assert engine.get_instance(other.id).data["received"] == []
    history = engine.history(county.id)
    received = [e for e in history if e.event == "message.received"]
    assert [(e.data["name"], e.data["from_instance"]) for e in received] == [("problem_escalated", after.id)]


def test_the_desk_keeps_waiting_and_takes_every_escalation_once(engine: Engine) -> None:
    county = engine.start("relay_desk", actor="admin", business_key="county-pingli")
    for problem in ("手机信号弱", "饮水不安全", "危房改造"):
        engine.complete(village(engine, target="county-pingli", problem=problem, way="escalate"), "zhou", {})
    assert engine.get_instance(county.id).data["received"] == ["手机信号弱", "饮水不安全", "危房改造"]


def test_no_receiver_stops_the_thrower_with_an_incident_until_an_admin_retries(engine: Engine) -> None:
    engine.upsert_user("admin", roles=["admin"])
    meeting = village(engine, target="county-nowhere", problem="垃圾治理", way="escalate")
    thrower = engine.get_task(meeting, "zhou").task.instance_id

    with pytest.raises(UnroutableMessageError, match="no instance waits for message 'problem_escalated'"):
        engine.complete(meeting, "zhou", {"note": "村里垃圾无人清运"})

    stopped = engine.get_instance(thrower)
    assert stopped.status == "error" and stopped.active_elements == ["meet"]  # where it stood before
    (incident,) = engine.list_incidents("admin")
    assert (incident.kind, incident.instance_id, incident.element_id) == ("message", thrower, "escalate")
    assert "problem_escalated" in incident.message and incident.data["problem"] == "垃圾治理"
    assert engine.list_tasks("zhou", scope="mine").items == []  # out of the inbox while it is stopped

    engine.start("relay_desk", actor="admin", business_key="county-nowhere")  # the receiver is made
    engine.retry_incident(incident.id, "admin")

    assert engine.get_task(meeting, "zhou").task.status == "open"  # the meeting is offered again
    assert engine.complete(meeting, "zhou", {}).active_elements == ["follow_up"]
    assert engine.list_incidents("admin") == []


def test_two_receivers_for_one_message_are_refused_as_ambiguous(engine: Engine) -> None:
    engine.start("relay_desk", actor="admin", business_key="county-pingli")
    engine.start("relay_desk", actor="admin", business_key="county-pingli")
    meeting = village(engine, target="county-pingli", problem="产业路不通", way="escalate")
    with pytest.raises(UnroutableMessageError, match="2 instances wait"):
        engine.complete(meeting, "zhou", {})
    assert engine.get_task(meeting, "zhou").task.status == "suspended"
    engine.upsert_user("admin", roles=["admin"])
    (incident,) = engine.list_incidents("admin")
    assert incident.kind == "message" and "business_key" in incident.message


def test_a_timer_whose_message_reaches_no_one_stops_its_instance_at_once(engine: Engine, clock) -> None:
    engine.upsert_user("admin", roles=["admin"])
    timed = engine.start("relay_timed", actor="zhou", data={"target": "county-nowhere", "problem": "断桥"})
    clock.advance(timedelta(hours=2))

    engine.run_due_jobs()

    assert engine.get_instance(timed.id).status == "error"
    (incident,) = engine.list_incidents("admin")
    assert (incident.kind, incident.instance_id) == ("message", timed.id)  # not ten retries first
    engine.run_due_jobs()  # its timer is parked with the instance, not failing again
    assert engine.list_incidents("admin")[0].attempts == 1


def test_correlation_keys_pick_the_county_that_waits_for_its_own_villages(engine: Engine) -> None:
    pingli = engine.start("relay_keyed_desk", actor="admin", data={"county": "平利县"})
    ziyang = engine.start("relay_keyed_desk", actor="admin", data={"county": "紫阳县"})

    ended = engine.complete(village(engine, county="平利县", problem="网络覆盖", way="common"), "zhou", {})

    assert ended.status == "completed"  # the message was thrown by the end event
    assert engine.get_instance(pingli.id).active_elements == ["study"]
    assert engine.get_instance(pingli.id).data["common"] == {"county": "平利县", "problem": "网络覆盖"}
    assert engine.get_instance(ziyang.id).active_elements == ["wait_common"]
    with pytest.raises(UnroutableMessageError):  # 平利's desk no longer waits; nobody else matches
        engine.complete(village(engine, county="平利县", problem="再次上报", way="common"), "zhou", {})


def test_a_message_start_event_starts_one_new_instance_per_message(engine: Engine) -> None:
    for title in ("道路硬化", "安全饮水"):
        engine.complete(village(engine, problem=title, way="raise"), "zhou", {})
    with engine.store.read() as s:
        rows = s.scalars(select(Instance).where(Instance.process_key == "relay_intake")).all()
        assert sorted(r.data["problem"]["title"] for r in rows) == ["安全饮水", "道路硬化"]
        assert {tuple(r.active_elements) for r in rows} == {("triage",)}
        assert s.scalar(select(func.count()).select_from(MessageSubscription)) == 0  # no stray start waits


def test_two_workers_firing_timers_that_throw_deliver_each_message_exactly_once(
    make_engine, engine: Engine, clock
) -> None:
    county = engine.start("relay_desk", actor="admin", business_key="county-pingli")
    for n in range(4):
        engine.start("relay_timed", actor="zhou", data={"target": "county-pingli", "problem": f"问题{n}"})
    clock.advance(timedelta(hours=2))
    workers = [make_engine(), make_engine()]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(worker: Engine) -> None:
        barrier.wait()
        try:
            for _ in range(5):  # a job whose delivery lost a race is retried by a later round
                worker.run_due_jobs()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    clock.advance(timedelta(hours=1))  # retries back off: let any left run
    engine.run_due_jobs()
    assert sorted(engine.get_instance(county.id).data["received"]) == ["问题0", "问题1", "问题2", "问题3"]
    with engine.store.read() as s:
        statuses = s.scalars(select(Instance.status).where(Instance.process_key == "relay_timed")).all()
        assert statuses == ["completed"] * 4


def test_thrown_messages_are_not_kept_in_the_saved_state(engine: Engine) -> None:
    engine.start("relay_desk", actor="admin", business_key="county-pingli")
    done = engine.complete(village(engine, target="county-pingli", problem="p", way="escalate"), "zhou", {})
    with engine.store.read() as s:
        state = s.get_one(Instance, done.id).state
    assert '"bpmn_events": []' in state or '"bpmn_events":[]' in state


@pytest.mark.parametrize(
    ("receiver", "waiting", "after"),
    [("relay_receive", "receive", "read"), ("relay_watch", "watch", "handle_escalation")],
)
def test_a_receive_task_and_an_event_subprocess_catch_a_thrown_message(
    engine: Engine, receiver: str, waiting: str, after: str
) -> None:
    engine.deploy({f"{receiver}.bpmn": (DATA / f"{receiver}.bpmn").read_bytes()}, actor="admin")
    target = engine.start(receiver, actor="admin", business_key="county-shiquan")
    assert waiting in engine.get_instance(target.id).active_elements
    engine.complete(village(engine, target="county-shiquan", problem="危房改造", way="escalate"), "zhou", {})
    caught = engine.get_instance(target.id)
    assert after in caught.active_elements
    assert caught.data["escalation"] == {"business_key": "county-shiquan", "problem": "危房改造"}
