"""Assignment by post: a village's review goes to whoever is its 书记, and follows the post when it changes hands."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import Engine, InvalidInputError, NotAllowedError
from engine import organisation as org
from engine.errors import DefinitionInvalidError
from engine.organisation import PostAssignment
from tests.walk import PROBLEM

NOW = datetime(2026, 3, 1, tzinfo=UTC)

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://jiebang.example/test">"""


def diagram(rule: str, *, task_rule: str | None = None) -> bytes:
    """Start, then a review in lane Leaders (``lane:Leaders`` = ``rule``), then end."""
    task_props = (
        '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="assignment" '
        f'value="{task_rule}"/></spiffworkflow:properties></bpmn:extensionElements>'
        if task_rule
        else ""
    )
    return f"""{HEAD}<bpmn:process id="village_review" isExecutable="true">
<bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="lane:Leaders" value="{rule}"/>
</spiffworkflow:properties></bpmn:extensionElements>
<bpmn:laneSet id="ls"><bpmn:lane id="lane_leaders" name="Leaders">
  <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef>
</bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="s"><bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="startVariables" value="unit"/>
</spiffworkflow:properties></bpmn:extensionElements></bpmn:startEvent>
<bpmn:userTask id="review" name="村级审核 Review">{task_props}</bpmn:userTask>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/><bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e"/>
</bpmn:process></bpmn:definitions>""".encode()


def county(engine: Engine) -> None:
    """平利县 → 老县镇 → 蒋家坪村 and 锦屏村; 张书记 heads 蒋家坪村, 刘镇长 the town; 王 files from the village."""
    with engine.store.write() as s:
        org.upsert_unit(s, "pingli", name="平利县", kind="county", parent=None, attributes=None, now=NOW)
        org.upsert_unit(s, "laoxian", name="老县镇", kind="town", parent="pingli", attributes=None, now=NOW)
        org.upsert_unit(s, "jjp", name="蒋家坪村", kind="village", parent="laoxian", attributes=None, now=NOW)
        org.upsert_unit(s, "jp", name="锦屏村", kind="village", parent="laoxian", attributes=None, now=NOW)
    for username in ("zhang", "liu", "wang", "chen", "zhou"):
        engine.upsert_user(username)
    posts(engine, "zhang", ("jjp", "书记"))
    posts(engine, "liu", ("laoxian", "镇长"))
    posts(engine, "wang", ("jjp", "文书"))
    posts(engine, "chen", ("jp", "文书"))  # people of the county, in no post that leads
    posts(engine, "zhou", ("jp", "文书"), ("laoxian", "办事员"))  # two units: no default filing unit


def posts(engine: Engine, username: str, *held: tuple[str, str]) -> None:
    with engine.store.write() as s:
        org.set_posts(
            s, username, [PostAssignment(unit, post) for unit, post in held], now=NOW, actor="admin"
        )


def start(engine: Engine, rule: str, data: dict | None = None, *, actor: str = "wang", **kw) -> str:
    engine.deploy({"village_review.bpmn": diagram(rule, **kw)}, actor="admin")
    inst = engine.start("village_review", actor=actor, data=data or {})
    return inst.open_tasks[0].id


def inbox(engine: Engine, username: str) -> list[str]:
    return [t.id for t in engine.list_tasks(username).items]


@pytest.mark.parametrize(
    ("rule", "data", "holder"),
    [
        ("post:书记@data:unit", {"unit": "jjp"}, "zhang"),
        ("post:文书@starter", {}, "wang"),
        ("post:镇长@parent-of:data:unit", {"unit": "jjp"}, "liu"),
    ],
    ids=["data", "starter", "parent-of"],
)
def test_a_post_with_one_holder_gives_them_the_task(
    engine: Engine, rule: str, data: dict, holder: str
) -> None:
    county(engine)
    task_id = start(engine, rule, data)
    task = engine.get_task(task_id).task
    assert (task.assignee, task.unresolved) == (holder, None)
    assert inbox(engine, holder) == [task_id]
    assert inbox(engine, "chen") == []


def test_a_task_level_assignment_overrides_the_lane(engine: Engine) -> None:
    county(engine)
    task_id = start(engine, "group:office", {"unit": "jjp"}, task_rule="post:镇长@parent-of:data:unit")
    assert engine.get_task(task_id).task.assignee == "liu"


def test_several_holders_share_the_post_queue_and_one_claims_it(engine: Engine) -> None:
    county(engine)
    posts(engine, "chen", ("jjp", "书记"))  # two 书记 (one stepping in while the other is away)
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    task = engine.get_task(task_id).task
    assert (task.assignee, task.candidate_groups) == (None, ["post:jjp:书记"])
    assert inbox(engine, "zhang") == inbox(engine, "chen") == [task_id]
    assert engine.list_tasks("zhang", scope="candidate").total == 1
    assert "claim" in engine.get_task(task_id, "chen").task.actions
    with pytest.raises(NotAllowedError):  # not a 书记 of 蒋家坪村
        engine.claim(task_id, "zhou")
    engine.claim(task_id, "chen")
    assert (inbox(engine, "zhang"), inbox(engine, "chen")) == ([], [task_id])


