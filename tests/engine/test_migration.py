"""Moving running instances to a new version of their process: a county changes its leave
process while requests are under way, and the admin moves them. People's tasks stay theirs (same
task, assignee, comments, due time), the next steps follow the new diagram, and what cannot move
is said in words and left exactly as it was."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest

from engine import Engine, InvalidInputError, ManualClock, NotAllowedError, NotFoundError
from tests.engine.test_incidents import SHARE, stopped_by_the_timer

SPIFF = 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'


def leave(*steps: tuple[str, str]) -> bytes:
    """The leave process: its user tasks (id, name) one after the other."""
    ids = ["start", *[i for i, _ in steps], "end"]
    nodes = ['<bpmn:startEvent id="start" />', '<bpmn:endEvent id="end" />']
    nodes += [f'<bpmn:userTask id="{i}" name="{n}" />' for i, n in steps]
    flows = [
        f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}" />'
        for a, b in itertools.pairwise(ids)
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_leave" '
        'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="leave" name="请假" isExecutable="true">'
        + "".join(nodes + flows)
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


def waiting(wait: str = '"PT1H"', answer: str = "答复") -> bytes:
    """A process that waits on a timer before a person answers."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_pause" {SPIFF}
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="pause" name="暂停" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="等待">
      <bpmn:timerEventDefinition id="wait_timer"><bpmn:timeDuration>{wait}</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="answer" />
    <bpmn:userTask id="answer" name="{answer}" />
    <bpmn:sequenceFlow id="f3" sourceRef="answer" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


V1 = leave(("review", "审核"), ("approve", "批准"))
V2_ARCHIVE = leave(("review", "审核"), ("archive", "归档"), ("approve", "批准"))
V3_RENAMED = leave(("check", "复核"), ("approve", "批准"))


@pytest.fixture
def county(engine: Engine) -> Engine:
    engine.upsert_user("boss", roles=["admin"])
    engine.upsert_user("alice")
    engine.deploy({"leave.bpmn": V1}, actor="boss")
    return engine


def open_task(engine: Engine, instance_id: str):
    [task] = engine.get_instance(instance_id).open_tasks
    return task


def test_a_waiting_task_moves_with_its_person_and_comments_and_goes_on_by_the_new_diagram(
    county: Engine,
) -> None:
    iid = county.start("leave", actor="alice").id
    task = open_task(county, iid)
    county.add_comment(task.id, "alice", "下周一返岗")
    county.deploy({"leave.bpmn": V2_ARCHIVE}, actor="boss")

    result = county.migrate_instances("leave", 1, 2, actor="boss")

    assert (result.moved, result.total) == (1, 1)
    assert [(i.id, i.ok, i.problems) for i in result.items] == [(iid, True, [])]
    moved = county.get_instance(iid)
    assert moved.version == 2
    same = open_task(county, iid)
    assert (same.id, same.element_id, same.assignee) == (task.id, "review", "alice")
    assert [c.text for c in county.list_comments(task.id, "alice")] == ["下周一返岗"]

    county.complete(task.id, "alice", {})
    assert open_task(county, iid).element_id == "archive"  # the step only version 2 has

    [audit] = [e for e in county.history(iid) if e.event == "instance.migrated"]
    assert audit.actor == "boss"
    assert audit.data["from_version"] == 1 and audit.data["to_version"] == 2 and audit.data["mapping"] == {}


def test_a_renamed_task_is_refused_without_a_mapping_and_moves_with_one(county: Engine) -> None:
    iid = county.start("leave", actor="alice").id
    task = open_task(county, iid)
    county.deploy({"leave.bpmn": V3_RENAMED}, actor="boss")
    before = county.get_instance(iid)

    dry = county.migrate_instances("leave", 1, 2, dry_run=True, actor="boss")
    [item] = dry.items
    assert not item.ok and dry.moved == 0
    [problem] = item.problems
    assert (problem.element_id, problem.kind, problem.blocking) == ("review", "no_target", True)
    assert "“审核”正在等待办理，但新版本没有对应环节" in problem.message

    real = county.migrate_instances("leave", 1, 2, actor="boss")
    assert real.moved == 0 and not real.items[0].ok
    after = county.get_instance(iid)
    assert (after.version, after.updated_at, after.active_elements) == (1, before.updated_at, ["review"])
    assert not [e for e in county.history(iid) if e.event == "instance.migrated"]

    mapped = county.migrate_instances("leave", 1, 2, mapping={"review": "check"}, actor="boss")
    assert mapped.moved == 1
    renamed = open_task(county, iid)
    assert (renamed.id, renamed.element_id, renamed.name, renamed.assignee) == (
        task.id,
        "check",
        "复核",
        "alice",
    )
    county.complete(task.id, "alice", {})
    assert open_task(county, iid).element_id == "approve"


