"""Which tenant and unit a new instance belongs to, and that everything it makes carries the tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import Engine, InvalidInputError
from engine.organisation import PostAssignment, set_posts, upsert_unit
from engine.tables import HumanTask, Instance, Job, TaskCandidate

PING = (Path(__file__).resolve().parent.parent / "api" / "data" / "ping.bpmn").read_text()
# ping, whose start declares ``unit`` and whose answer goes to the task force's queue
PING_FOR_A_UNIT = (
    PING.replace(
        '<bpmn:startEvent id="start">',
        '<bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="startVariables" value="unit" /></spiffworkflow:properties>'
        "</bpmn:extensionElements>",
    )
    .replace(
        '<bpmn:userTask id="answer" name="Answer">',
        '<bpmn:userTask id="answer" name="Answer"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="candidateGroups" value="taskforce" /></spiffworkflow:properties>'
        "</bpmn:extensionElements>",
    )
    .replace(
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"',
    )
)


@pytest.fixture
def counties(engine: Engine) -> Engine:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    for name in ("wang", "b.wang", "nobody"):
        engine.upsert_user(name, groups=["taskforce"])
    engine.upsert_user("root", roles=["admin"])
    with engine.store.write() as s:
        for code, kind, parent in (
            ("xian_a", "county", None),
            ("town_a1", "town", "xian_a"),
            ("village_a1", "village", "town_a1"),
            ("xian_b", "county", None),
            ("town_b1", "town", "xian_b"),
        ):
            upsert_unit(s, code, name=code, kind=kind, parent=parent, attributes=None, now=now)
        set_posts(s, "wang", [PostAssignment("village_a1", "科员")])
        set_posts(s, "b.wang", [PostAssignment("town_b1", "科员")])
    engine.deploy({"ping.bpmn": PING_FOR_A_UNIT.encode()}, actor="root")  # shared: the installation's
    return engine


def owned(engine: Engine, instance_id: str) -> tuple[str | None, str | None]:
    with engine.store.read() as s:
        row = s.get_one(Instance, instance_id)
        return row.tenant, row.unit


def test_an_instance_takes_its_starters_tenant_and_unit_or_the_unit_it_names(counties: Engine) -> None:
    engine = counties
    assert owned(engine, engine.start("ping", actor="wang").id) == ("xian_a", "village_a1")
    assert owned(engine, engine.start("ping", actor="wang", data={"unit": "town_a1"}).id) == (
        "xian_a",
        "town_a1",
    )
    with pytest.raises(InvalidInputError) as other:  # another county's unit does not exist for wang
        engine.start("ping", actor="wang", data={"unit": "town_b1"})
    with pytest.raises(InvalidInputError) as unknown:
        engine.start("ping", actor="wang", data={"unit": "nowhere"})
    assert "单位不存在" in other.value.errors["unit"][0] and "单位不存在" in unknown.value.errors["unit"][0]
    assert owned(engine, engine.start("ping", actor="root", data={"unit": "town_b1"}).id) == (
        "xian_b",
        "town_b1",
    )
    assert owned(engine, engine.start("ping", actor="nobody").id) == (None, None)  # the implicit tenant


def test_everything_an_instance_makes_carries_its_tenant(counties: Engine, clock) -> None:
    engine = counties
    inst = engine.start("ping", actor="b.wang")
    with engine.store.read() as s:
        assert s.scalars(select(Job.tenant).where(Job.instance_id == inst.id)).all() == ["xian_b"]
    engine.run_due_jobs()
    clock.advance(hours=2)
    engine.run_due_jobs()
    with engine.store.read() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id)).one()
        queue = s.scalars(select(TaskCandidate).where(TaskCandidate.task_id == task.id)).one()
    assert (task.tenant, queue.tenant, queue.group) == ("xian_b", "xian_b", "taskforce")
    # the same group name in three tenants: only B's member sees B's queue
    assert [t.id for t in engine.list_tasks("b.wang", scope="candidate").items] == [task.id]
    assert engine.list_tasks("wang", scope="candidate").items == []
    assert engine.list_tasks("nobody", scope="candidate").items == []