def test_the_task_follows_the_post_when_it_changes_hands_while_untaken(engine: Engine) -> None:
    county(engine)
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    assert inbox(engine, "zhang") == [task_id]

    posts(engine, "zhang")  # 张 leaves the post; 陈 takes it
    posts(engine, "chen", ("jjp", "书记"))

    assert inbox(engine, "zhang") == []
    assert inbox(engine, "chen") == [task_id]
    assert engine.get_task(task_id).task.assignee == "chen"
    events = [e.event for e in engine.history(engine.get_task(task_id).task.instance_id)]
    assert "assignment.resolved" in events
    engine.complete(task_id, "chen", {})


def test_a_claimed_task_stays_with_its_holder_when_the_post_changes_hands(engine: Engine) -> None:
    county(engine)
    posts(engine, "chen", ("jjp", "书记"))
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    engine.claim(task_id, "zhang")

    posts(engine, "zhang")
    posts(engine, "zhou", ("jjp", "书记"))

    assert engine.get_task(task_id).task.assignee == "zhang"
    assert inbox(engine, "zhang") == [task_id]
    assert inbox(engine, "zhou") == inbox(engine, "chen") == []


def test_a_task_handed_over_stays_with_whoever_it_was_handed_to(engine: Engine) -> None:
    county(engine)
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    engine.transfer(task_id, "zhang", "zhou")
    posts(engine, "zhang")
    posts(engine, "chen", ("jjp", "书记"))
    assert engine.get_task(task_id).task.assignee == "zhou"


def test_a_deactivated_holder_is_skipped(engine: Engine) -> None:
    county(engine)
    posts(engine, "chen", ("jjp", "书记"))
    engine.upsert_user("chen", active=False)
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    assert engine.get_task(task_id).task.assignee == "zhang"  # the only active 书记


def test_deactivating_the_holder_hands_the_task_to_the_post(engine: Engine) -> None:
    county(engine)
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    posts(engine, "chen", ("jjp", "书记"))  # a second 书记 arrives: 张 still holds it, so it stays
    assert engine.get_task(task_id).task.assignee == "zhang"
    engine.upsert_user("zhang", active=False)
    assert engine.get_task(task_id).task.assignee == "chen"


def test_reactivating_the_only_holder_gives_them_the_waiting_task(engine: Engine) -> None:
    county(engine)
    engine.upsert_user("zhang", active=False)
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    assert engine.get_task(task_id).task.unresolved is not None
    engine.upsert_user("zhang", active=True)
    task = engine.get_task(task_id).task
    assert (task.assignee, task.unresolved) == ("zhang", None)


def test_a_vacant_post_is_a_flagged_incident_until_someone_takes_it(engine: Engine) -> None:
    county(engine)
    posts(engine, "zhang")  # 蒋家坪村 has no 书记
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    task = engine.get_task(task_id).task
    assert task.assignee is None
    assert task.unresolved == {"reason": "vacant", "post": "书记", "units": ["蒋家坪村"]}
    assert [t.id for t in engine.unresolved_tasks()] == [task_id]
    history = engine.history(task.instance_id)
    assert [e.data for e in history if e.event == "assignment.unresolved"] == [task.unresolved]

    posts(engine, "chen", ("jjp", "书记"))

    task = engine.get_task(task_id).task
    assert (task.assignee, task.unresolved) == ("chen", None)
    assert engine.unresolved_tasks() == []
    assert inbox(engine, "chen") == [task_id]


def test_the_post_emptied_under_a_waiting_task_flags_it(engine: Engine) -> None:
    county(engine)
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    posts(engine, "zhang")
    task = engine.get_task(task_id).task
    assert (task.assignee, task.unresolved["reason"]) == (None, "vacant")
    assert inbox(engine, "zhang") == []


def test_a_unit_missing_from_the_data_is_flagged_too(engine: Engine) -> None:
    county(engine)
    task_id = start(engine, "post:书记@data:unit", {}, actor="zhou")  # 周 serves two units: no default unit
    task = engine.get_task(task_id).task
    assert (task.assignee, task.unresolved["reason"]) == (None, "no-unit")
    assert [t.id for t in engine.unresolved_tasks()] == [task_id]


def test_an_unknown_unit_in_the_start_data_is_refused(engine: Engine) -> None:
    county(engine)
    with pytest.raises(InvalidInputError) as refused:
        start(engine, "post:书记@data:unit", {"unit": "nowhere"})
    assert "unit" in refused.value.errors


@pytest.mark.parametrize(
    "rule",
    ["post:书记", "post:@data:unit", "post:书记@data:", "post:书记@somewhere", "post:书记@parent-of:unit"],
)
def test_a_malformed_post_rule_is_refused_at_deploy(engine: Engine, rule: str) -> None:
    with pytest.raises(DefinitionInvalidError) as refused:
        engine.deploy({"village_review.bpmn": diagram(rule)}, actor="admin")
    (problem,) = refused.value.problems
    assert problem.element_id == "village_review"
    assert "lane:Leaders" in problem.message and "post:职务@data:变量名" in problem.message_zh


