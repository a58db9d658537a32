"""Every branch of claim-and-evaluate, driven through the Engine with an injected clock.

Each scenario runs twice: with one Engine object, and with a fresh Engine object for every
step (``fresh``), which proves that the state lives in the database and nowhere else.
"""

from __future__ import annotations

import pytest

from engine import ConflictError, FormInvalidError, InvalidInputError, NotAllowedError
from tests.walk import Walk


@pytest.fixture(params=[False, True], ids=["one-engine", "fresh-engine-per-step"])
def walk(request, make_engine, clock) -> Walk:
    return Walk(make_engine, clock, fresh=request.param)


def test_happy_path_team_claim_is_selected_accepted_and_scored(walk: Walk) -> None:
    walk.publish()
    assert walk.data()["phase"] == "published"
    assert [c["instance_id"] for c in walk.engine.board()] == [walk.instance_id]

    walk.claim_individual("zhou")
    walk.claim_team("zhangjie", "li", (60, 40))
    assert [c["leader"] for c in walk.data()["claims"]] == ["zhou", "zhangjie"]

    walk.close_claim_window()
    assert walk.open_elements() == ["select_claim"]
    walk.do("select_claim", "sun", {"selected": 1, "decision": "approve"})
    assert walk.data()["claimant_leader"] == "zhangjie"
    assert walk.engine.board()[0]["leader"] == "zhangjie"

    for percent in (20, 50, 80):
        walk.report(percent)
    walk.finish_supervision()
    done = walk.accept("pass", "good")

    assert done.status == "completed"
    assert {(r["username"], r["points"]) for r in done.data["ledger"]} == {("zhangjie", 60.0), ("li", 40.0)}
    period, rows = walk.engine.scores()
    assert sorted((r["username"], r["points"]) for r in rows) == [("li", 40.0), ("zhangjie", 60.0)]
    _, board, titles = walk.engine.leaderboard(period)
    assert [(r["username"], r["rank"]) for r in board] == [("zhangjie", 1), ("li", 2)]
    assert titles["solver_star"]["username"] == "zhangjie"
    events = walk.events()
    for expected in (
        "instance.start",
        "task.complete",
        "message.received",
        "timer.fired",
        "instance.completed",
        "score.awarded",
    ):
        assert expected in events
    assert walk.engine.list_tasks("zhangjie", scope="mine").total == 0


def test_returned_application_is_revised_and_reviewed_again(walk: Walk) -> None:
    walk.submit()
    walk.review("return", "目标不够具体")
    assert walk.open_elements() == ["revise_problem"]
    revise = walk.open_task("revise_problem")
    assert revise.assignee == "wang"
    detail = walk.engine.get_task(revise.id)
    assert detail.data["title"] == "康渝高铁征迁外围协调保障"  # the redo starts from what was filed
    walk.do("revise_problem", "wang", {**detail.data, "goals": "两个月内签约 37 户"})
    assert walk.open_elements() == ["preliminary_review"]
    walk.review("approve")
    assert walk.open_elements() == ["committee_approval"]


@pytest.mark.parametrize("at", ["preliminary_review", "committee_approval"])
def test_rejection_ends_the_instance(walk: Walk, at: str) -> None:
    walk.submit()
    if at == "preliminary_review":
        walk.review("reject", "不属于揭榜范围")
    else:
        walk.review()
        walk.do("committee_approval", "sun", {"decision": "reject", "comment": "暂缓"})
    inst = walk.instance()
    assert inst.status == "completed"
    assert inst.data["outcome"] == "rejected"
    assert walk.engine.board() == []


def test_unclaimed_challenge_is_republished_once_then_assigned(walk: Walk) -> None:
    walk.publish()
    first_deadline = walk.data()["claim_deadline"]
    walk.close_claim_window()
    assert walk.data()["republished"] == 1
    assert walk.data()["claim_deadline"] > first_deadline
    assert walk.open_elements() == []
    walk.close_claim_window()
    assert walk.open_elements() == ["assign_claimant"]
    walk.do("assign_claimant", "sun", {"leader": "zhou", "members": [], "comment": "组织指派"})
    assert walk.data()["claimant_leader"] == "zhou"
    assert walk.open_task("progress_report").assignee == "zhou"


def test_overdue_report_turns_red_and_the_report_stays_open(walk: Walk) -> None:
    walk.publish()
    walk.claim_individual("zhou")
    walk.close_claim_window()
    walk.do("select_claim", "sun", {"selected": 0})
    report = walk.open_task("progress_report")
    assert report.due_at is not None
    assert walk.engine.board()[0]["rag"] == "green"
    walk.pass_days(31)
    assert walk.open_task("progress_report").id == report.id
    assert walk.engine.board()[0]["rag"] == "red"
    flagged = [
        e
        for e in walk.engine.history(walk.instance_id)
        if e.event == "timer.fired" and e.element_id == "report_overdue"
    ]
    assert len(flagged) == 1


