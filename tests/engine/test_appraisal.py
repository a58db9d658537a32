"""三好创争 in the engine: periods, schemes, panel scoring (trimmed, by group), rankings with the tie
rule, quotas, the publicity window with objections, the negative award and the archives."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import ConflictError, Engine, InvalidInputError, NotAllowedError, NotFoundError
from engine import organisation as org
from engine.appraisal import Period, awards
from engine.organisation import PostAssignment
from engine.tables import ScoreEntry
from tests.appraisal import (
    DEPUTIES,
    ORGANISER,
    SCORERS,
    SECRETARIES,
    district,
    score_towns,
    scores,
    town_panel,
)

YEAR_SHEETS = {  # five scorers each; the trimmed mean drops one highest and one lowest
    "baimi": [scores(b) for b in (90, 80, 85, 95, 60)],  # 85 (a plain mean would give 82)
    "luotang": [scores(88)] * 5,  # 88
    "dalun": [scores(b) for b in (70, 72, 74, 76, 99)],  # 74
    "yuxi": [scores(b) for b in (60, 65, 70, 75, 80)],  # 70
}


@pytest.fixture
def jiangyan(engine: Engine) -> Engine:
    district(engine)
    return engine


def closed_year(engine: Engine) -> int:
    panel = town_panel(engine)
    score_towns(engine, panel, YEAR_SHEETS)
    engine.close_panel(panel, ORGANISER)
    return panel


def test_periods_are_months_quarters_or_years_and_a_year_holds_its_quarters_and_months() -> None:
    assert str(Period.parse("2026-03")) == "2026-03"
    assert Period.parse("2026-Q2").spellings() == ["2026-Q2", "2026-04", "2026-05", "2026-06"]
    assert "2026-Q4" in Period.parse("2026").spellings() and "2026-12" in Period.parse("2026").spellings()
    assert str(Period.parse("2026-Q1").previous()) == "2025-Q4"
    assert str(Period.parse("2026-01").previous()) == "2025-12"
    for bad in ("2026-13", "2026-Q5", "26", "2026-3", "2026 Q1"):
        with pytest.raises(InvalidInputError) as refused:
            Period.parse(bad)
        assert "period" in refused.value.errors


def test_the_ledger_holds_units_and_people_by_year_and_the_claim_leaderboard_only_earned_points(
    jiangyan: Engine, clock
) -> None:
    with jiangyan.store.write() as s:  # a claim's points, written as the claim ledger always wrote them
        s.add(ScoreEntry(period="2026-03", username="xiao", points=12, instance_id="i1", reason="破题",
                         awarded_at=clock.now(), tenant="jiangyan"))  # fmt: skip
    closed_year(jiangyan)
    period, rows = jiangyan.scores("2026", viewer=ORGANISER)
    assert period == "2026"
    claim = [r for r in rows if r["scheme"] is None]
    assert claim == [
        {**claim[0], "subject_kind": "person", "subject": "xiao", "name": "肖书记", "points": 12}
    ]
    luotang = [r for r in rows if r["subject"] == "luotang"]
    assert {r["dimension"] for r in luotang} == {"leading", "cohesion", "fighting", "credibility", None}
    assert all(
        r["subject_kind"] == "unit" and r["name"] == "罗塘街道" and r["username"] is None for r in luotang
    )
    assert jiangyan.scores("2026-Q1", viewer=ORGANISER)[1] == claim  # the month is inside its quarter
    _, leaders, _ = jiangyan.leaderboard("2026", viewer=ORGANISER)
    assert [(r["username"], r["points"]) for r in leaders] == [("xiao", 12)]  # appraisal rows rank elsewhere


def test_a_scheme_is_checked_named_once_per_tenant_and_made_by_organisers_only(jiangyan: Engine) -> None:
    with pytest.raises(InvalidInputError) as refused:
        jiangyan.create_scheme(ORGANISER, {"name": "作风", "subject_kind": "team", "aggregation": "median",
                                           "dimensions": [{"key": "a", "name": "甲", "weight": 0, "min": 5, "max": 1}]})  # fmt: skip
    assert {"subject_kind", "aggregation", "dimensions.0"} <= set(refused.value.errors)
    body = {"name": "作风", "subject_kind": "person",
            "dimensions": [{"key": "style", "name": "作风", "weight": 1, "min": 0, "max": 10}]}  # fmt: skip
    with pytest.raises(NotAllowedError):
        jiangyan.create_scheme("xiao", body)
    with pytest.raises(InvalidInputError) as refused:
        jiangyan.create_scheme(
            ORGANISER, {**body, "campaign": 999}
        )  # stored per campaign: one of the county's
    assert "campaign" in refused.value.errors
    assert jiangyan.create_scheme(ORGANISER, body)["aggregation"] == "mean"
    with pytest.raises(ConflictError):
        jiangyan.create_scheme(ORGANISER, body)
    names = [d["name"] for d in jiangyan.list_schemes("xiao")]
    assert names == ["四强", "四高", "四优", "作风"]


def test_scores_out_of_scale_of_unknown_dimensions_by_outsiders_or_twice_are_refused(
    jiangyan: Engine,
) -> None:
    panel = town_panel(jiangyan)
    with pytest.raises(InvalidInputError) as refused:
        jiangyan.record_scores(panel, "ping1", "baimi", scores(80, leading=101, charm=5))
    assert set(refused.value.errors) == {"scores.leading", "scores.charm"}
    with pytest.raises(InvalidInputError) as refused:
        jiangyan.record_scores(panel, "ping1", "baimi", {"leading": 80})
    assert "scores.cohesion" in refused.value.errors  # every dimension is scored
    with pytest.raises(NotAllowedError):
        jiangyan.record_scores(panel, "dai", "baimi", scores(99))  # 白米's own secretary is not on the panel
    jiangyan.record_scores(panel, "ping1", "baimi", scores(80))
    with pytest.raises(ConflictError):
        jiangyan.record_scores(panel, "ping1", "baimi", scores(90))
    assert jiangyan.record_scores(panel, "ping1", "baimi", scores(90), replace=True).scores["leading"] == 90
    with pytest.raises(ConflictError):  # too few scores for a trimmed mean
        jiangyan.close_panel(panel, ORGANISER)


def test_the_trimmed_mean_drops_one_highest_and_one_lowest_score_and_ranks_every_town(
    jiangyan: Engine,
) -> None:
    panel = town_panel(jiangyan)
    score_towns(jiangyan, panel, YEAR_SHEETS)
    closed = jiangyan.close_panel(panel, ORGANISER)
    assert closed.results["baimi"] == {
        "leading": 85,
        "cohesion": 85,
        "fighting": 85,
        "credibility": 85,
        "total": 85,
    }
    with pytest.raises(ConflictError):
        jiangyan.record_scores(panel, "ping1", "baimi", scores(100), replace=True)  # closed
    scheme, period, rows = jiangyan.ranking("xiao", "四强", "2026")
    assert (scheme["name"], period) == ("四强", "2026")
    assert [(r.rank, r.name, r.total) for r in rows] == [
        (1, "罗塘街道", 88), (2, "白米镇", 85), (3, "大伦镇", 74), (4, "淤溪镇", 70)
    ]  # fmt: skip
    assert rows[0].dimensions == {"leading": 88, "cohesion": 88, "fighting": 88, "credibility": 88}
    assert jiangyan.ranking("xiao", "四强", "2026", subject_kind="person")[2] == []


def test_a_panel_weighted_by_scorer_group_weighs_each_group_s_mean(jiangyan: Engine) -> None:
    jiangyan.create_scheme(ORGANISER, {
        "name": "班副测评", "subject_kind": "person", "aggregation": "weighted",
        "group_weights": {"领导评议": 0.6, "群众评议": 0.4},
        "dimensions": [{"key": "overall", "name": "综合", "weight": 1, "min": 0, "max": 100}],
    })  # fmt: skip
    deputies = DEPUTIES["baimi"]
    with pytest.raises(InvalidInputError) as refused:
        jiangyan.open_panel(ORGANISER, {"scheme": "班副测评", "period": "2026-Q2", "subjects": deputies,
                                        "scorers": [{"username": "ping1", "group": "路人"}]})  # fmt: skip
    assert "scorers.0.group" in refused.value.errors
    panel = jiangyan.open_panel(ORGANISER, {
        "scheme": "班副测评", "period": "2026-Q2", "subjects": deputies,
        "scorers": [{"username": "ping1", "group": "领导评议"}, {"username": "ping2", "group": "领导评议"},
                    {"username": "ping3", "group": "群众评议"}],
    }).id  # fmt: skip
    for scorer, value in (("ping1", 90), ("ping2", 80), ("ping3", 60)):
        for deputy in deputies:
            jiangyan.record_scores(panel, scorer, deputy, {"overall": value})
    results = jiangyan.close_panel(panel, ORGANISER).results
    assert results[deputies[0]]["total"] == 75  # 0.6 × 85 + 0.4 × 60, where a plain mean gives 76.67
    assert [r.rank for r in jiangyan.ranking(ORGANISER, "班副测评", "2026-Q2")[2]] == [1, 1]


def test_equal_totals_are_ordered_by_the_heaviest_dimension_and_a_tie_on_everything_at_the_quota_is_refused(
    jiangyan: Engine,
) -> None:
    panel = town_panel(jiangyan, period="2026-Q1", scorers=SCORERS[:3])
    score_towns(jiangyan, panel, {
        "baimi": [scores(80, leading=85, credibility=72.5)] * 3,  # 80 in total, more 引领力
        "luotang": [scores(80)] * 3,  # 80
        "dalun": [scores(80)] * 3,  # 80, equal to 罗塘 on everything
        "yuxi": [scores(60)] * 3,
    })  # fmt: skip
    jiangyan.close_panel(panel, ORGANISER)
    rows = jiangyan.ranking(ORGANISER, "四强", "2026-Q1")[2]
    assert [(r.subject, r.rank, r.total) for r in rows] == [
        ("baimi", 1, 80), ("dalun", 2, 80), ("luotang", 2, 80), ("yuxi", 4, 60)
    ]  # fmt: skip
    with pytest.raises(ConflictError, match="tie"):
        jiangyan.propose_awards(ORGANISER, {"scheme": "四强", "period": "2026-Q1", "quota": 2})
    with pytest.raises(ConflictError, match="quota exceeded"):
        jiangyan.propose_awards(ORGANISER, {"scheme": "四强", "period": "2026-Q1", "quota": 5})  # 4 好班子
    proposed = jiangyan.propose_awards(ORGANISER, {"scheme": "四强", "period": "2026-Q1", "quota": 3})
    assert [e["name"] for e in proposed.entries] == ["白米镇", "大伦镇", "罗塘街道"]
    assert [e["name"] for e in proposed.reserve] == ["淤溪镇"]


def test_an_upheld_objection_during_publicity_moves_the_next_in_rank_up_and_late_ones_are_refused(
    jiangyan: Engine, clock
) -> None:
    closed_year(jiangyan)
    with pytest.raises(NotAllowedError):
        jiangyan.propose_awards("xiao", {"scheme": "四强", "period": "2026", "quota": 2})
    proposed = jiangyan.propose_awards(ORGANISER, {"scheme": "四强", "period": "2026", "quota": 2})
    assert (proposed.kind, [e["subject"] for e in proposed.entries]) == ("好班子", ["luotang", "baimi"])
    assert proposed.open_for_objections and proposed.window_ends.isoformat() == "2026-03-09T16:00:00+00:00"
    with pytest.raises(ConflictError):  # one list per kind and period
        jiangyan.propose_awards(ORGANISER, {"scheme": "四强", "period": "2026", "quota": 2})
    with pytest.raises(InvalidInputError):
        jiangyan.file_objection(proposed.id, "dl_fu", "yuxi", "不在名单上")
    clock.advance(days=7)  # Monday 3/9, 09:00 local: the fifth working day
    objection = jiangyan.file_objection(
        proposed.id, "dl_fu", "baimi", "白米镇年内发生安全生产事故，不宜评为好班子"
    )
    assert (objection.name, objection.status) == ("白米镇", "open")
    clock.advance(days=1)  # the window is over
    with pytest.raises(ConflictError, match="window"):
        jiangyan.file_objection(proposed.id, "yx_fu", "luotang", "迟到的异议")
    with pytest.raises(ConflictError, match="objection"):
        jiangyan.finalise_awards(proposed.id, ORGANISER)  # one objection waits
    with pytest.raises(NotAllowedError):
        jiangyan.handle_objection(proposed.id, objection.id, "xiao", "upheld")
    handled = jiangyan.handle_objection(proposed.id, objection.id, ORGANISER, "upheld", "经核实，异议成立")
    assert [e["name"] for e in handled.entries] == ["罗塘街道", "大伦镇"] and handled.reserve[0][
        "name"
    ] == "淤溪镇"
    final = jiangyan.finalise_awards(proposed.id, ORGANISER)
    assert final.status == "final"
    given = jiangyan.awards("yx_fu", period="2026", kind="好班子")
    assert [(a.name, a.rank) for a in given] == [("罗塘街道", 1), ("大伦镇", 3)]
    assert "第3名" in given[1].reason
    ranked = jiangyan.ranking("xiao", "四强", "2026")[2]
    assert {r.name: r.awards for r in ranked}["大伦镇"] == ["好班子"] and ranked[1].awards == []


def test_finalising_during_the_window_is_refused(jiangyan: Engine, clock) -> None:
    closed_year(jiangyan)
    proposed = jiangyan.propose_awards(ORGANISER, {"scheme": "四强", "period": "2026", "quota": 4, "days": 1})
    with pytest.raises(ConflictError, match="still open"):
        jiangyan.finalise_awards(proposed.id, ORGANISER)
    clock.advance(days=2)  # Tuesday is the one working day
    assert len(jiangyan.finalise_awards(proposed.id, ORGANISER).entries) == 4


def test_the_negative_award_is_nominated_with_a_reason_and_reaches_the_person_s_archive(
    jiangyan: Engine, clock
) -> None:
    nominee = DEPUTIES["yuxi"][2]
    with pytest.raises(InvalidInputError) as refused:
        jiangyan.propose_awards(ORGANISER, {"kind": "躺平奖", "period": "2026", "subject_kind": "person",
                                            "entries": [{"subject": nominee, "reason": " "}]})  # fmt: skip
    assert "entries.0.reason" in refused.value.errors
    with pytest.raises(InvalidInputError):
        jiangyan.propose_awards(ORGANISER, {"kind": "躺平奖", "period": "2026", "subject_kind": "person",
                                            "entries": [{"subject": "nobody", "reason": "不作为"}]})  # fmt: skip
    listed = jiangyan.propose_awards(ORGANISER, {
        "kind": "躺平奖", "period": "2026", "subject_kind": "person",
        "entries": [{"subject": nominee, "reason": "招商项目长期无进展，群众反映办事拖沓"}],
    })  # fmt: skip
    clock.advance(days=10)
    jiangyan.finalise_awards(listed.id, ORGANISER)
    [line] = [e for e in jiangyan.person_archive(nominee, ORGANISER) if e.kind == "award"]
    assert (line.title, line.detail) == ("躺平奖", "招商项目长期无进展，群众反映办事拖沓")


def test_a_unit_s_archive_shows_its_rankings_and_awards_to_its_leaders_and_organisers_only(
    jiangyan: Engine, clock
) -> None:
    closed_year(jiangyan)
    listed = jiangyan.propose_awards(ORGANISER, {"scheme": "四强", "period": "2026", "quota": 1})
    clock.advance(days=10)
    jiangyan.finalise_awards(listed.id, ORGANISER)
    name, lines = jiangyan.unit_archive("luotang", "xiao")  # 罗塘's own secretary
    assert name == "罗塘街道"
    assert [(e.kind, e.title) for e in lines] == [("ranking", "好班子“四强”标准"), ("award", "好班子")]
    assert "第1名（共4名），总分88" in lines[0].detail and "第1名" in lines[1].detail
    assert jiangyan.unit_archive("luotang", ORGANISER)[1] == lines
    for outsider in ("lt_zhen", "xue"):  # a deputy; another town's secretary
        with pytest.raises(NotAllowedError):
            jiangyan.unit_archive("luotang", outsider)
    now = clock.now()
    with jiangyan.store.write() as s:
        org.upsert_unit(s, "xinghua", name="兴化市", kind="county", parent=None, attributes=None, now=now)
    jiangyan.upsert_user("stranger", display_name="外县干部")
    with jiangyan.store.write() as s:
        org.set_posts(s, "stranger", [PostAssignment("xinghua", "书记", "科级")])
    with pytest.raises(NotFoundError):
        jiangyan.unit_archive("luotang", "stranger")
    assert jiangyan.awards("stranger", period="2026") == []
    with pytest.raises(NotFoundError):
        jiangyan.award_list(listed.id, "stranger")


def test_a_scheme_may_combine_its_dimensions_by_a_dmn_decision_deployed_with_a_process(
    jiangyan: Engine,
) -> None:
    data = Path(__file__).resolve().parent.parent / "data"
    body = {
        "name": "班子总分", "subject_kind": "unit", "rule": "dmn", "decision": "sanhao_total",
        "process_key": "sanhao_total", "aggregation": "mean",
        "dimensions": [{"key": k, "name": n, "weight": 1, "min": 0, "max": 100}
                       for k, n in (("leading", "引领力"), ("cohesion", "凝聚力"), ("credibility", "公信力"))],
    }  # fmt: skip
    with pytest.raises(InvalidInputError) as refused:
        jiangyan.create_scheme(ORGANISER, body)  # nothing deployed yet
    assert "process_key" in refused.value.errors
    jiangyan.deploy(
        {f"sanhao_total.{ext}": (data / f"sanhao_total.{ext}").read_bytes() for ext in ("bpmn", "dmn")}
    )
    with pytest.raises(InvalidInputError) as refused:
        jiangyan.create_scheme(ORGANISER, {**body, "decision": "no_such"})
    assert "decision" in refused.value.errors
    jiangyan.create_scheme(ORGANISER, body)
    panel = jiangyan.open_panel(ORGANISER, {"scheme": "班子总分", "period": "2026-Q3", "subjects": ["baimi", "yuxi"],
                                            "scorers": SCORERS[:2]}).id  # fmt: skip
    for scorer in SCORERS[:2]:
        jiangyan.record_scores(panel, scorer, "baimi", {"leading": 90, "cohesion": 70, "credibility": 80})
        jiangyan.record_scores(panel, scorer, "yuxi", {"leading": 95, "cohesion": 95, "credibility": 50})
    results = jiangyan.close_panel(panel, ORGANISER).results
    assert (results["baimi"]["total"], results["yuxi"]["total"]) == (80, 0)  # 公信力 below 60 vetoes


def test_a_diagram_s_reaction_runs_the_selection_in_its_own_step_whoever_completed_the_task(
    jiangyan: Engine, clock
) -> None:
    closed_year(jiangyan)
    body = {"scheme": "四强", "period": "2026", "quota": 2}
    with pytest.raises(NotAllowedError), jiangyan.steps.write("xiao") as step:
        awards.propose(step, body)  # called for 肖书记 himself, the rulebook says no
    with jiangyan.steps.write("xiao") as step:  # the step of a task 肖书记 completed, as a reaction sees it
        list_id = awards.propose(step, body, trusted=True).id
    clock.advance(days=10)
    with jiangyan.steps.write("xiao") as step:
        awards.finalise(step, list_id, trusted=True)
    assert [a.name for a in jiangyan.awards("xiao", "2026")] == ["罗塘街道", "白米镇"]


def test_an_existing_ledger_becomes_people_s_rows_when_the_schema_upgrades(database_url: str, clock) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    import engine as engine_package

    before = Engine(database_url, clock=clock, deploy_shipped=False)
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(Path(engine_package.__file__).resolve().parent.parent / "migrations")
    )
    with before.store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "f7c1a9e3b5d2")  # the ledger as it was: usernames and months only
        conn.execute(text("INSERT INTO score_entry (period, username, points, instance_id, reason, awarded_at) "
                          "VALUES ('2026-03', 'zhang', 12, 'i1', '破题', :at)"), {"at": clock.now()})  # fmt: skip
    before.store.dispose()
    upgraded = Engine(database_url, clock=clock, deploy_shipped=False)
    _, [row] = upgraded.scores("2026")
    assert (row["subject_kind"], row["subject"], row["dimension"], row["points"]) == (
        "person",
        "zhang",
        None,
        12,
    )
    assert upgraded.leaderboard("2026-03")[1][0]["username"] == "zhang"
    upgraded.store.dispose()


def test_secretaries_are_ranked_on_the_four_highs_and_the_place_enters_each_one_s_archive(
    jiangyan: Engine,
) -> None:
    secretaries = list(SECRETARIES.values())  # 戴, 肖, 薛, 滕
    panel = jiangyan.open_panel(ORGANISER, {"scheme": "四高", "period": "2026", "subjects": secretaries,
                                            "scorers": SCORERS}).id  # fmt: skip
    sheet = {"political": 0, "command": 0, "duty": 0, "development": 0}
    for i, secretary in enumerate(secretaries):
        for scorer in SCORERS:
            jiangyan.record_scores(panel, scorer, secretary, {k: 70 + 5 * i for k in sheet})
    jiangyan.close_panel(panel, ORGANISER)
    rows = jiangyan.ranking(ORGANISER, "四高", "2026")[2]
    assert [(r.name, r.subject_kind, r.total) for r in rows] == [
        ("滕智东", "person", 85), ("薛勇明", "person", 80), ("肖书记", "person", 75), ("戴书记", "person", 70)
    ]  # fmt: skip
    [line] = [e for e in jiangyan.person_archive("xue", ORGANISER) if e.kind == "ranking"]
    assert (line.title, line.points) == ("好班长“四高”标准", 80) and "第2名（共4名）" in line.detail
    assert (
        jiangyan.unit_archive("dalun", "xue")[1] == []
    )  # the town's own archive holds the team's results only
