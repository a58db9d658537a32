"""考核捆绑: at year end 金沙河村's year (problems solved and on time, the survey's satisfaction) gives
it a score and grade, copied at a declared weight into the assessments of its 总队长, its helping
unit and each cadre posted there; their archives say why. Once per village and year."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import ConflictError, Engine, InvalidInputError, NotAllowedError, NotFoundError
from engine import organisation as org
from engine.organisation import PostAssignment
from tests.engine.test_village_year import department_for, open_task, problems_of
from tests.villages import county

YEAR = 2026


@pytest.fixture
def jinshahe(make_engine) -> Engine:
    """金沙河村 led by 郑小东, helped by the 县交通运输局, with 驻村第一书记 陈 posted there."""
    built = make_engine()
    built.deploy_shipped()
    county(built)
    now = built.clock.now()
    with built.store.write() as s:
        org.upsert_unit(
            s,
            "jinshahe",
            name="金沙河村",
            kind="village",
            parent="changan",
            attributes={"村类别": "深度贫困村", "帮扶单位": "jtj"},
            now=now,
        )
    built.upsert_user("chen", display_name="陈驻村")
    with built.store.write() as s:
        org.set_posts(s, "chen", [PostAssignment("jinshahe", "驻村第一书记", "科级")])
    proposal = built.propose_village_leader("organiser", "jinshahe", "zheng")
    built.complete(proposal.open_tasks[0].id, "changwei", {"decision": "confirm"})
    return built


def a_meeting_with_four_problems(engine: Engine, clock) -> None:
    """Four problems; the two roads are solved, the signal and the house stay open past their days."""
    village = engine.open_village("organiser", "jinshahe", meeting_interval="P30D").id
    clock.advance(timedelta(days=30, hours=1))
    engine.run_due_jobs()
    meeting = open_task(engine, "zheng", "courtyard_meeting", village)
    titles = ["产业路不通", "通组路塌方", "手机信号弱", "危房改造"]
    engine.complete(meeting.id, "zheng", {"attendees": 40, "problems": [{"title": t} for t in titles]})
    for problem in problems_of(engine):
        title = problem.data["title"]
        colour = "red" if "信号" in title else ("yellow" if "房" in title else "green")
        triage = open_task(engine, "zheng", "triage", problem.id)
        engine.complete(
            triage.id, "zheng", {"colour": colour, "department": department_for(title), "common": False}
        )
    for task in [t for t in engine.list_tasks("he", limit=50).items if t.element_id == "handle"]:
        engine.complete(task.id, "he", {"decision": "accept", "reason": ""})
    for task in [t for t in engine.list_tasks("he", limit=50).items if t.element_id == "resolve"]:
        engine.complete(task.id, "he", {"resolution": "已抢通"})
    for task in [
        t for t in engine.list_tasks("zheng", limit=50).items if t.element_id == "confirm_resolution"
    ]:
        engine.complete(task.id, "zheng", {"decision": "solved", "comment": "群众满意"})
    clock.advance(timedelta(days=40))  # the red and yellow ones are past 7 and 15 days
    engine.run_due_jobs()


def test_the_village_s_grade_lands_on_those_answerable_for_it(jinshahe: Engine, clock) -> None:
    clock.set(clock.now().replace(year=YEAR, month=3))
    a_meeting_with_four_problems(jinshahe, clock)

    result = jinshahe.assess_village("organiser", "jinshahe", YEAR, satisfaction=90)

    assert (result.raised, result.solved, result.overdue) == (4, 2, 2)
    assert result.score == 40 * 0.5 + 30 * 0.5 + 30 * 0.9 and result.grade == "合格"  # 62.0
    shares = {(s.role, s.subject_kind, s.subject): s.points for s in result.shares}
    assert shares == {
        ("leader", "person", "zheng"): 18.6,
        ("unit", "unit", "jtj"): 18.6,
        ("cadre", "person", "chen"): 24.8,
    }
    _period, ledger = jinshahe.scores(str(YEAR), viewer="organiser")
    rows = {(r["subject_kind"], r["subject"]): r for r in ledger}
    assert rows["unit", "jinshahe"]["points"] == 62.0
    assert (
        "总队长考核捆绑" in rows["person", "zheng"]["reason"] and "30%" in rows["person", "zheng"]["reason"]
    )
    _name, unit_archive = jinshahe.unit_archive("jtj", "organiser")
    assert [e.kind for e in unit_archive] == ["bundled"] and "金沙河村" in unit_archive[0].detail
    chen = [e for e in jinshahe.person_archive("chen", "organiser") if e.kind == "bundled"]
    assert len(chen) == 1 and chen[0].points == 24.8

    with pytest.raises(ConflictError):  # once per village and year
        jinshahe.assess_village("organiser", "jinshahe", YEAR, satisfaction=95)


def test_refusals(jinshahe: Engine) -> None:
    with pytest.raises(NotAllowedError):
        jinshahe.assess_village("clerk", "jinshahe", YEAR, satisfaction=90)
    with pytest.raises(NotFoundError):
        jinshahe.assess_village("organiser", "changan", YEAR, satisfaction=90)  # a town, not a village
    with pytest.raises(InvalidInputError):
        jinshahe.assess_village("organiser", "jinshahe", YEAR, satisfaction=120)
    quiet = jinshahe.assess_village("organiser", "shahe", YEAR, satisfaction=80)
    assert (quiet.raised, quiet.score, quiet.grade) == (0, 94.0, "优秀")  # no problem raised, none late
    assert quiet.shares == []  # no 总队长, no helping unit, nobody posted there


def test_a_problem_is_reminded_before_its_days_run_out_and_urged_after(jinshahe: Engine, clock) -> None:
    village = jinshahe.open_village("organiser", "jinshahe", meeting_interval="P30D").id
    clock.advance(timedelta(days=30, hours=1))
    jinshahe.run_due_jobs()
    meeting = open_task(jinshahe, "zheng", "courtyard_meeting", village)
    jinshahe.complete(meeting.id, "zheng", {"attendees": 30, "problems": [{"title": "产业路不通"}]})
    [problem] = problems_of(jinshahe)
    triage = open_task(jinshahe, "zheng", "triage", problem.id)
    jinshahe.complete(triage.id, "zheng", {"colour": "red", "department": "jtj", "common": False})
    handle = open_task(jinshahe, "he", "handle", problem.id)
    jinshahe.complete(handle.id, "he", {"decision": "accept", "reason": ""})
    resolve = open_task(jinshahe, "he", "resolve", problem.id)

    def urges() -> list[str]:
        return [
            h.data.get("comment", "")
            for h in jinshahe.history(problem.id)
            if h.event == "task.urge" and h.task_id == resolve.id
        ]

    clock.advance(timedelta(days=4))
    jinshahe.run_due_jobs()
    assert urges() == []  # red: seven days; nothing yet on the fourth
    clock.advance(timedelta(days=1, hours=1))
    jinshahe.run_due_jobs()
    assert len(urges()) == 1 and "时限将至" in urges()[0]  # two days before
    clock.advance(timedelta(days=2))
    jinshahe.run_due_jobs()
    assert len(urges()) == 2 and "超过办理时限" in urges()[1]  # then late: urged