@pytest.mark.parametrize("decision", ["extend", "accept_late", "terminate"])
def test_deadline_passed_escalates_to_the_committee(walk: Walk, decision: str) -> None:
    walk.publish()
    walk.claim_individual("zhou")
    walk.close_claim_window()
    walk.do("select_claim", "sun", {"selected": 0})
    walk.report(30)
    for _ in range(4):  # reports keep coming...
        walk.pass_days(25)
        walk.report(40)
    walk.pass_days(25)  # ...and the 120-day deadline passes
    assert "deadline_escalation" in walk.open_elements()
    assert "progress_report" not in walk.open_elements()
    form = {"decision": decision, "comment": "专班意见"}
    if decision == "extend":
        form["new_deadline"] = "2026-12-31T00:00:00+08:00"
    walk.do("deadline_escalation", "sun", form)
    if decision == "extend":
        assert walk.open_elements() == ["progress_report"]
        assert walk.data()["deadline"] == "2026-12-30T16:00:00+00:00"
    elif decision == "accept_late":
        walk.do("completion_report", "zhou", {"summary": "迟交", "results": "完成", "evidence_links": []})
        done = walk.accept("pass", "good")
        assert done.data["on_time"] is False
        assert done.data["ledger"][0]["points"] == 80.0  # good but late: 0.8
    else:
        assert walk.instance().status == "completed"
        assert walk.instance().data["outcome"] == "failed"


def test_rectification_then_pass(walk: Walk) -> None:
    walk.publish()
    walk.claim_individual("zhou")
    walk.close_claim_window()
    walk.do("select_claim", "sun", {"selected": 0})
    walk.finish_supervision()
    walk.accept("rectify", new_deadline="2026-09-30T00:00:00+08:00", comment="材料不全")
    assert walk.data()["phase"] == "rectifying"
    assert walk.open_elements() == ["progress_report"]
    walk.finish_supervision()
    done = walk.accept("pass", "excellent")
    assert done.data["ledger"] == [
        {"username": "zhou", "points": 120.0, "reason": "康渝高铁征迁外围协调保障"}
    ]


def test_failed_acceptance_awards_nothing(walk: Walk) -> None:
    walk.publish()
    walk.claim_individual("zhou")
    walk.close_claim_window()
    walk.do("select_claim", "sun", {"selected": 0})
    walk.finish_supervision()
    done = walk.accept("fail", comment="未达目标")
    assert done.status == "completed"
    assert done.data["outcome"] == "failed"
    assert walk.engine.scores()[1] == []


def test_invalid_form_lists_every_field_and_changes_nothing(walk: Walk) -> None:
    inst = walk.engine.start("claim_evaluate", actor="wang")
    walk.instance_id = inst.id
    task = walk.open_task("submit_problem")
    before = walk.engine.history(inst.id)
    with pytest.raises(FormInvalidError) as err:
        walk.engine.complete(task.id, "wang", {"title": "", "category": "不存在", "proposed_points": 500})
    assert {"category", "description", "goals", "proposed_deadline", "proposed_points"} <= set(
        err.value.errors
    )
    assert walk.engine.history(inst.id) == before
    assert walk.open_task("submit_problem").status == "open"


def test_only_candidates_act_and_nothing_happens_twice(walk: Walk) -> None:
    walk.submit()
    review = walk.open_task("preliminary_review")
    assert review.candidate_groups == ["taskforce"]
    with pytest.raises(NotAllowedError):
        walk.engine.claim(review.id, "wang")
    walk.engine.claim(review.id, "zhao")
    walk.engine.upsert_user("zhao2", groups=["taskforce"])
    with pytest.raises(ConflictError):
        walk.engine.claim(review.id, "zhao2")
    with pytest.raises(ConflictError):
        walk.engine.complete(review.id, "zhao2", {"decision": "approve"})
    walk.engine.complete(review.id, "zhao", {"decision": "approve"})
    with pytest.raises(ConflictError):
        walk.engine.complete(review.id, "zhao", {"decision": "approve"})
    assert [e.event for e in walk.engine.history(walk.instance_id)].count("task.claim") == 1


def test_team_shares_must_sum_to_100(walk: Walk) -> None:
    walk.publish()
    with pytest.raises(InvalidInputError) as err:
        walk.claim_team("zhangjie", "li", (70, 40))
    assert "members" in err.value.errors
    assert walk.data()["claims"] == []


