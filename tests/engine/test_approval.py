"""The Chinese approval operations, alone and in the combinations that break elsewhere.

Every scenario ends by checking that the instance can take its next action and that the audit
log tells the story.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import ConflictError, Engine, InvalidInputError, NotAllowedError

DATA = Path(__file__).resolve().parent.parent / "data" / "engine"
PEOPLE = {
    "wang": [],
    "a": ["reviewers"],
    "b": ["reviewers", "office"],
    "c": ["office"],
    "boss": ["leaders"],
    "s1": [],
    "s2": [],
    "s3": [],
    "legal1": ["legal"],
    "fin1": ["finance"],
}


@pytest.fixture
def engine(make_engine) -> Engine:
    eng = make_engine()
    for user, groups in PEOPLE.items():
        eng.upsert_user(user, groups=groups)
    return eng


def deploy(engine: Engine, *, mode: str = "all", auto: str = "never") -> None:
    xml = (DATA / "approval.bpmn").read_text().replace("__AUTO__", auto).replace("__MODE__", mode)
    engine.deploy({"approval.bpmn": xml.encode()}, actor="admin")


def start(engine: Engine, signers: tuple[str, ...] = ("s1", "s2", "s3"), **kw):
    inst = engine.start("approval_demo", actor="wang", data={"signers": list(signers)})
    engine.complete(inst.open_tasks[0].id, "wang", {"title": "修缮村道", **kw})
    return engine.get_instance(inst.id)


def open_task(engine: Engine, instance_id: str, element: str, assignee: str | None = None):
    tasks = [
        t
        for t in engine.get_instance(instance_id).open_tasks
        if t.element_id == element and (assignee is None or t.assignee == assignee)
    ]
    assert tasks, [(t.element_id, t.assignee) for t in engine.get_instance(instance_id).open_tasks]
    return tasks[0]


def events(engine: Engine, instance_id: str) -> list[str]:
    return [e.event for e in engine.history(instance_id)]


def sign_all(engine: Engine, instance_id: str, decision: str = "approve") -> None:
    for t in list(engine.get_instance(instance_id).open_tasks):
        if t.element_id == "countersign":
            engine.complete(t.id, t.assignee, {"decision": decision})


# ---- each operation alone -------------------------------------------------------------------
def test_transfer_hands_the_task_over_for_good(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    engine.claim(review.id, "a")
    engine.transfer(review.id, "a", "b", "我出差，请 b 处理")
    with pytest.raises(ConflictError):
        engine.complete(review.id, "a", {"decision": "approve"})
    engine.complete(review.id, "b", {"decision": "approve"})
    assert {t.assignee for t in engine.get_instance(inst.id).open_tasks} == {"s1", "s2", "s3"}
    moved = [e.data for e in engine.history(inst.id) if e.event == "task.transfer"]
    assert moved == [{"from": "a", "to": "b", "comment": "我出差，请 b 处理"}]


def test_delegate_works_it_and_the_owner_confirms(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    engine.claim(review.id, "a")
    engine.delegate(review.id, "a", "s1", "请代为审核")
    assert engine.get_task(review.id).task.owner == "a"
    engine.complete(review.id, "s1", {"decision": "approve", "comment": "已核"})
    back = engine.get_task(review.id)
    assert (back.task.assignee, back.task.status) == ("a", "open")
    assert back.data["comment"] == "已核"  # the owner starts from the delegate's work
    engine.complete(review.id, "a", {"decision": "approve"})
    assert {t.element_id for t in engine.get_instance(inst.id).open_tasks} == {"countersign"}
    assert ["task.delegate", "task.delegate_done", "task.complete"] == [
        e for e in events(engine, inst.id) if e.startswith("task.delegate") or (e == "task.complete")
    ][-3:]


@pytest.mark.parametrize("mode", ["before", "after", "parallel"])
def test_added_signers_must_all_sign_before_the_step_completes(engine: Engine, mode: str) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    engine.claim(review.id, "a")
    engine.add_signers(review.id, "a", ["s1", "s2"], mode)
    if mode == "before":
        assert engine.get_task(review.id).task.status == "waiting"
        for who in ("s1", "s2"):
            engine.complete(open_task(engine, inst.id, "review", who).id, who, {"decision": "approve"})
        engine.complete(review.id, "a", {"decision": "approve"})
    elif mode == "after":
        engine.complete(review.id, "a", {"decision": "approve"})
        assert [t.assignee for t in engine.get_instance(inst.id).open_tasks] == ["s1"]
        engine.complete(open_task(engine, inst.id, "review", "s1").id, "s1", {"decision": "approve"})
        assert [t.assignee for t in engine.get_instance(inst.id).open_tasks] == ["s2"]
        engine.complete(open_task(engine, inst.id, "review", "s2").id, "s2", {"decision": "approve"})
    else:
        assert {t.assignee for t in engine.get_instance(inst.id).open_tasks} == {"a", "s1", "s2"}
        engine.complete(open_task(engine, inst.id, "review", "s2").id, "s2", {"decision": "approve"})
        engine.complete(review.id, "a", {"decision": "approve"})
        assert open_task(engine, inst.id, "review", "s1")
        engine.complete(open_task(engine, inst.id, "review", "s1").id, "s1", {"decision": "approve"})
    assert {t.element_id for t in engine.get_instance(inst.id).open_tasks} == {"countersign"}
    assert events(engine, inst.id).count("task.sign") >= 2


def test_removing_an_added_signer_who_has_not_acted(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    engine.claim(review.id, "a")
    engine.add_signers(review.id, "a", ["s1", "s2"], "parallel")
    engine.complete(open_task(engine, inst.id, "review", "s1").id, "s1", {"decision": "approve"})
    with pytest.raises(ConflictError):
        engine.remove_signer(review.id, "a", "s1")  # already signed
    with pytest.raises(NotAllowedError):
        engine.remove_signer(review.id, "s2", "s2")
    engine.remove_signer(review.id, "a", "s2", "不再需要")
    engine.complete(review.id, "a", {"decision": "approve"})
    assert {t.element_id for t in engine.get_instance(inst.id).open_tasks} == {"countersign"}


@pytest.mark.parametrize(
    ("mode", "decisions", "outcome"),
    [
        ("all", ["approve", "approve", "approve"], "leader"),
        ("all", ["approve", "reject"], "rejected"),
        ("any", ["approve"], "leader"),
        ("any", ["reject", "reject", "reject"], "rejected"),
        ("sequential", ["approve", "approve", "approve"], "leader"),
        ("ratio:0.6", ["approve", "reject", "approve"], "leader"),
        ("ratio:0.6", ["reject", "reject"], "rejected"),
    ],
)
def test_approval_modes_declared_in_the_diagram(
    engine: Engine, mode: str, decisions: list[str], outcome: str
) -> None:
    deploy(engine, mode=mode)
    inst = start(engine)
    engine.complete(open_task(engine, inst.id, "review").id, "a", {"decision": "approve"})
    for decision in decisions:
        signer = next(t for t in engine.get_instance(inst.id).open_tasks if t.element_id == "countersign")
        if mode == "sequential":
            assert (
                len([t for t in engine.get_instance(inst.id).open_tasks if t.element_id == "countersign"])
                == 1
            )
        engine.complete(signer.id, signer.assignee, {"decision": decision})
    after = engine.get_instance(inst.id)
    if outcome == "leader":
        assert [t.element_id for t in after.open_tasks] == ["leader"]
    else:
        assert after.status == "completed" and after.data["outcome"] == "rejected"
    assert all(
        t.element_id != "countersign" for t in after.open_tasks
    )  # nobody is left with a stale signature


def test_return_to_the_previous_task_keeps_its_data(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    assert [t.element_id for t in engine.return_targets(review.id)] == ["draft"]
    engine.return_task(review.id, "a", comment="请补充预算")
    draft = open_task(engine, inst.id, "draft")
    assert draft.assignee == "wang" and draft.returned
    assert engine.get_task(draft.id).data["title"] == "修缮村道"  # the redo starts from what was filed
    engine.complete(draft.id, "wang", {"title": "修缮村道（含预算）"})
    assert open_task(engine, inst.id, "review")
    assert "task.return" in events(engine, inst.id)


def test_return_refuses_a_step_the_instance_never_passed(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    with pytest.raises(InvalidInputError) as err:
        engine.return_task(review.id, "a", "leader", "乱退")
    assert "to_element_id" in err.value.errors
    assert open_task(engine, inst.id, "review").id == review.id


def test_withdraw_while_the_next_task_is_untouched(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    engine.withdraw(inst.id, "wang", "发错了")
    assert [t.element_id for t in engine.get_instance(inst.id).open_tasks] == ["draft"]
    engine.complete(open_task(engine, inst.id, "draft").id, "wang", {"title": "重新提交"})
    review = open_task(engine, inst.id, "review")
    engine.claim(review.id, "a")
    with pytest.raises(ConflictError):
        engine.withdraw(inst.id, "wang")
    with pytest.raises(NotAllowedError):
        engine.withdraw(inst.id, "c")


def test_urge_is_an_event_and_rate_limited(engine: Engine, clock) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    engine.urge(review.id, "wang", "请尽快")
    with pytest.raises(ConflictError):
        engine.urge(review.id, "wang")
    with pytest.raises(NotAllowedError):
        engine.urge(review.id, "c")
    clock.advance(minutes=11)
    engine.urge(review.id, "wang")
    assert events(engine, inst.id).count("task.urge") == 2


def test_cc_by_hand_and_declared_on_the_task(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    assert engine.copy_to(inst.id, "wang", ["s3"]) == ["s3"]
    assert engine.copy_to(inst.id, "wang", ["s3"]) == []
    with pytest.raises(NotAllowedError):
        engine.copy_to(inst.id, "s3", ["c"])
    engine.complete(open_task(engine, inst.id, "review").id, "a", {"decision": "approve"})  # ccGroups=office
    for user in ("b", "c", "s3"):
        page = engine.list_tasks(user, scope="cc")
        assert [i.instance_id for i in page.items] == [inst.id]
        assert page.items[0].read_at is None
    engine.mark_cc_read(inst.id, "c")
    assert engine.list_tasks("c", scope="cc").items[0].read_at is not None


@pytest.mark.parametrize("action", ["remind", "approve"])
def test_timeout_actions_fire_from_the_job_table(engine: Engine, clock, action: str) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    if action == "remind":
        clock.advance(days=2, minutes=1)
        engine.run_due_jobs()
        assert "task.urge" in events(engine, inst.id)
        assert open_task(engine, inst.id, "review").id == review.id
        return
    engine.complete(review.id, "a", {"decision": "approve"})
    sign_all(engine, inst.id)
    leader = open_task(engine, inst.id, "leader")
    clock.advance(days=5, minutes=1)
    engine.run_due_jobs()
    after = engine.get_instance(inst.id)
    assert after.status == "completed" and after.data["outcome"] == "approved"
    assert "task.timeout" in events(engine, inst.id)
    assert engine.list_jobs(instance_id=inst.id).total == 0
    assert engine.get_task(leader.id).task.completed_by == "system"


def test_typed_comments_tell_the_story(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    engine.claim(review.id, "a")
    engine.transfer(review.id, "a", "b", "转给 b")
    engine.return_task(review.id, "b", comment="退回补充")
    kinds = [c.kind for c in engine.list_comments(review.id, "b")]
    assert kinds == ["transfer", "return"]


# ---- combinations that break elsewhere ---------------------------------------------------------
def test_add_sign_then_reject_keeps_the_added_signers_in_the_record(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    engine.claim(review.id, "a")
    engine.add_signers(review.id, "a", ["s1"], "after")
    engine.complete(review.id, "a", {"decision": "approve"})
    engine.complete(open_task(engine, inst.id, "review", "s1").id, "s1", {"decision": "reject"})
    after = engine.get_instance(inst.id)
    assert after.status == "completed" and after.data["outcome"] == "rejected"
    assert {"username": "s1", "decision": "reject"} in after.data["signatures"]


def test_return_into_a_multi_instance_step_recreates_every_instance(engine: Engine) -> None:
    engine.deploy({"branches.bpmn": (DATA / "branches.bpmn").read_bytes()}, actor="admin")
    inst = engine.start("branches_demo", actor="wang", data={"panel": ["s1", "s2", "s3"]})
    engine.complete(inst.open_tasks[0].id, "wang", {"title": "方案"})
    for t in engine.get_instance(inst.id).open_tasks:
        engine.complete(t.id, t.assignee, {"opinion": "同意"})
    legal = open_task(engine, inst.id, "legal_review")
    assert "panel_review" in [t.element_id for t in engine.return_targets(legal.id)]
    engine.return_task(legal.id, "legal1", "panel_review", "评审意见不一致，重评")
    again = engine.get_instance(inst.id).open_tasks
    assert sorted((t.element_id, t.assignee) for t in again) == [
        ("panel_review", "s1"),
        ("panel_review", "s2"),
        ("panel_review", "s3"),
    ]
    for t in again:
        engine.complete(t.id, t.assignee, {"opinion": "同意"})
    assert {t.element_id for t in engine.get_instance(inst.id).open_tasks} == {
        "legal_review",
        "finance_review",
    }


def test_return_to_a_sibling_parallel_branch_is_refused(engine: Engine) -> None:
    engine.deploy({"branches.bpmn": (DATA / "branches.bpmn").read_bytes()}, actor="admin")
    inst = engine.start("branches_demo", actor="wang", data={"panel": ["s1"]})
    engine.complete(inst.open_tasks[0].id, "wang", {"title": "方案"})
    engine.complete(engine.get_instance(inst.id).open_tasks[0].id, "s1", {"opinion": "同意"})
    finance = open_task(engine, inst.id, "finance_review")
    engine.complete(finance.id, "fin1", {"ok": True})
    legal = open_task(engine, inst.id, "legal_review")
    assert "finance_review" not in [t.element_id for t in engine.return_targets(legal.id)]
    with pytest.raises(InvalidInputError):
        engine.return_task(legal.id, "legal1", "finance_review", "x")
    engine.return_task(legal.id, "legal1", "draft", "从头来")
    assert [t.element_id for t in engine.get_instance(inst.id).open_tasks] == ["draft"]


def deploy_leader_by_data(engine: Engine, auto: str) -> None:
    """The leader step goes to the person named in ``leader_name`` (so one person can approve twice)."""
    xml = (DATA / "approval.bpmn").read_text().replace("__AUTO__", auto).replace("__MODE__", "all")
    xml = xml.replace(
        '<spiffworkflow:property name="candidateGroups" value="leaders" />',
        '<spiffworkflow:property name="assignee" value="leader_name" />',
    )
    engine.deploy({"approval.bpmn": xml.encode()}, actor="admin")


def test_auto_approve_skips_a_person_who_already_approved(engine: Engine) -> None:
    deploy_leader_by_data(engine, "same_person")
    inst = engine.start("approval_demo", actor="wang", data={"signers": ["s1"], "leader_name": "a"})
    engine.complete(inst.open_tasks[0].id, "wang", {"title": "修缮村道"})
    engine.complete(open_task(engine, inst.id, "review").id, "a", {"decision": "approve"})
    engine.complete(open_task(engine, inst.id, "countersign").id, "s1", {"decision": "approve"})
    done = engine.get_instance(inst.id)
    assert done.status == "completed" and done.data["outcome"] == "approved"
    auto = [e for e in engine.history(inst.id) if e.event == "task.auto_approve"]
    assert [(e.element_id, e.data["on_behalf_of"]) for e in auto] == [("leader", "a")]


def test_return_then_auto_approve_never_skips_the_returned_step(engine: Engine) -> None:
    deploy_leader_by_data(engine, "same_person")
    inst = engine.start("approval_demo", actor="wang", data={"signers": ["s1"], "leader_name": "boss"})
    engine.complete(inst.open_tasks[0].id, "wang", {"title": "修缮村道"})
    engine.complete(open_task(engine, inst.id, "review").id, "a", {"decision": "approve"})
    engine.complete(open_task(engine, inst.id, "countersign").id, "s1", {"decision": "approve"})
    leader = open_task(engine, inst.id, "leader")
    engine.return_task(leader.id, "boss", "review", "预算口径需重审")
    review = open_task(engine, inst.id, "review")  # a approved review before, yet it waits for a
    assert (review.assignee, review.returned) == ("a", True)
    assert "task.auto_approve" not in events(engine, inst.id)
    engine.complete(review.id, "a", {"decision": "approve"})
    assert [t.element_id for t in engine.get_instance(inst.id).open_tasks] == ["countersign"]


def test_withdraw_after_delegate_is_refused_and_the_delegation_still_works(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    engine.claim(review.id, "a")
    engine.delegate(review.id, "a", "s2")
    with pytest.raises(ConflictError):
        engine.withdraw(inst.id, "wang")
    engine.complete(review.id, "s2", {"decision": "approve"})
    engine.complete(review.id, "a", {"decision": "approve"})
    assert {t.element_id for t in engine.get_instance(inst.id).open_tasks} == {"countersign"}


def test_cc_declared_on_a_step_survives_a_one_click_reject(engine: Engine) -> None:
    deploy(engine)
    inst = start(engine)
    engine.complete(open_task(engine, inst.id, "review").id, "a", {"decision": "reject"})
    assert engine.get_instance(inst.id).data["outcome"] == "rejected"
    assert [i.instance_id for i in engine.list_tasks("c", scope="cc").items] == [inst.id]


def test_transfer_of_a_timed_out_task(engine: Engine, clock) -> None:
    deploy(engine)
    inst = start(engine)
    review = open_task(engine, inst.id, "review")
    engine.claim(review.id, "a")
    clock.advance(days=3)
    engine.run_due_jobs()  # the remind timeout fires
    engine.transfer(review.id, "a", "b", "超时转办")
    engine.complete(review.id, "b", {"decision": "approve"})
    assert {t.element_id for t in engine.get_instance(inst.id).open_tasks} == {"countersign"}
    story = events(engine, inst.id)
    assert story.index("task.urge") < story.index("task.transfer") < len(story)


def test_return_into_a_countersign_step_signs_it_afresh(engine: Engine) -> None:
    deploy(engine, mode="all")
    inst = start(engine, signers=("s1", "s2"))
    engine.complete(open_task(engine, inst.id, "review").id, "a", {"decision": "approve"})
    sign_all(engine, inst.id)
    leader = open_task(engine, inst.id, "leader")
    engine.return_task(leader.id, "boss", "countersign", "请重新会签")
    again = [t for t in engine.get_instance(inst.id).open_tasks if t.element_id == "countersign"]
    assert sorted(t.assignee for t in again) == ["s1", "s2"]
    engine.complete(again[0].id, again[0].assignee, {"decision": "approve"})
    assert [t.element_id for t in engine.get_instance(inst.id).open_tasks] == [
        "countersign"
    ]  # one signature is not all
    engine.complete(again[1].id, again[1].assignee, {"decision": "approve"})
    assert [t.element_id for t in engine.get_instance(inst.id).open_tasks] == ["leader"]