def test_one_instance_that_cannot_move_does_not_stop_the_others(county: Engine) -> None:
    at_review = county.start("leave", actor="alice").id
    at_approve = county.start("leave", actor="alice").id
    county.complete(open_task(county, at_approve).id, "alice", {})
    county.deploy({"leave.bpmn": V3_RENAMED}, actor="boss")

    result = county.migrate_instances("leave", 1, 2, actor="boss")

    by_id = {i.id: i for i in result.items}
    assert not by_id[at_review].ok
    assert by_id[at_approve].ok  # its review is done: history, told but not in the way
    assert [p.kind for p in by_id[at_approve].problems] == ["done_removed"]
    assert (result.moved, result.total) == (1, 2)
    assert county.get_instance(at_review).version == 1
    assert county.get_instance(at_approve).version == 2
    county.complete(open_task(county, at_approve).id, "alice", {})
    assert county.get_instance(at_approve).status == "completed"
    where_work_waits = {e.element_id: e.name for e in county.analytics("leave", viewer="boss").items}
    assert where_work_waits["review"] == "审核"  # a step only v1 has, still named


def test_a_timer_keeps_its_due_time_unless_its_definition_changed(engine: Engine, clock: ManualClock) -> None:
    engine.upsert_user("boss", roles=["admin"])
    engine.deploy({"pause.bpmn": waiting()}, actor="boss")
    iid = engine.start("pause", actor="boss").id
    [job] = engine.list_jobs(instance_id=iid).items
    clock.advance(timedelta(minutes=20))

    engine.deploy({"pause.bpmn": waiting(answer="书面答复")}, actor="boss")  # v2: the timer as it was
    assert engine.migrate_instances("pause", 1, 2, actor="boss").items[0].problems == []
    [kept] = engine.list_jobs(instance_id=iid).items
    assert (kept.id, kept.due_at) == (job.id, job.due_at)

    engine.deploy({"pause.bpmn": waiting(wait='"PT2H"')}, actor="boss")  # v3: waits two hours
    dry = engine.migrate_instances("pause", 2, 3, dry_run=True, actor="boss")
    [problem] = dry.items[0].problems
    assert (problem.element_id, problem.kind, problem.blocking) == ("wait", "timer_changed", False)
    assert "“等待”的定时设置已修改" in problem.message and dry.items[0].ok
    assert engine.list_jobs(instance_id=iid).items[0].due_at == job.due_at  # a dry run changes nothing

    engine.migrate_instances("pause", 2, 3, actor="boss")
    [reset] = engine.list_jobs(instance_id=iid).items
    assert reset.due_at == clock.now() + timedelta(hours=2)
    clock.advance(timedelta(hours=2, seconds=1))
    engine.run_due_jobs()
    assert open_task(engine, iid).name == "答复"  # version 3's name


def test_bad_requests_change_nothing(county: Engine) -> None:
    iid = county.start("leave", actor="alice").id
    county.deploy({"leave.bpmn": V3_RENAMED}, actor="boss")
    with pytest.raises(InvalidInputError):
        county.migrate_instances("leave", 1, 7, actor="boss")
    with pytest.raises(InvalidInputError):
        county.migrate_instances("nowhere", 1, 2, actor="boss")
    with pytest.raises(InvalidInputError) as bad:
        county.migrate_instances("leave", 1, 2, mapping={"review": "nothing"}, actor="boss")
    assert "mapping.review" in bad.value.errors
    with pytest.raises(NotAllowedError):
        county.migrate_instances("leave", 1, 2, mapping={"review": "check"}, actor="alice")
    with pytest.raises(NotFoundError):
        county.migrate_instances(
            "leave", 1, 2, instance_ids=["00000000-0000-0000-0000-000000000000"], actor="boss"
        )
    assert county.get_instance(iid).version == 1


