"""The shipped 三好创争 process (sanhao): 姜堰's three towns run a year with the injected clock,
from the plan through twelve months of supervision and four KPI point-checks to panel scoring,
the county-wide ranking within quotas, publicity with objections, and the 躺平奖."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine import ConflictError, Engine, FormInvalidError, InvalidInputError, NotAllowedError
from engine.runtime.clock import ManualClock
from engine.sanhao import scoring
from tests.sanhao import (
    GUIDE,
    ORGANISER,
    PANEL,
    QUOTAS,
    TARGETS,
    TOWNS,
    YEAR,
    green,
    jiangyan,
    kpi_form,
    month_opens,
    sheet,
    start_town,
    study,
    talk,
    task_of,
)


@pytest.fixture
def county(engine: Engine, clock: ManualClock) -> Engine:
    clock.set(month_opens(1) - timedelta(days=12))  # mid-December: the organiser opens next year
    jiangyan(engine)
    return engine


def plan(engine: Engine, instance_id: str, secretary: str) -> None:
    engine.complete(
        task_of(engine, instance_id, "file_plan").id,
        secretary,
        {
            "guide_items": GUIDE,
            "own_items": ["打造年轻干部雁阵队伍"],
            "plan_summary": "班长带头、班副出力、班子团结。",
            "targets": TARGETS,
        },
    )


def supervise_the_year(engine: Engine, clock: ManualClock, towns: dict[str, str]) -> list[str]:
    """Twelve months of 中心组月学, 党委会月督 and 书记谈 in every town, a KPI point-check at each
    quarter's end; returns the description 白米镇's committee saw after each point-check."""
    seen = []
    for month in range(1, 13):
        clock.set(month_opens(month) + timedelta(hours=2))
        engine.run_due_jobs()
        for town, instance_id in towns.items():
            _, secretary, deputies, _ = TOWNS[town]
            if month % 3 == 0:
                engine.complete(
                    task_of(engine, instance_id, "kpi_check").id,
                    secretary,
                    kpi_form(month // 3, 0.2 * month / 3),
                )
            engine.complete(task_of(engine, instance_id, "study_record").id, secretary, study(month))
            review = task_of(engine, instance_id, "committee_review")
            if month % 3 == 0 and town == "baimi":
                seen.append(engine.get_task(review.id, secretary).form["description"])
            rating = (
                {
                    "rating": "yellow",
                    "review_summary": "招商进度滞后。",
                    "actions": [
                        {"action": "加快签约落地", "owner": "xu_bm", "due": f"{YEAR}-{month:02d}-28"}
                    ],
                }
                if (town, month) == ("dalun", 5)
                else green()
            )
            engine.complete(review.id, secretary, rating)
            engine.complete(
                task_of(engine, instance_id, "secretary_interview").id,
                secretary,
                talk(deputies[month % 2][0]),
            )
    return seen


#: Each panel member's scores per town: (班子, 班长, {班副: score}); 白米镇's 班子 gets 10, 5 and 7,
#: so the trimmed mean is 7 where the plain mean would be 7.33.
SCORES = {
    "baimi": [
        (10, 9, {"xu_bm": 9, "zhu_bm": 8}),
        (5, 9, {"xu_bm": 9, "zhu_bm": 8}),
        (7, 9, {"xu_bm": 9, "zhu_bm": 8}),
    ],
    "luotang": [(8, 8.5, {"wu_lt": 9.5, "qin_lt": 7})] * 3,
    "dalun": [(6, 7, {"he_dl": 6, "ma_dl": 8.5})] * 3,
}


def score(engine: Engine, instance_id: str, town: str) -> None:
    for member, (banzi, banzhang, banfu) in zip(PANEL, SCORES[town], strict=True):
        [task] = [t for t in engine.get_instance(instance_id).open_tasks if t.assignee == member]
        engine.complete(task.id, member, sheet(banzi, banzhang, banfu))


def awards_of(engine: Engine, instance_id: str) -> list[tuple[str, str]]:
    return [(a["kind"], a["subject"]) for a in engine.get_instance(instance_id).data["awards"]]


def test_a_year_of_sanhao_in_three_towns_ends_in_awards_after_publicity(
    county: Engine, clock: ManualClock
) -> None:
    towns = {town: start_town(county, town) for town in TOWNS}
    subject = county.get_instance(towns["baimi"]).data["subject"]
    assert subject["leader"] == {"username": "teng", "name": "白米镇书记"}  # from the town's posts
    assert [d["username"] for d in subject["deputies"]] == ["xu_bm", "zhu_bm"]  # the clerk is no 班副
    assert task_of(county, towns["baimi"], "file_plan").assignee == "teng"  # the town's 书记
    for town, instance_id in towns.items():
        plan(county, instance_id, TOWNS[town][1])
    assert county.get_instance(towns["baimi"]).open_tasks == []  # January has not begun

    seen = supervise_the_year(county, clock, towns)

    data = county.get_instance(towns["baimi"]).data
    assert [r["month"] for r in data["monthly_records"]] == [f"{YEAR}-{m:02d}" for m in range(1, 13)]
    assert [t.element_id for t in county.get_instance(towns["baimi"]).open_tasks] == ["self_report"]
    assert [c["quarter"] for c in data["kpi_checks"]] == [f"{YEAR}-Q{q}" for q in range(1, 5)]
    q2 = data["kpi_checks"][1]["items"]["foreign_capital"]
    assert q2 == {"target": 2500.0, "actual": 2000, "annual_plan": 5000, "progress": 40.0, "on_target": False}
    assert "2027-Q2点调：外资利用完成年度计划40.0%" in seen[1]  # the committee's form shows it
    dalun = county.get_instance(towns["dalun"]).data
    assert dalun["rating_counts"] == {"red": 0, "yellow": 1, "green": 11}
    assert dalun["monthly_records"][4]["review"]["actions"][0]["owner"] == "xu_bm"

    for town, instance_id in towns.items():
        county.complete(
            task_of(county, instance_id, "self_report").id, TOWNS[town][1], {"report": "全年实绩突出。"}
        )
    assert sorted(t.assignee for t in county.get_instance(towns["baimi"]).open_tasks) == PANEL  # 会签
    score(county, towns["baimi"], "baimi")
    score(county, towns["luotang"], "luotang")
    assert county.get_instance(towns["baimi"]).data["phase"] == "ranking"  # waits for 大伦镇
    score(county, towns["dalun"], "dalun")

    data = county.get_instance(towns["baimi"]).data
    banzi = {e["subject"]: e for e in data["ranking"] if e["kind"] == "好班子"}
    assert banzi["baimi"]["dimensions"]["leading"] == 7.0  # 10 and 5 dropped
    assert [(e["subject"], e["rank"]) for e in data["ranking"] if e["kind"] == "好班子"] == [
        ("luotang", 1),
        ("baimi", 2),
        ("dalun", 3),
    ]
    banfu = [(e["subject"], e["rank"]) for e in data["ranking"] if e["kind"] == "好班副"]
    assert banfu[:3] == [("wu_lt", 1), ("xu_bm", 2), ("ma_dl", 3)]
    # the quotas (1 班子, 1 班长, 2 班副) propose the first of each kind, town by town
    assert awards_of(county, towns["baimi"]) == [("好班长", "teng"), ("好班副", "xu_bm")]
    assert awards_of(county, towns["luotang"]) == [("好班子", "luotang"), ("好班副", "wu_lt")]
    assert awards_of(county, towns["dalun"]) == []

    for instance_id in towns.values():
        proposed = county.get_instance(instance_id).data["awards"]
        county.complete(task_of(county, instance_id, "confirm_awards").id, ORGANISER, {"awards": proposed})
    data = county.get_instance(towns["luotang"]).data
    assert data["phase"] == "publicity"
    assert data["objections_until"] == "2027-12-07T18:00:00+00:00"  # 5 working days (Beijing) later
    assert data["awards"][0]["name"] == "罗塘街道班子" and data["awards"][0]["subject_kind"] == "unit"

    county.file_sanhao_objection(towns["luotang"], "clerk_lt", {"against": "wu_lt", "reason": "招商数据不实"})
    with pytest.raises(ConflictError):  # one objection at a time
        county.file_sanhao_objection(towns["luotang"], "clerk_lt", {"against": "luotang", "reason": "又一条"})
    county.complete(
        task_of(county, towns["luotang"], "handle_objection").id,
        ORGANISER,
        {"decision": "uphold", "response": "经核查，数据不实。", "withdraw": "wu_lt"},
    )
    assert awards_of(county, towns["luotang"]) == [("好班子", "luotang")]  # the outcome changed
    county.file_sanhao_objection(towns["baimi"], "clerk_bm", {"against": "teng", "reason": "群众有意见"})
    county.complete(
        task_of(county, towns["baimi"], "handle_objection").id,
        ORGANISER,
        {"decision": "dismiss", "response": "经核查，反映不属实。"},
    )
    assert awards_of(county, towns["baimi"]) == [("好班长", "teng"), ("好班副", "xu_bm")]

    clock.advance(days=8)  # the window is over, but its timer has not run yet
    with pytest.raises(ConflictError, match="publicity window closed"):
        county.file_sanhao_objection(towns["baimi"], "clerk_bm", {"against": "xu_bm", "reason": "迟到的异议"})
    county.run_due_jobs()
    for instance_id in towns.values():
        record = county.get_instance(instance_id)
        assert (record.status, record.data["phase"]) == ("completed", "awarded")
    final = county.get_instance(towns["baimi"]).data["awards"]
    assert all(a["final"] and a["period"] == "2027" for a in final)
    assert [o["decision"] for o in county.get_instance(towns["luotang"]).data["objections"]] == ["uphold"]

    # the outcome is in the appraisal records: awards, the rankings and the archives
    given = {(a.kind, a.subject) for a in county.awards(ORGANISER, "2027")}
    expected = {
        (a["kind"], a["subject"]) for i in towns.values() for a in county.get_instance(i).data["awards"]
    }
    assert given == expected and ("好班长", "wu_lt") not in given  # the upheld objection holds
    _scheme, _period, ranked = county.ranking(ORGANISER, "四强", "2027")
    assert {r.subject for r in ranked} == set(towns)
    assert all(set(r.dimensions) == {"leading", "cohesion", "fighting", "credibility"} for r in ranked)
    _name, archive = county.unit_archive("luotang", ORGANISER)
    assert [e.title for e in archive if e.kind == "award"] == ["好班子"]


def test_the_lying_flat_award_is_nominated_any_time_and_reviewed_by_the_committee(
    county: Engine, clock: ManualClock
) -> None:
    instance_id = start_town(county, "dalun")
    plan(county, instance_id, "xue")
    with pytest.raises(InvalidInputError):  # not a cadre of 大伦镇
        county.nominate_lying_flat(instance_id, ORGANISER, {"nominee": "clerk_bm", "reason": "不作为"})
    county.nominate_lying_flat(instance_id, ORGANISER, {"nominee": "clerk_dl", "reason": "群众反映办事拖沓"})
    review = task_of(county, instance_id, "review_nomination")
    assert review.assignee == "xue"  # the town's committee, led by its 书记
    with pytest.raises(NotAllowedError):
        county.complete(review.id, "he_dl", {"decision": "approve", "comment": "属实"})
    county.complete(review.id, "xue", {"decision": "approve", "comment": "经党委会审议，情况属实。"})
    county.nominate_lying_flat(instance_id, ORGANISER, {"nominee": "ma_dl", "reason": "慢作为"})
    county.complete(
        task_of(county, instance_id, "review_nomination").id,
        "xue",
        {"decision": "reject", "comment": "不属实。"},
    )
    clock.set(month_opens(1) + timedelta(hours=1))
    county.run_due_jobs()  # the year goes on, and keeps what the committee decided
    data = county.get_instance(instance_id).data
    assert [(a["kind"], a["subject"], a["reason"]) for a in data["negative_awards"]] == [
        ("躺平奖", "clerk_dl", "群众反映办事拖沓")
    ]
    assert [n["decision"] for n in data["nominations"]] == ["approve", "reject"]
    assert [t.element_id for t in county.get_instance(instance_id).open_tasks] == ["study_record"]


def test_the_start_is_the_organisers_and_takes_the_town_s_posts(county: Engine) -> None:
    with pytest.raises(NotAllowedError):  # a town's 书记 does not start the competition
        county.start(
            "sanhao", actor="teng", data={"year": YEAR, "unit": "baimi", "panel": PANEL, "quotas": QUOTAS}
        )
    with pytest.raises(InvalidInputError):  # the department is no town
        start_town(county, "baimi", unit="zzb")
    start_town(county, "baimi")
    with pytest.raises(ConflictError):  # one instance per town and year
        start_town(county, "baimi")
    with pytest.raises(InvalidInputError):  # the year's quotas are one set
        start_town(county, "luotang", quotas={**QUOTAS, "banfu": 5})
    with pytest.raises(InvalidInputError):  # the panel are people of the county
        start_town(county, "luotang", panel=["nobody"])
    with pytest.raises(InvalidInputError):
        start_town(county, "luotang", year="2027年")
    with pytest.raises(InvalidInputError):  # the engine's own messages are not raw messages
        county.send_message("sanhao_tangping", actor=ORGANISER, payload={"nominee": "teng"}, business_key="x")


def test_year_end_refusals(county: Engine, clock: ManualClock) -> None:
    """Out-of-scale scores, a sheet missing a 班副, a stranger's sheet, a red month without
    actions, a wrong person's plan and awards beyond the quota are refused and change nothing."""
    towns = {town: start_town(county, town) for town in ("baimi", "luotang")}
    with pytest.raises(NotAllowedError):  # the plan is the 书记's
        county.complete(task_of(county, towns["baimi"], "file_plan").id, "xu_bm", {})
    for town, instance_id in towns.items():
        plan(county, instance_id, TOWNS[town][1])
    clock.set(month_opens(1) + timedelta(hours=1))
    county.run_due_jobs()
    county.complete(task_of(county, towns["baimi"], "study_record").id, "teng", study(1))
    with pytest.raises(FormInvalidError) as refused:  # red needs corrective actions
        county.complete(
            task_of(county, towns["baimi"], "committee_review").id,
            "teng",
            {"rating": "red", "review_summary": "严重滞后。", "actions": []},
        )
    assert "actions" in refused.value.errors
    county.complete(task_of(county, towns["baimi"], "committee_review").id, "teng", green())
    with pytest.raises(FormInvalidError):  # the interviewee is one of the town's 班副
        county.complete(task_of(county, towns["baimi"], "secretary_interview").id, "teng", talk("wu_lt"))

    _skip_to_scoring(county, clock, towns)
    [first] = [t for t in county.get_instance(towns["baimi"]).open_tasks if t.assignee == "ping1"]
    with pytest.raises(FormInvalidError):  # 11 is off the 0–10 scale
        county.complete(first.id, "ping1", sheet(11, 9, {"xu_bm": 9, "zhu_bm": 8}))
    with pytest.raises(FormInvalidError) as refused:  # every 班副 is scored
        county.complete(first.id, "ping1", sheet(9, 9, {"xu_bm": 9}))
    assert "banfu" in refused.value.errors
    with pytest.raises(NotAllowedError):  # another member's sheet
        county.complete(first.id, "ping2", sheet(9, 9, {"xu_bm": 9, "zhu_bm": 8}))
    score(county, towns["baimi"], "baimi")
    score(county, towns["luotang"], "luotang")

    luotang = county.get_instance(towns["luotang"]).data["awards"]
    county.complete(task_of(county, towns["luotang"], "confirm_awards").id, ORGANISER, {"awards": luotang})
    confirm = task_of(county, towns["baimi"], "confirm_awards")
    one_more = [{"kind": "好班子", "subject": "baimi"}]  # 罗塘街道 holds the one 好班子
    with pytest.raises(FormInvalidError) as refused:
        county.complete(confirm.id, ORGANISER, {"awards": one_more})
    assert any("quota" in m for m in refused.value.errors["awards"])
    with pytest.raises(FormInvalidError):  # not this town's 班副
        county.complete(confirm.id, ORGANISER, {"awards": [{"kind": "好班副", "subject": "wu_lt"}]})
    county.complete(confirm.id, ORGANISER, {"awards": [{"kind": "好班长", "subject": "teng"}]})
    with pytest.raises(InvalidInputError):  # only a proposed award can be objected to
        county.file_sanhao_objection(towns["baimi"], "clerk_bm", {"against": "xu_bm", "reason": "x"})