def test_a_malformed_task_assignment_is_refused_at_deploy(engine: Engine) -> None:
    with pytest.raises(DefinitionInvalidError) as refused:
        engine.deploy(
            {"village_review.bpmn": diagram("group:office", task_rule="post:书记@unit")}, actor="admin"
        )
    (problem,) = refused.value.problems
    assert (problem.element_id, "assignment" in problem.message) == ("review", True)


# ---- the shipped claim-and-evaluate process: the filing unit (申报单位) and its leadership --------
SHIPPED = Path(__file__).resolve().parent.parent.parent / "bpmn" / "claim_evaluate.bpmn"


def file_problem(engine: Engine, **overrides: str) -> str:
    """王 (文书 of 蒋家坪村) files a problem; the instance's id."""
    inst = engine.start("claim_evaluate", actor="wang", business_key="P-2026-007")
    detail = engine.get_task(inst.open_tasks[0].id, "wang")
    engine.complete(detail.task.id, "wang", {**detail.data, **PROBLEM, **overrides})
    return inst.id


def review_task(engine: Engine, instance_id: str):
    return next(
        t for t in engine.get_instance(instance_id).open_tasks if t.element_id == "preliminary_review"
    )


def test_the_shipped_process_records_the_filing_unit_and_keeps_the_task_force(engine: Engine) -> None:
    county(engine)
    inst = engine.start("claim_evaluate", actor="wang")
    assert inst.data["unit"] == "jjp"  # 王 holds posts in one unit: it is the default 申报单位
    assert engine.get_task(inst.open_tasks[0].id, "wang").data["unit"] == "jjp"  # the form shows it

    instance_id = file_problem(engine)

    assert engine.get_instance(instance_id).data["unit"] == "jjp"
    review = review_task(engine, instance_id)
    assert (review.candidate_groups, review.assignee) == (["taskforce"], None)


def test_a_starter_in_several_units_chooses_the_filing_unit(engine: Engine) -> None:
    county(engine)
    posts(engine, "wang", ("jjp", "文书"), ("jp", "文书"))
    inst = engine.start("claim_evaluate", actor="wang")
    assert "unit" not in inst.data
    instance_id = file_problem(engine, unit="jp")
    assert engine.get_instance(instance_id).data["unit"] == "jp"


def test_a_variant_routes_the_preliminary_review_to_the_filing_units_secretary(engine: Engine) -> None:
    county(engine)
    variant = SHIPPED.read_text("utf-8").replace(
        '<spiffworkflow:property name="lane:TaskForce" value="group:taskforce" />',
        '<spiffworkflow:property name="lane:TaskForce" value="post:书记@data:unit" />',
    )
    assert "post:书记@data:unit" in variant
    dmn = SHIPPED.with_name("claim_evaluate.dmn").read_bytes()
    engine.deploy({"claim_evaluate.bpmn": variant.encode(), "claim_evaluate.dmn": dmn}, actor="admin")

    instance_id = file_problem(engine)
    review = review_task(engine, instance_id)
    assert (review.assignee, review.candidate_groups) == ("zhang", ["post:jjp:书记"])
    assert inbox(engine, "zhang") == [review.id]
    engine.complete(review.id, "zhang", {"decision": "approve", "comment": "村两委同意"})

    vacant = file_problem(engine, unit="jp")  # 锦屏村 has no 书记: the review is flagged, not lost
    review = review_task(engine, vacant)
    assert review.assignee is None
    assert review.unresolved == {"reason": "vacant", "post": "书记", "units": ["锦屏村"]}


def test_a_group_merely_named_like_a_posts_queue_gives_no_post(engine: Engine) -> None:
    county(engine)
    posts(engine, "chen", ("jjp", "书记"))
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    engine.upsert_user("zhou", groups=["post:jjp:书记"])
    assert inbox(engine, "zhou") == []
    assert engine.list_tasks("zhou", groups=["post:jjp:书记"]).total == 0
    with pytest.raises(NotAllowedError):
        engine.claim(task_id, "zhou", groups=["post:jjp:书记"])


def test_a_tab_counted_without_its_page_counts_the_post_queue(engine: Engine) -> None:
    """The inbox page counts the tabs it does not show with ``limit=0``: the count is still the total."""
    county(engine)
    posts(engine, "chen", ("jjp", "书记"))
    start(engine, "post:书记@data:unit", {"unit": "jjp"})
    assert engine.list_tasks("chen", scope="candidate", limit=0).total == 1
    assert engine.list_tasks("chen", scope="candidate", limit=0, q="审核").total == 1


def test_an_imported_appointment_moves_the_task_to_the_new_holder(engine: Engine) -> None:
    county(engine)
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    people = "用户名,姓名,单位编码,职务,职级,分组\nzhang,张,jjp,文书,,\nchen,陈,jjp,书记,,\n"
    engine.import_org(people.encode("utf-8"), "people.csv")  # 张 steps down to 文书, 陈 becomes 书记
    assert engine.get_task(task_id).task.assignee == "chen"
    assert inbox(engine, "zhang") == []