def test_engine_claim_shares_must_be_finite(walk: Walk) -> None:
    walk.publish()
    for bad in (float("inf"), float("nan")):
        members = [{"username": "zhangjie", "share": bad}, {"username": "li", "share": 40}]
        with pytest.raises(InvalidInputError) as err:
            walk.engine.file_claim(
                walk.instance_id, "zhangjie", {"kind": "team", "members": members, "plan": "p", "pledge": "p"}
            )
        assert "members.0.share" in err.value.errors
    assert walk.data()["claims"] == []


def assign_ready(walk: Walk) -> None:
    """Published, no claim in two windows: the committee assigns (组织指派)."""
    walk.publish()
    walk.close_claim_window()
    walk.close_claim_window()
    assert walk.open_elements() == ["assign_claimant"]


@pytest.mark.parametrize(
    ("assignment", "field"),
    [
        (
            {
                "leader": "zhou",
                "members": [{"username": "zhou", "share": 60}, {"username": "li", "share": 60}],
            },
            "members",
        ),
        (
            {
                "leader": "zhou",
                "members": [{"username": "zhou", "share": 50}, {"username": "ghost", "share": 50}],
            },
            "members.1.username",
        ),
        ({"leader": "ghost", "members": []}, "leader"),
        (
            {
                "leader": "zhou",
                "members": [{"username": "li", "share": 50}, {"username": "zhangjie", "share": 50}],
            },
            "leader",
        ),
        (
            {
                "leader": "zhou",
                "members": [{"username": "zhou", "share": 50}, {"username": "zhou", "share": 50}],
            },
            "members",
        ),
    ],
    ids=["shares-120", "unknown-member", "unknown-leader", "leader-outside-team", "member-twice"],
)
def test_an_organisational_assignment_names_real_people_whose_shares_add_up(
    walk: Walk, assignment: dict, field: str
) -> None:
    assign_ready(walk)
    before = walk.engine.history(walk.instance_id)
    with pytest.raises(FormInvalidError) as err:
        walk.do("assign_claimant", "sun", {**assignment, "comment": "组织指派"})
    assert field in err.value.errors
    assert walk.engine.history(walk.instance_id) == before and walk.open_elements() == ["assign_claimant"]
    walk.do(
        "assign_claimant",
        "sun",
        {"leader": "zhou", "members": [{"username": "zhou", "share": 70}, {"username": "li", "share": 30}]},
    )
    assert walk.data()["claimant"]["members"][1] == {"username": "li", "share": 30}


def test_selecting_a_claim_that_does_not_exist_is_refused_and_the_task_stays_open(walk: Walk) -> None:
    walk.publish()
    walk.claim_individual("zhou")
    walk.close_claim_window()
    with pytest.raises(FormInvalidError) as err:
        walk.do("select_claim", "sun", {"selected": 99})
    assert "selected" in err.value.errors
    assert walk.instance().status == "running" and walk.open_elements() == ["select_claim"]
    walk.do("select_claim", "sun", {"selected": 0})
    assert walk.data()["claimant_leader"] == "zhou"


def test_claims_are_refused_once_the_window_closed(walk: Walk) -> None:
    walk.publish()
    walk.claim_individual("zhou")
    walk.close_claim_window()
    with pytest.raises(ConflictError):
        walk.claim_team()


def test_cancel_closes_tasks_jobs_and_subscriptions(walk: Walk) -> None:
    walk.publish()
    assert walk.engine.list_jobs(instance_id=walk.instance_id).total == 1
    with pytest.raises(NotAllowedError):
        walk.engine.cancel(walk.instance_id, actor="zhao", reason="越权")
    walk.engine.cancel(walk.instance_id, actor="wang", reason="上级统筹")
    inst = walk.instance()
    assert inst.status == "cancelled"
    assert walk.engine.list_jobs(instance_id=walk.instance_id).total == 0
    with pytest.raises(ConflictError):
        walk.claim_individual()
    assert walk.events()[-1] == "instance.cancel"


def test_the_path_taken_is_recorded_for_the_diagram(walk: Walk) -> None:
    walk.submit()
    walk.review("return", "补充材料")
    visited = set(walk.instance().visited_elements)
    assert {"submit_problem", "preliminary_review", "preliminary_decision"} <= visited
    assert "committee_approval" not in visited


def test_a_deployment_maps_lanes_to_its_own_groups(make_engine, clock) -> None:
    walk = Walk(lambda: make_engine(lane_groups={"TaskForce": "zhuanban"}), clock)
    walk.engine.upsert_user("ban", groups=["zhuanban"])
    walk.submit()
    review = walk.open_task("preliminary_review")
    assert review.candidate_groups == ["zhuanban"]
    assert walk.engine.get_definition("claim_evaluate").lanes["TaskForce"] == "group:zhuanban"
    walk.engine.complete(review.id, "ban", {"decision": "approve"})
    assert walk.open_elements() == ["committee_approval"]
