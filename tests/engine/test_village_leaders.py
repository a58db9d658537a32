"""总队长制: one leader per village, appointed by the county's rule, confirmed by the committee,
with a numbered letter archived; a change of leader is audited and the village's work follows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import ConflictError, Engine, InvalidInputError
from engine.tables import UserPost
from tests.villages import county


@pytest.fixture
def engine(make_engine) -> Engine:
    built = make_engine()
    built.deploy_shipped()
    county(built)
    return built


def appoint(engine: Engine, village: str, leader: str) -> str:
    """Propose and confirm; returns the proposal's instance id."""
    proposal = engine.propose_village_leader("organiser", village, leader, "县委常委会研究决定")
    confirm = next(t for t in proposal.open_tasks if t.element_id == "confirm")
    engine.complete(confirm.id, "changwei", {"decision": "confirm"})
    return proposal.id


def test_the_rule_gives_deep_poverty_villages_to_top_leaders_and_the_rest_to_others(engine: Engine) -> None:
    appoint(engine, "jinshahe", "zheng")  # 县委书记 → 深度贫困村
    appoint(engine, "yanjiatai", "wang_cw")  # 县委常委 → 深度贫困村
    appoint(engine, "baihaohe", "li_xz")
    appoint(engine, "shahe", "yuan")  # 部门主要负责人 → 一般贫困村
    appoint(engine, "qiaozi", "hu")  # 镇主要负责人 → 非贫困村
    appoint(engine, "xihe", "xu")  # 县级领导 → 一般贫困村

    board = {row.village: row for row in engine.village_board("organiser")}
    assert len(board) == 12
    assert {v: (r.leader_name, r.village_class) for v, r in board.items() if r.leader} == {
        "jinshahe": ("郑小东", "深度贫困村"),
        "yanjiatai": ("王光满", "深度贫困村"),
        "baihaohe": ("李县长", "深度贫困村"),
        "shahe": ("袁守波", "一般贫困村"),
        "qiaozi": ("胡德乾", "非贫困村"),
        "xihe": ("徐副县长", "一般贫困村"),
    }
    assert board["jinshahe"].town_name == "长安镇"
    assert (board["jinshahe"].letter_no, board["xihe"].letter_no) == (
        "总队长任〔2026〕1号",
        "总队长任〔2026〕6号",
    )


@pytest.mark.parametrize(
    ("village", "leader", "why"),
    [
        ("jinshahe", "yuan", "深度贫困村须由四大班子主要领导或县委常委担任总队长"),  # a department head
        ("shahe", "zheng", "四大班子主要领导和县委常委担任深度贫困村总队长"),  # a top leader elsewhere
        ("sanhe", "clerk", "一般贫困村和非贫困村由其他县级领导"),  # no rank the rule knows
    ],
)
def test_the_rule_refuses_a_leader_of_the_wrong_rank(
    engine: Engine, village: str, leader: str, why: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        engine.propose_village_leader("organiser", village, leader)
    assert why in str(refused.value.errors["leader"])
    assert engine.village_board("organiser")[0].pending_instance is None  # nothing left behind


def test_one_leader_per_village_and_one_village_per_leader(engine: Engine) -> None:
    appoint(engine, "shahe", "yuan")
    with pytest.raises(ConflictError, match="一人一村"):
        engine.propose_village_leader("organiser", "baiguoping", "yuan")  # 袁守波 leads 沙河村 already
    engine.propose_village_leader("organiser", "sanhe", "he")
    with pytest.raises(ConflictError, match="已有待审定"):
        engine.propose_village_leader("organiser", "sanhe", "hu")  # one proposal at a time
    with pytest.raises(ConflictError, match="一人一村"):
        engine.propose_village_leader("organiser", "xihe", "he")  # proposed for 三合村 already
    with pytest.raises(ConflictError, match="已是该村总队长"):
        engine.propose_village_leader("organiser", "shahe", "yuan")


def test_only_an_admin_above_the_village_proposes(engine: Engine) -> None:
    from engine import NotAllowedError

    with pytest.raises(NotAllowedError):
        engine.propose_village_leader("clerk", "shahe", "yuan")


def test_the_caller_cannot_claim_a_class_or_rank_the_organisation_does_not_give(engine: Engine) -> None:
    with pytest.raises(InvalidInputError, match="leader_rank"):
        engine.start(
            "village_appointment",
            actor="organiser",
            data={
                "unit": "jinshahe",
                "village": "jinshahe",
                "village_name": "金沙河村",
                "village_class": "深度贫困村",
                "leader": "yuan",
                "leader_name": "袁守波",
                "leader_rank": "县委常委",  # 袁守波 is a department head
                "previous_leader": None,
            },
        )


def test_a_rejected_proposal_appoints_nobody(engine: Engine) -> None:
    proposal = engine.propose_village_leader("organiser", "shahe", "yuan")
    engine.complete(proposal.open_tasks[0].id, "changwei", {"decision": "reject", "comment": "另行研究"})
    assert all(r.leader is None and r.pending_instance is None for r in engine.village_board("organiser"))
    appoint(engine, "baiguoping", "yuan")  # the load counts appointments, not refusals


def test_a_change_of_leader_is_audited_archived_and_moves_the_post(engine: Engine) -> None:
    appoint(engine, "shahe", "yuan")
    appoint(engine, "shahe", "he")  # 何德渔 takes over

    history = engine.village_leader_history("shahe", "organiser")
    assert [(a.leader_name, a.current) for a in history] == [("何德渔", True), ("袁守波", False)]
    assert history[1].ended_reason == "由何德渔接任"
    letter = engine.appointment_letter(history[0].id, "organiser").letter
    assert letter["village_name"] == "沙河村" and letter["town"] == "长安镇" and letter["county"] == "平利县"
    assert letter["previous_leader_name"] == "袁守波"
    with engine.store.read() as s:
        holders = s.scalars(select(UserPost.username).where(UserPost.post == "总队长")).all()
    assert holders == ["he"]
    events = [e.event for e in engine.history(history[0].instance_id)]
    assert "village.leader_appointed" in events and "village.leader_replaced" in events
    appoint(engine, "baiguoping", "yuan")  # 袁守波 is free again


def test_another_county_sees_none_of_it(engine: Engine) -> None:
    from engine import NotFoundError

    appoint(engine, "shahe", "yuan")
    now = engine.clock.now()
    from engine import organisation as org

    with engine.store.write() as s:
        org.upsert_unit(s, "ziyang", name="紫阳县", kind="county", parent=None, attributes=None, now=now)
    engine.upsert_user("zy_admin", display_name="紫阳管理员", roles=["admin"])
    with engine.store.write() as s:
        org.set_posts(s, "zy_admin", [org.PostAssignment("ziyang", "组织部部长", None)])
    assert engine.village_board("zy_admin") == []
    appointment = engine.village_board("organiser")
    first = next(r for r in appointment if r.appointment_id)
    with pytest.raises(NotFoundError):
        engine.appointment_letter(first.appointment_id or 0, "zy_admin")
    with pytest.raises(NotFoundError):  # another county's village is unknown
        engine.propose_village_leader("zy_admin", "sanhe", "he")
