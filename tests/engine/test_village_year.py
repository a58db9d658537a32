"""A year of 总队长制 in 平利县: courtyard meetings on a timer raise problems, each its own instance
(started by a message), triaged red/yellow/green, dispatched to departments, returned, urged when
overdue, confirmed solved; common problems reach the county command by message, exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import Engine
from engine.tables import AuditEvent, Instance
from tests.villages import county

LEADERS = {"jinshahe": "zheng", "yanjiatai": "wang_cw", "xihe": "xu", "qiaozi": "hu"}
DEPARTMENTS = {"路": "jtj", "信号": "tongxin", "房": "zjj"}


@pytest.fixture
def engine(make_engine) -> Engine:
    built = make_engine()
    built.deploy_shipped()
    county(built)
    for village, leader in LEADERS.items():
        proposal = built.propose_village_leader("organiser", village, leader)
        built.complete(proposal.open_tasks[0].id, "changwei", {"decision": "confirm"})
    return built


def open_task(engine: Engine, user: str, element: str, instance: str | None = None):
    tasks = [
        t
        for t in engine.list_tasks(user, limit=200).items
        if t.element_id == element and (instance is None or t.instance_id == instance)
    ]
    assert tasks, (user, element)
    return tasks[0]


def problems_of(engine: Engine, status: str = "running") -> list[Instance]:
    with engine.store.read() as s:
        return list(
            s.scalars(
                select(Instance)
                .where(Instance.process_key == "village_problem", Instance.status == status)
                .order_by(Instance.created_at, Instance.id)
            )
        )


def state_size(engine: Engine, instance_id: str) -> int:
    with engine.store.read() as s:
        return len(s.get_one(Instance, instance_id).state)


def department_for(title: str) -> str:
    return next(code for word, code in DEPARTMENTS.items() if word in title)


def test_a_year_of_courtyard_meetings(make_engine, engine: Engine, clock) -> None:
    command = engine.start("county_command", actor="organiser", data={"unit": "pingli"})
    villages = {v: engine.open_village("organiser", v, meeting_interval="P30D").id for v in LEADERS}
    workers = [make_engine(), make_engine()]
    raised = common = 0
    sizes: dict[int, int] = {}
    for month in range(1, 13):
        clock.advance(timedelta(days=30, hours=1))
        barrier = threading.Barrier(2)

        def work(worker: Engine, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            worker.run_due_jobs()

        threads = [threading.Thread(target=work, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for village, leader in LEADERS.items():
            meeting = open_task(engine, leader, "courtyard_meeting", villages[village])
            problems = [{"title": f"{village}第{month}月产业路不通", "description": "雨季塌方"}]
            if month % 3 == 0:
                problems.append({"title": f"{village}第{month}月手机信号弱", "common": True})
            if month % 4 == 0:
                problems.append({"title": f"{village}第{month}月危房改造", "description": "两户"})
            engine.complete(meeting.id, leader, {"attendees": 40, "problems": problems})
            raised += len(problems)
            common += sum(1 for p in problems if p.get("common"))
        sizes[month] = state_size(engine, villages["jinshahe"])

        for problem in problems_of(engine):
            if problem.data.get("phase") != "triage":
                continue
            leader = LEADERS[problem.data["village"]]
            title = problem.data["title"]
            colour = "red" if "信号" in title else ("yellow" if "房" in title else "green")
            triage = open_task(engine, leader, "triage", problem.id)
            engine.complete(
                triage.id,
                leader,
                {"colour": colour, "department": department_for(title), "common": "信号" in title},
            )
        for head in ("he", "liu_tx", "zhao_zj"):
            for task in [t for t in engine.list_tasks(head, limit=200).items if t.element_id == "handle"]:
                data = engine.get_instance(task.instance_id).data
                first_time = data.get("returns", 0) == 0
                decision = "return" if first_time and "房" in data["title"] else "accept"
                engine.complete(task.id, head, {"decision": decision, "reason": "请先摸清户数"})
        # the roads are solved within the month; signals and housing run on, and go overdue
        for task in [t for t in engine.list_tasks("he", limit=200).items if t.element_id == "resolve"]:
            engine.complete(task.id, "he", {"resolution": "已抢通"})
        for leader in LEADERS.values():
            for task in [
                t for t in engine.list_tasks(leader, limit=200).items if t.element_id == "confirm_resolution"
            ]:
                engine.complete(task.id, leader, {"decision": "solved", "comment": "群众满意"})

    # every problem raised is its own instance, started once, even with two workers firing the meetings
    assert len(problems_of(engine)) + len(problems_of(engine, "completed")) == raised == 4 * (12 + 4 + 3)
    # every common problem reached the county's command exactly once
    command_data = engine.get_instance(command.id).data
    assert command_data["common_problems"] == common == 4 * 4
    with engine.store.read() as s:
        received = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.instance_id == command.id, AuditEvent.event == "message.received")
        )
    assert received == common
    # the village's instance stays flat: the last meetings cost no more than the early ones
    assert sizes[12] <= sizes[3] * 1.25, sizes
    # the lists are the open problems, red first, with age and owner
    listed = engine.problem_list("organiser")
    open_ids = {p.id for p in problems_of(engine)}
    assert {r.instance_id for r in listed} == open_ids
    assert [r.colour for r in listed] == sorted(
        (r.colour for r in listed), key=["red", "yellow", "green"].index
    )
    assert {r.colour for r in listed} == {"red", "yellow"}  # the green roads were all solved
    red = [r for r in listed if r.colour == "red"]
    assert all(r.escalated and r.owner == "刘通信" and r.department_name == "县通信管理办公室" for r in red)
    assert max(r.age_days for r in red) >= 270  # raised in March, open all year
    assert all(r.overdue for r in listed if r.age_days > 15)
    town = engine.problem_list("organiser", town="zhengyang")
    assert {r.village_name for r in town} == {"鄢家台村", "桥子沟村"}
    assert engine.problem_list("organiser", village="xihe", colour="yellow")
    # overdue problems were urged (催办) by the engine
    with engine.store.read() as s:
        urged = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.event == "task.urge", AuditEvent.actor == "system")
        )
    assert urged >= len([r for r in listed if r.overdue and r.phase == "in_progress"])
    # the weekly snapshot kept the list for the record
    snapshots = engine.problem_snapshots("organiser")
    assert len(snapshots) == 12  # the clock jumps a month at a time: one per run, missed weeks not invented
    assert snapshots[0]["counts"]["red"] == len(red) - 4  # taken before December's meetings raised 4 more


def test_a_new_leader_takes_over_the_village_open_meeting(engine: Engine, clock) -> None:
    village = engine.open_village("organiser", "qiaozi", meeting_interval="P7D")
    clock.advance(timedelta(days=8))
    engine.run_due_jobs()
    assert open_task(engine, "hu", "courtyard_meeting", village.id).assignee == "hu"
    proposal = engine.propose_village_leader("organiser", "qiaozi", "he")  # 何德渔 takes 桥子沟村 over
    engine.complete(proposal.open_tasks[0].id, "changwei", {"decision": "confirm"})
    meeting = open_task(engine, "he", "courtyard_meeting", village.id)
    assert meeting.assignee == "he"
    assert not [t for t in engine.list_tasks("hu").items if t.instance_id == village.id]
    events = [(e.event, e.data.get("from"), e.data.get("assignee")) for e in engine.history(village.id)]
    assert ("assignment.resolved", "hu", "he") in events