def _skip_to_scoring(engine: Engine, clock: ManualClock, towns: dict[str, str]) -> None:
    """The rest of the year in both towns, as quickly as the diagram allows."""
    for month in range(1, 13):
        clock.set(month_opens(month) + timedelta(hours=2))
        engine.run_due_jobs()
        for town, instance_id in towns.items():
            secretary, deputy = TOWNS[town][1], TOWNS[town][2][0][0]
            open_now = {t.element_id for t in engine.get_instance(instance_id).open_tasks}
            if "kpi_check" in open_now:
                engine.complete(
                    task_of(engine, instance_id, "kpi_check").id, secretary, kpi_form(month // 3, 0.25)
                )
            steps: list[tuple[str, dict[str, Any]]] = [
                ("study_record", study(month)),
                ("committee_review", green()),
                ("secretary_interview", talk(deputy)),
            ]
            for element, form in steps:
                if element in {t.element_id for t in engine.get_instance(instance_id).open_tasks}:
                    engine.complete(task_of(engine, instance_id, element).id, secretary, form)
    for town, instance_id in towns.items():
        engine.complete(task_of(engine, instance_id, "self_report").id, TOWNS[town][1], {"report": "述职。"})


def test_the_year_end_computation() -> None:
    assert scoring.trimmed_mean([10, 5, 7]) == 7.0
    assert scoring.trimmed_mean([6, 8]) == 7.0  # too few scorers to drop any
    balanced = {"kind": "好班副", "subject": "b", "dimensions": {"a": 8, "b": 8}, "total": 8.0}
    uneven = {"kind": "好班副", "subject": "a", "dimensions": {"a": 10, "b": 6}, "total": 8.0}
    ranked = scoring.rank([uneven, balanced])
    assert [(e["subject"], e["rank"]) for e in ranked] == [("b", 1), ("a", 2)]  # the tie rule
    assert scoring.quota_errors([{"kind": "好班长"}] * 2, {"banzhang": 1}) == {"好班长": 2}
    assert scoring.out_of_scale(sheet(9, 9, {"x": 10.5})) == [
        f"banfu.0.{k}" for k in scoring.SCHEMES["banfu"].keys
    ]


def test_a_publicity_window_counts_working_days_in_beijing() -> None:
    from engine.sandbox.helpers import add_working_days

    friday_evening = "2027-12-03T10:00:00+00:00"  # 18:00 on a Friday in Beijing
    assert add_working_days(friday_evening, 5) == "2027-12-10T10:00:00+00:00"
    saturday_morning_beijing = "2027-12-03T17:00:00+00:00"  # still Friday in UTC
    assert add_working_days(saturday_morning_beijing, 1) == "2027-12-05T17:00:00+00:00"  # Monday, Beijing
    with pytest.raises(ValueError):
        add_working_days(friday_evening, -1)
