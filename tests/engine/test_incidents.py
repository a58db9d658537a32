"""Incidents: a failing script stops its instance at its last good state with an incident naming the
element, the error and the data; an admin repairs the data and retries, and the instance goes on.
A failing job is retried a declared number of times, then parked as an incident. Cancelling closes
the incidents; nobody but an admin repairs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import insert

from engine import ConflictError, Engine, InvalidInputError, ManualClock, NotAllowedError, ScriptError
from engine.incidents import MAX_JOB_ATTEMPTS, IncidentRecord
from engine.incidents.tables import Incident
from engine.organisation import PostAssignment, set_posts, upsert_unit
from engine.tables import Job

SHARE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="share" name="Share" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startVariables" value="budget" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count" />
    <bpmn:userTask id="count" name="Count people"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="Wait a day"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="divide" />
    <bpmn:scriptTask id="divide" name="Divide the budget"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>share = budget / people</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="divide" targetRef="confirm" />
    <bpmn:userTask id="confirm" name="Confirm"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f5" sourceRef="confirm" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def share(engine: Engine) -> Engine:
    engine.upsert_user("admin", roles=["admin"])
    engine.upsert_user("wang")
    engine.deploy({"share.bpmn": SHARE}, actor="admin")
    return engine


def stopped_by_the_timer(engine: Engine, clock: ManualClock) -> str:
    """wang counts 0 people; a day later the division fails: the instance stops with an incident."""
    iid = engine.start("share", actor="wang", data={"budget": 1000}).id
    task = engine.get_instance(iid).open_tasks[0]
    engine.complete(task.id, "wang", {"people": 0})
    clock.advance(timedelta(days=1, minutes=1))
    engine.run_due_jobs()
    return iid


def parked_after_failures(
    engine: Engine, clock: ManualClock, job_id: str, handler: Callable[[Job, bool], None]
) -> IncidentRecord:
    """A job of a kind of its own, run by the worker loop until it fails ``MAX_JOB_ATTEMPTS`` times
    (the clock moving past each back-off): parked, with its incident."""
    engine.job_handlers["archive"] = handler
    with engine.store.write() as s:
        s.add(
            Job(id=job_id, kind="archive", due_at=clock.now(), payload={}, attempts=0, created_at=clock.now())
        )
    for _ in range(MAX_JOB_ATTEMPTS):
        engine.run_due_jobs(kinds=["archive"])
        clock.advance(timedelta(hours=7))  # past the longest back-off
    [incident] = engine.list_incidents("admin")
    return incident


def test_a_failing_script_opens_an_incident_and_a_retry_after_repair_goes_on(
    share: Engine, clock: ManualClock
) -> None:
    iid = stopped_by_the_timer(share, clock)

    assert share.get_instance(iid).status == "error"
    [incident] = share.list_incidents("admin")
    assert (incident.kind, incident.instance_id, incident.element_id) == ("script", iid, "divide")
    assert "ZeroDivisionError" in incident.message and incident.data["people"] == 0
    assert incident.attempts == 1
    with share.store.read() as s:  # its timer is parked, not retried every few hours
        assert [j.locked_by for j in s.query(Job).filter_by(instance_id=iid)] in ([], ["incident"])

    with pytest.raises(ScriptError):  # retried without repair: fails again, one more attempt
        share.retry_incident(incident.id, "admin")
    assert share.get_incident(incident.id, "admin").attempts == 2
    assert share.get_instance(iid).status == "error"

    repaired = share.set_instance_variables(iid, "admin", {"people": 4}, "the count was entered as 0")
    assert repaired.data["people"] == 4 and repaired.status == "error"
    share.retry_incident(incident.id, "admin")

    after = share.get_instance(iid)
    assert after.status == "running" and after.data["share"] == 250
    assert [t.element_id for t in after.open_tasks] == ["confirm"]
    done = share.get_incident(incident.id, "admin")
    assert done.resolved_at is not None and done.resolved_by == "admin" and done.resolution == "retried"
    assert share.list_incidents("admin") == []
    events = [h.event for h in share.history(iid)]
    assert events.count("instance.error") == 2
    assert "instance.variables_set" in events and "instance.resumed" in events
    change = next(h for h in share.history(iid) if h.event == "instance.variables_set")
    assert change.data == {
        "set": {"people": 4},
        "before": {"people": 0},
        "comment": "the count was entered as 0",
    }


def test_a_failing_completion_offers_the_task_again(share: Engine) -> None:
    """The script after a user task fails: on resume the task is back in the inbox, its data kept."""
    flat = SHARE.replace(b'<bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="wait" />', b"")
    flat = flat.replace(
        b"<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
        b"<bpmn:outgoing>f2b</bpmn:outgoing></bpmn:userTask>",
    )
    flat = flat.replace(b'id="f3" sourceRef="wait"', b'id="f2b" sourceRef="count"').replace(
        b"<bpmn:incoming>f3</bpmn:incoming>", b"<bpmn:incoming>f2b</bpmn:incoming>"
    )
    flat = flat.replace(b'id="share" name="Share"', b'id="share_now" name="Share now"')
    start = flat.index(b"<bpmn:intermediateCatchEvent")
    flat = (
        flat[:start]
        + flat[flat.index(b"</bpmn:intermediateCatchEvent>") + len(b"</bpmn:intermediateCatchEvent>") :]
    )
    share.deploy({"share_now.bpmn": flat}, actor="admin")
    iid = share.start("share_now", actor="wang", data={"budget": 1000}).id
    task = share.get_instance(iid).open_tasks[0]
    with pytest.raises(ScriptError):
        share.complete(task.id, "wang", {"people": 0})
    assert share.get_instance(iid).open_tasks == []  # stopped: nothing to work on

    share.resume_instance(iid, "admin")

    again = share.get_instance(iid)
    assert again.status == "running" and [t.id for t in again.open_tasks] == [task.id]
    share.complete(task.id, "wang", {"people": 5})
    assert share.get_instance(iid).data["share"] == 200


def test_only_admins_repair_and_only_what_is_stopped(share: Engine, clock: ManualClock) -> None:
    iid = stopped_by_the_timer(share, clock)
    [incident] = share.list_incidents("admin")
    with pytest.raises(NotAllowedError):
        share.list_incidents("wang")
    with pytest.raises(NotAllowedError):
        share.retry_incident(incident.id, "wang")
    with pytest.raises(NotAllowedError):
        share.set_instance_variables(iid, "wang", {"people": 4}, "x")
    with pytest.raises(InvalidInputError):
        share.set_instance_variables(iid, "admin", {"people": 4}, "  ")  # say why
    with pytest.raises(InvalidInputError):
        share.set_instance_variables(iid, "admin", {}, "nothing")

    running = share.start("share", actor="wang", data={"budget": 10}).id
    with pytest.raises(ConflictError):
        share.resume_instance(running, "admin")

    share.cancel(iid, actor="admin", reason="wrong budget")
    assert share.list_incidents("admin") == []
    assert share.get_incident(incident.id, "admin").resolution == "cancelled"
    with pytest.raises(ConflictError):
        share.retry_incident(incident.id, "admin")


def test_a_job_out_of_attempts_becomes_an_incident_and_runs_again_on_retry(
    share: Engine, clock: ManualClock
) -> None:
    failures = {"left": MAX_JOB_ATTEMPTS}

    def flaky(job: Job, force: bool) -> None:  # a real handler of a kind of its own
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("the archive service is down")
        ran.append(job.id)

    ran: list[str] = []
    incident = parked_after_failures(share, clock, "j1", flaky)
    assert (incident.kind, incident.job_id, incident.attempts) == ("job", "j1", MAX_JOB_ATTEMPTS)
    assert "archive service is down" in incident.message
    clock.advance(timedelta(days=30))
    assert share.run_due_jobs(kinds=["archive"]) == 0  # parked: not retried any more

    share.retry_incident(incident.id, "admin")
    assert ran == ["j1"] and share.list_incidents("admin") == []


def test_a_job_that_fails_again_on_retry_says_so_and_stays_parked(share: Engine, clock: ManualClock) -> None:
    """A retry that fails again is the admin's answer (422), not a silent "retried": the incident
    stays open with one more attempt, and the job stays parked instead of retrying for hours."""
    service_up = {"yes": False}

    def archive(job: Job, force: bool) -> None:
        if not service_up["yes"]:
            raise RuntimeError("the archive service is down")
        with share.store.write() as s:  # done: the handler removes its job, as the real ones do
            s.delete(s.get(Job, job.id))

    incident = parked_after_failures(share, clock, "j2", archive)

    with pytest.raises(ScriptError) as again:
        share.retry_incident(incident.id, "admin")
    assert "archive service is down" in again.value.detail
    still = share.get_incident(incident.id, "admin")
    assert (still.resolved_at, still.attempts) == (None, MAX_JOB_ATTEMPTS + 1)
    clock.advance(timedelta(days=30))
    assert share.run_due_jobs(kinds=["archive"]) == 0  # still parked

    service_up["yes"] = True
    share.retry_incident(incident.id, "admin")
    assert share.get_incident(incident.id, "admin").resolution == "retried"
    with share.store.read() as s:
        assert s.get(Job, "j2") is None


def test_a_second_retry_while_the_first_runs_is_refused_and_the_job_runs_once(
    share: Engine, clock: ManualClock
) -> None:
    """Two admins (or one double click) retry the same parked job: the second is told it is being
    retried, and whatever the job does (a post, a mail) happens once."""
    ran: list[str] = []
    second: list[Exception] = []
    up = {"yes": False}

    def archive(job: Job, force: bool) -> None:
        if not up["yes"]:
            raise RuntimeError("the archive service is down")
        ran.append(job.id)
        if len(ran) == 1:  # the other click arrives while this one runs
            try:
                share.retry_incident(incident.id, "admin")
            except ConflictError as exc:
                second.append(exc)
        with share.store.write() as s:
            s.delete(s.get(Job, job.id))

    incident = parked_after_failures(share, clock, "j3", archive)
    up["yes"] = True
    share.retry_incident(incident.id, "admin")
    assert ran == ["j3"] and len(second) == 1 and "正在重试" in second[0].detail
    assert share.get_incident(incident.id, "admin").resolution == "retried"


def test_each_county_pages_through_its_own_incidents(share: Engine, clock: ManualClock) -> None:
    """乙县's five hundred newer incidents do not push 甲县's one out of 甲县's list, and a long
    history pages on past the first five hundred."""
    now = clock.now()
    with share.store.write() as s:
        for code, name in (("xian_a", "甲县"), ("xian_b", "乙县")):
            upsert_unit(s, code, name=name, kind="county", parent=None, attributes=None, now=now)
    for who in ("a.admin", "b.admin"):
        share.upsert_user(who, roles=["admin"])
    base = dict(kind="job", message="RuntimeError: down", data={}, attempts=10, updated_at=now)
    with share.store.write() as s:
        set_posts(s, "a.admin", [PostAssignment("xian_a", "管理员")])
        set_posts(s, "b.admin", [PostAssignment("xian_b", "管理员")])
        s.execute(insert(Incident), [{**base, "id": "a-1", "created_at": now, "tenant": "xian_a"}])
        s.execute(
            insert(Incident),
            [
                {**base, "id": f"b-{k}", "created_at": now + timedelta(minutes=k), "tenant": "xian_b"}
                for k in range(1, 502)
            ],
        )
    assert [i.id for i in share.list_incidents("a.admin")] == ["a-1"]
    assert share.count_incidents("a.admin") == 1
    assert share.count_incidents("b.admin") == 501
    assert [i.id for i in share.list_incidents("b.admin", offset=500, limit=50)] == ["b-1"]


def test_a_start_that_failed_starts_again_with_its_data(share: Engine) -> None:
    at_start = SHARE.replace(b'targetRef="count" />', b'targetRef="divide_first" />', 1).replace(
        b'id="share" name="Share"', b'id="share_first" name="Share first"'
    )
    at_start = at_start.replace(
        b'<bpmn:userTask id="count"',
        b'<bpmn:scriptTask id="divide_first" name="Divide first"><bpmn:incoming>f1</bpmn:incoming>'
        b"<bpmn:outgoing>f1b</bpmn:outgoing><bpmn:script>first = budget / people</bpmn:script></bpmn:scriptTask>"
        b'<bpmn:sequenceFlow id="f1b" sourceRef="divide_first" targetRef="count" />'
        b'<bpmn:userTask id="count"',
    ).replace(
        b"<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
        b"<bpmn:incoming>f1b</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
    )
    at_start = at_start.replace(b'value="budget"', b'value="budget,people"')
    share.deploy({"share_first.bpmn": at_start}, actor="admin")
    iid = share.start("share_first", actor="wang", data={"budget": 900, "people": 0}).id
    assert share.get_instance(iid).status == "error"

    share.set_instance_variables(iid, "admin", {"people": 3}, "three people")
    resumed = share.resume_instance(iid, "admin")

    assert resumed.status == "running" and resumed.data["first"] == 300 and resumed.data["budget"] == 900
    assert [t.element_id for t in resumed.open_tasks] == ["count"]