def test_another_tenants_instances_are_not_found(county: Engine) -> None:
    county.put_unit("xian_a", name="甲县", kind="county", actor="boss")
    county.put_unit("xian_b", name="乙县", kind="county", actor="boss")
    county.upsert_user("a_admin", roles=["admin"], posts=[{"unit": "xian_a", "post": "管理员"}])
    county.upsert_user("b_clerk", posts=[{"unit": "xian_b", "post": "科员"}])
    theirs = county.start("leave", actor="b_clerk").id
    county.deploy({"leave.bpmn": V2_ARCHIVE}, actor="boss")

    with pytest.raises(NotFoundError):
        county.migrate_instances("leave", 1, 2, instance_ids=[theirs], actor="a_admin")
    mine = county.migrate_instances("leave", 1, 2, actor="a_admin")
    assert theirs not in [i.id for i in mine.items]
    assert county.get_instance(theirs).version == 1


def test_the_overview_says_where_instances_wait(county: Engine) -> None:
    county.start("leave", actor="alice")
    done_review = county.start("leave", actor="alice").id
    county.complete(open_task(county, done_review).id, "alice", {})
    county.deploy({"leave.bpmn": V3_RENAMED}, actor="boss")

    seen = county.migration_overview("leave", 1, 2, viewer="boss")

    assert seen.instances == 2
    assert [(w.element_id, w.name, w.instances, w.has_target) for w in seen.waiting] == [
        ("approve", "批准", 1, True),
        ("review", "审核", 1, False),
    ]
    assert "check" in [t.element_id for t in seen.targets]


def test_an_instance_stopped_by_a_wrong_diagram_moves_to_the_fix_and_is_retried(
    engine: Engine, clock: ManualClock
) -> None:
    engine.upsert_user("admin", roles=["admin"])
    engine.upsert_user("wang")
    engine.deploy({"share.bpmn": SHARE}, actor="admin")
    iid = stopped_by_the_timer(engine, clock)
    assert engine.get_instance(iid).status == "error"
    fixed = SHARE.replace(b"share = budget / people", b"share = budget / people if people else budget")
    engine.deploy({"share.bpmn": fixed}, actor="admin")

    assert engine.migrate_instances("share", 1, 2, actor="admin").moved == 1

    assert engine.get_instance(iid).version == 2  # still stopped: it runs when retried
    [incident] = engine.list_incidents("admin", instance_id=iid)
    engine.retry_incident(incident.id, "admin")
    resumed = engine.get_instance(iid)
    assert resumed.status == "running" and resumed.data["share"] == 1000
    assert [t.element_id for t in resumed.open_tasks] == ["confirm"]


def test_a_form_that_asks_for_other_fields_is_told_before_the_move(county: Engine) -> None:
    def with_form(version: int) -> dict[str, bytes]:
        xml = leave(("review", "审核"), ("approve", "批准")).replace(
            b'id="d_leave"', f'id="d_leave" {SPIFF}'.encode()
        )
        xml = xml.replace(
            b'<bpmn:userTask id="review" name="\xe5\xae\xa1\xe6\xa0\xb8" />',
            '<bpmn:userTask id="review" name="审核"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="formJsonSchemaFilename" value="review.schema.json" />'
            "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>".encode(),
        )
        fields = {"days": {"type": "integer", "title": "天数"}} if version == 1 else {}
        fields["opinion"] = {"type": "string", "title": "意见"}
        schema = {"type": "object", "properties": fields, "required": ["opinion"] if version == 2 else []}
        return {"leave.bpmn": xml, "review.schema.json": json.dumps(schema).encode()}

    county.deploy(with_form(1), actor="boss")  # v2 of leave: review asks for the days
    iid = county.start("leave", version=2, actor="alice").id
    county.deploy(with_form(2), actor="boss")  # v3: no days, an opinion is required

    [item] = county.migrate_instances("leave", 2, 3, dry_run=True, actor="boss").items

    assert item.ok and [(p.element_id, p.kind, p.blocking) for p in item.problems] == [
        ("review", "form_changed", False),
        ("review", "form_changed", False),
    ]
    assert "去掉字段 days" in item.problems[0].message and "新增必填字段 opinion" in item.problems[1].message
    assert county.get_instance(iid).version == 2
