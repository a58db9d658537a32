"""The rulebook: who may do what, asked by action name, and the actions a viewer is offered.

Each test is a situation from the claim-and-evaluate walk; the actions a task or instance lists
for a viewer are what the engine then lets that viewer do.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine import Actor, ConflictError, Engine, ManualClock, NotAllowedError, NotFoundError, allowed, require
from engine.rules import actor_of
from engine.tables import HumanTask, Instance
from tests.plans import bulk_instances, plans_of
from tests.walk import Walk


@pytest.fixture
def walk(make_engine: Callable[..., Engine], clock: ManualClock) -> Walk:
    w = Walk(make_engine, clock)
    w.engine.upsert_user("admin", roles=["admin"])
    w.engine.upsert_user("oa", roles=["oa-service"])
    w.engine.upsert_user("ma", groups=["taskforce"])  # a second member of the task force
    return w


def task_actions(walk: Walk, element_id: str, viewer: str) -> list[str]:
    return walk.engine.get_task(walk.open_task(element_id).id, viewer).task.actions


def instance_actions(walk: Walk, viewer: str) -> list[str]:
    return walk.engine.get_instance(walk.instance_id, viewer=viewer).actions


# ---- defects the scattered checks hid -------------------------------------------------------------
def test_a_delegate_keeps_sight_of_the_instance_they_worked(walk: Walk) -> None:
    walk.submit()
    review = walk.open_task("preliminary_review")
    walk.engine.claim(review.id, "zhao")
    walk.engine.delegate(review.id, "zhao", "zhou", "请代为初审")
    walk.engine.complete(
        review.id, "zhou", {"decision": "approve", "comment": "材料齐全"}
    )  # back to zhao to confirm
    assert walk.engine.get_instance(walk.instance_id, viewer="zhou").id == walk.instance_id
    walk.engine.complete(review.id, "zhao", {"decision": "approve", "comment": "同意"})
    assert [i.id for i in walk.engine.list_instances(viewer="zhou").items] == [walk.instance_id]
    assert any(e.event == "task.delegate_done" for e in walk.engine.history(walk.instance_id, viewer="zhou"))
    with pytest.raises(NotAllowedError):
        walk.engine.get_instance(walk.instance_id, viewer="li")  # someone who never touched it still does not


def test_the_last_approver_may_withdraw_and_is_offered_it_the_starter_no_longer(walk: Walk) -> None:
    walk.submit()
    assert "withdraw" in instance_actions(walk, "wang")  # the starter's submission is the last step
    walk.clock.advance(minutes=30)
    walk.review()
    assert "withdraw" in instance_actions(walk, "zhao")
    assert "withdraw" not in instance_actions(walk, "wang")
    with pytest.raises(ConflictError):
        walk.engine.withdraw(walk.instance_id, "wang")  # allowed to ask, but someone else acted last
    walk.engine.withdraw(walk.instance_id, "zhao", "再看看")
    assert walk.open_elements() == ["preliminary_review"]
    assert "withdraw" not in instance_actions(walk, "zhao") and "withdraw" in instance_actions(walk, "wang")


# ---- the actions each person is offered -------------------------------------------------------------
def test_a_queued_task_offers_its_candidates_claim_and_its_starter_only_reminders(walk: Walk) -> None:
    walk.submit()
    assert sorted(task_actions(walk, "preliminary_review", "zhao")) == [
        "claim",
        "comment",
        "complete",
        "view",
    ]  # not involved yet: no reminders or copies
    assert sorted(task_actions(walk, "preliminary_review", "wang")) == ["cc", "comment", "urge", "view"]
    assert sorted(task_actions(walk, "preliminary_review", "admin")) == ["cc", "comment", "urge", "view"]
    assert sorted(task_actions(walk, "preliminary_review", "oa")) == [
        "view"
    ]  # sees everything, works nothing
    with pytest.raises(NotAllowedError):
        task_actions(walk, "preliminary_review", "li")


def test_the_holder_is_offered_the_approval_operations_a_colleague_learns_it_is_held(walk: Walk) -> None:
    walk.submit()
    walk.engine.claim(walk.open_task("preliminary_review").id, "zhao")
    mine = task_actions(walk, "preliminary_review", "zhao")
    assert sorted(mine) == [
        "add_signers",
        "comment",
        "complete",
        "delegate",
        "remove_signer",
        "return",
        "transfer",
        "unclaim",
        "view",
    ]
    with pytest.raises(NotAllowedError):
        task_actions(walk, "preliminary_review", "ma")  # a held task leaves the colleagues' queue
    with pytest.raises(ConflictError):
        walk.engine.complete(
            walk.open_task("preliminary_review").id, "ma", {"decision": "approve"}
        )  # allowed in principle, held now


def test_instance_actions_follow_who_started_and_who_runs_jobs(walk: Walk) -> None:
    walk.submit()
    assert sorted(instance_actions(walk, "wang")) == ["cancel", "cc", "view", "withdraw"]
    assert sorted(instance_actions(walk, "zhao")) == ["view"]
    assert sorted(instance_actions(walk, "admin")) == ["cancel", "cc", "execute_job", "view"]
    walk.engine.cancel(walk.instance_id, actor="wang")
    assert sorted(instance_actions(walk, "wang")) == ["cc", "view"]
    assert walk.engine.get_instance(walk.instance_id).actions == []  # no viewer, nothing offered


# ---- asking the rulebook directly ------------------------------------------------------------------
def test_rules_answer_by_action_name_for_rows_and_for_the_installation(walk: Walk) -> None:
    walk.submit()
    with walk.engine.store.read() as s:
        task = s.get(HumanTask, walk.open_task("preliminary_review").id)
        instance = s.get(Instance, walk.instance_id)
        zhao, wang = actor_of(s, "zhao"), actor_of(s, "wang")
        assert allowed("claim", zhao, task) and not allowed("claim", wang, task)
        assert allowed("cancel", wang, instance) and not allowed("cancel", zhao, instance)
        assert not allowed("fly", zhao, task)  # an action nobody defined is refused
        with pytest.raises(NotAllowedError, match="仅发起人或管理员可撤销"):
            require("cancel", zhao, instance)
        assert allowed("file_claim", wang, instance)  # a submitter may claim their own challenge...
        instance.data = {
            **instance.data,
            "allow_submitter_claim": False,
        }  # ...unless the diagram ruled it out
        assert not allowed("file_claim", wang, instance) and allowed("file_claim", zhao, instance)
    admin, oa = Actor("admin", frozenset({"admin"})), Actor("oa", frozenset({"oa-service"}))
    assert allowed("deploy", admin) and not allowed("deploy", oa)
    assert allowed("issue_login_link", oa) and not allowed("issue_login_link", admin)
    assert (
        allowed("manage_users", admin)
        and allowed("manage_users", oa)
        and not allowed("manage_users", Actor("wang"))
    )


def test_whoever_may_see_a_task_reads_its_remarks_as_the_history_shows_them(walk: Walk) -> None:
    walk.submit()
    review = walk.open_task("preliminary_review")
    walk.engine.add_comment(review.id, "zhao", "材料缺少村委会意见")
    walk.engine.copy_to(walk.instance_id, "wang", ["zhou"])
    for reader in ("oa", "zhou"):  # the OA service, someone the instance was copied to
        assert [c.text for c in walk.engine.list_comments(review.id, reader)] == ["材料缺少村委会意见"]
        assert any(
            e.data.get("text") == "材料缺少村委会意见"
            for e in walk.engine.history(walk.instance_id, viewer=reader)
        )
    with pytest.raises(NotAllowedError):
        walk.engine.add_comment(
            review.id, "zhou", "我也说两句"
        )  # writing remarks stays with the people on the task
    with pytest.raises(NotAllowedError):
        walk.engine.list_comments(review.id, "li")


def test_the_holder_may_remove_a_signer_added_before_them_while_the_step_waits(walk: Walk) -> None:
    walk.submit()
    review = walk.open_task("preliminary_review")
    walk.engine.add_signers(review.id, "zhao", ["zhou", "li"], "before")
    assert walk.engine.get_task(review.id).task.status == "waiting"
    assert "remove_signer" in walk.engine.get_task(review.id, "zhao").task.actions
    walk.engine.remove_signer(review.id, "zhao", "li")


# ---- an accidental 发起, the public challenge page, the people a ledger names ---------------------
def test_an_untouched_draft_is_discarded_by_its_starter_and_not_withdrawn(walk: Walk) -> None:
    draft = walk.engine.start("claim_evaluate", actor="wang", business_key="P-2026-009")
    walk.instance_id = draft.id
    assert sorted(instance_actions(walk, "wang")) == ["cancel", "cc", "discard", "view"]
    with pytest.raises(ConflictError, match="尚未提交任何环节，无可撤回"):
        walk.engine.withdraw(draft.id, "wang")  # the truth, not "someone else acted last"
    with pytest.raises(NotAllowedError):
        walk.engine.discard(draft.id, actor="zhao")
    dropped = walk.engine.discard(draft.id, actor="wang")
    assert dropped.status == "cancelled" and dropped.open_tasks == []
    assert walk.events()[-1] == "instance.cancel"


def test_a_submitted_application_is_no_longer_a_draft_to_discard(walk: Walk) -> None:
    walk.submit()
    assert "discard" not in instance_actions(walk, "wang")
    with pytest.raises(NotAllowedError):
        walk.engine.discard(walk.instance_id, actor="wang")
    walk.engine.withdraw(walk.instance_id, "wang")  # taken back before review: a draft again
    assert "discard" in instance_actions(walk, "wang")


def test_a_published_challenge_is_public_but_an_application_under_review_is_not(walk: Walk) -> None:
    walk.submit()
    with pytest.raises(NotFoundError):
        walk.engine.challenge(walk.instance_id, viewer="zhou")  # nothing leads a cadre to a draft
    walk.review()
    walk.approve()
    page = walk.engine.challenge(walk.instance_id, viewer="zhou")
    assert page["goals"] == "三个月内完成征迁协议签订" and page["milestones"] == ["摸排", "谈判", "签约"]
    assert page["guarantees"] == "镇财政保障工作经费" and page["may_claim"] and not page["claimed"]
    walk.claim_individual("zhou")
    assert walk.engine.challenge(walk.instance_id, viewer="zhou")["claimed"]
    with pytest.raises(NotAllowedError):
        walk.engine.get_instance(walk.instance_id, viewer="zhou")  # the raw instance stays private


def test_a_team_member_awarded_points_may_open_the_instance_that_awarded_them(walk: Walk) -> None:
    walk.publish()
    walk.claim_team("zhangjie", "li")
    walk.close_claim_window()
    walk.do("select_claim", "sun", {"decision": "approve", "selected": 0})
    assert walk.engine.list_instances(viewer="li").total == 0
    walk.finish_supervision()
    walk.accept()
    assert walk.engine.get_instance(walk.instance_id, viewer="li").id == walk.instance_id
    assert [i.id for i in walk.engine.list_instances(viewer="li").items] == [walk.instance_id]


# ---- the list of instances and the single check agree -------------------------------------------
def _opens(engine: Engine, instance_id: str, viewer: str) -> bool:
    try:
        engine.get_instance(instance_id, viewer=viewer)
    except (NotAllowedError, NotFoundError):
        return False
    return True


def test_everyone_lists_exactly_the_instances_they_may_open(walk: Walk) -> None:
    """The list reads the ways in as a union of index ranges, one instance is checked row by row:
    both must name the same instances for every person, whatever way in they have."""
    engine = walk.engine
    walk.publish()  # reviewed by the task force, approved by the committee, on the board
    walk.claim_team("zhangjie", "li")
    walk.close_claim_window()
    walk.do("select_claim", "sun", {"decision": "approve", "selected": 0})
    walk.finish_supervision()
    walk.accept()  # points for the team: scored
    finished = walk.instance_id
    walk.submit()  # a second one, waiting in the task force's queue: candidates
    queued = walk.instance_id
    assert {i.id for i in engine.list_instances(viewer="ma").items} == {queued}  # only as a candidate
    engine.copy_to(queued, "wang", ["qian"])  # copied
    review = walk.open_task("preliminary_review")
    engine.claim(review.id, "zhao")
    engine.delegate(review.id, "zhao", "zhou", "请代为初审")  # delegated
    instances = [finished, queued]
    for person in ["wang", "zhao", "ma", "sun", "qian", "zhangjie", "li", "zhou", "admin", "oa"]:
        listed = {i.id for i in engine.list_instances(viewer=person).items}
        assert listed == {i for i in instances if _opens(engine, i, person)}, person
        assert engine.list_instances(viewer=person).total == len(listed), person
    assert {i.id for i in engine.list_instances(viewer="li").items} == {finished}  # only as scored
    assert {i.id for i in engine.list_instances(viewer="zhou").items} == {queued}  # only as a delegate


def test_a_persons_instance_list_reads_instances_by_id_not_the_whole_tenant(walk: Walk) -> None:
    """The total under a person's list is counted from the instances they are involved in: the
    ``instance`` table is read by primary key, never scanned (that scan took seconds per request at
    100,000 instances, bench/README.md)."""
    walk.submit()
    others = [
        dict(id=f"other-{k}", started_by=f"someone{k % 50}", unit=f"village{k % 100}") for k in range(3000)
    ]
    bulk_instances(walk.engine, others)
    # a few thousand rows are still few enough for PostgreSQL to read them all: seq scans priced out
    sqlite, plan = plans_of(walk.engine, lambda: walk.engine.list_instances(viewer="ma"), no_seqscan=True)
    assert walk.engine.list_instances(viewer="ma").total == 1
    # ``instance`` is read by id (and, inside the union, by starter or unit): not scanned whole, not
    # walked through the tenant's index
    reads = [line for line in plan if (" instance " if sqlite else " on instance") in f"{line} "]
    by_id = "USING INDEX sqlite_autoindex_instance_1 (id=?)" if sqlite else "instance_pkey"
    assert any(by_id in line for line in reads), "\n".join(plan)
    assert not [
        line for line in reads if "SCAN instance" in line or "Seq Scan" in line or "tenant_created" in line
    ], "\n".join(plan)
