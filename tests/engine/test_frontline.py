"""The shipped front-line process (frontline, 五个一线): 兴平 takes a batch of cadres in by
self-nomination, unit recommendation and organisational selection, a panel scores them, the
organisation department dispatches them to posts with set places, and each stint runs its weekly
reports, monthly bulletins, quarterly reviews, rotations and list entries to an appraisal."""

from __future__ import annotations

import pytest

from engine import ConflictError, Engine, FormInvalidError, InvalidInputError, NotAllowedError, NotFoundError
from tests.frontline import CADRES, assess, county, dispatch, nominate, task_of


@pytest.fixture
def xingping(engine: Engine) -> tuple[Engine, dict[str, int]]:
    return engine, county(engine)


def test_the_catalogue_holds_posts_per_front_line_with_requirements_and_places(xingping) -> None:
    engine, posts = xingping
    listed = {p.id: p for p in engine.frontline_posts("c01")}  # every cadre of the county reads it
    petition = listed[posts["petition"]]
    assert (petition.front_line, petition.unit_name, petition.capacity, petition.rotation_months) == (
        "petition",
        "市信访局",
        2,
        3,
    )
    assert listed[posts["investment"]].ranks == ["科级"] and listed[posts["rural"]].field == "农业"
    assert all(p.filled == 0 and p.vacant == p.capacity for p in listed.values())
    with pytest.raises(NotAllowedError):  # a cadre does not set up posts
        engine.create_frontline_post(
            "c01",
            {
                "front_line": "rural",
                "unit": "xp_xcj",
                "title": "x",
                "duties": "x",
                "capacity": 1,
                "supervisor": "xcj_head",
            },
        )
    with pytest.raises(InvalidInputError) as refused:
        engine.create_frontline_post(
            "xp_org",
            {
                "front_line": "harbour",
                "unit": "nowhere",
                "title": "",
                "duties": "x",
                "capacity": 0,
                "supervisor": "ghost",
                "rotation_months": 5,
            },
        )
    assert set(refused.value.errors) == {
        "front_line",
        "unit",
        "title",
        "capacity",
        "supervisor",
        "rotation_months",
    }
    changed = engine.update_frontline_post(
        posts["community"], "xp_org", {"capacity": 5, "duties": "上门办实事"}
    )
    assert (changed.capacity, changed.duties) == (5, "上门办实事")


def test_a_batch_of_twelve_enters_the_pool_by_three_paths_and_is_dispatched_within_capacity(xingping) -> None:
    engine, posts = xingping
    nominated = {}
    for cadre in ("c01", "c03", "c05", "c07"):  # 个人自荐
        nominated[cadre] = nominate(engine, "self", cadre, cadre)
    leaders = {"c02": "fgj_head", "c04": "zsj_head", "c06": "xcj_head", "c09": "dc_sec", "c11": "dc_sec"}
    for cadre, leader in leaders.items():  # 单位推荐: the leader of the cadre's unit, or of one above it
        nominated[cadre] = nominate(engine, "unit", cadre, leader, fields=["农业"] if cadre == "c06" else [])
    for cadre in ("c08", "c10", "c12"):  # 组织选派
        nominated[cadre] = nominate(engine, "organisation", cadre, "xp_org")
    assert len(nominated) == 12
    assert engine.get_instance(nominated["c08"]).id in {c.instance_id for c in engine.list_cc("c08").items}

    with pytest.raises(InvalidInputError):  # a colleague cannot nominate someone as a self-nomination
        nominate(engine, "self", "c02", "c01")
    with pytest.raises(InvalidInputError):  # another unit's leader cannot recommend
        nominate(engine, "unit", "c01", "zsj_head")
    with pytest.raises(InvalidInputError):  # a cadre cannot select for the organisation
        nominate(engine, "organisation", "c02", "c01")
    with pytest.raises(ConflictError):  # in the pool once at a time
        nominate(engine, "organisation", "c01", "xp_org")

    for cadre, instance_id in nominated.items():
        assess(engine, instance_id, recommend=cadre != "c12")
    assert engine.get_instance(nominated["c12"]).status == "completed"  # the panel did not recommend
    assert engine.get_instance(nominated["c12"]).data["phase"] == "not_selected"

    plan = {
        "c01": "project", "c02": "project", "c03": "project", "c09": "project",
        "c04": "investment", "c08": "investment", "c10": "investment",
        "c06": "rural",
        "c05": "petition", "c07": "petition",
    }  # fmt: skip
    for cadre, post in plan.items():
        dispatch(engine, nominated[cadre], posts[post])
    with pytest.raises(FormInvalidError) as refused:  # the project post's four places are taken
        dispatch(engine, nominated["c11"], posts["project"])
    assert "岗位已满" in refused.value.errors["post"][0]
    dispatch(engine, nominated["c11"], posts["community"])
    plan["c11"] = "community"
    listed = {p.id: p for p in engine.frontline_posts("xp_org")}
    assert [listed[posts[k]].filled for k in ("project", "investment", "rural", "petition", "community")] == [
        4,
        3,
        1,
        2,
        1,
    ]
    assert sorted(listed[posts["petition"]].holders) == ["周七", "钱五"]
    on_post = engine.frontline_stints("xp_org")
    assert len(on_post) == 11 and {s.username for s in on_post} == set(plan)
    assert {s.origin_unit_name for s in on_post if s.post_title == "招商小分队队员"} == {
        "市招商局",
        "市信访局",
        "东城街道",
    }


def test_capacity_rank_and_field_are_refused_by_name_and_nothing_moves(xingping) -> None:
    engine, posts = xingping
    first, second, third = (nominate(engine, "organisation", c, "xp_org") for c in ("c05", "c07", "c09"))
    for instance_id in (first, second, third):
        assess(engine, instance_id)
    with pytest.raises(FormInvalidError) as refused:  # 股级 on a post for 科级
        dispatch(engine, first, posts["investment"])
    assert "科级" in refused.value.errors["post"][0]
    with pytest.raises(FormInvalidError) as refused:  # no 农业 among c05's fields
        dispatch(engine, first, posts["rural"])
    assert "农业" in refused.value.errors["post"][0]
    dispatch(engine, first, posts["petition"])
    dispatch(engine, second, posts["petition"])
    with pytest.raises(FormInvalidError) as refused:  # the petition post has two places
        dispatch(engine, third, posts["petition"])
    assert "岗位已满" in refused.value.errors["post"][0]
    assert engine.get_instance(third).active_elements == ["dispatch"]  # still waiting for a post
    engine.update_frontline_post(posts["petition"], "xp_org", {"capacity": 3})
    with pytest.raises(InvalidInputError):  # fewer places than cadres on it
        engine.update_frontline_post(posts["petition"], "xp_org", {"capacity": 1})
    dispatch(engine, third, posts["petition"])
    assert engine.frontline_post(posts["petition"], "c09").filled == 3


def _work_the_month(engine: Engine, instance_id: str, cadre: str, rotate_to: int | None) -> list[str]:
    """Complete what is open; the tasks done, by element."""
    done = []
    for task in engine.get_instance(instance_id).open_tasks:
        done.append(task.element_id)
        if task.element_id == "weekly_report":
            engine.complete(task.id, cadre, {"summary": "定点接访，化解积案", "checkin_days": 5})
        elif task.element_id == "monthly_bulletin":
            engine.complete(task.id, "xp_org", {"rating": "good"})
        elif task.element_id == "quarterly_review":
            engine.complete(task.id, task.assignee or "", {"rating": "good", "comment": "首接首办落实到位"})
        elif task.element_id == "rotate" and rotate_to is not None:
            engine.complete(task.id, "xp_org", {"post": rotate_to})
    return done


def test_six_months_on_a_rotating_post_run_their_reviews_a_rotation_and_list_entries(xingping, clock) -> None:
    engine, posts = xingping
    instance_id = nominate(engine, "self", "c07", "c07")
    assess(engine, instance_id)
    dispatch(engine, instance_id, posts["petition"], months=6)
    onboard = task_of(engine, instance_id, "onboard")
    assert [t.assignee for t in engine.get_instance(instance_id).open_tasks] == [
        "xfj_head"
    ]  # the receiving unit
    engine.complete(onboard, "xfj_head", {"mentor": "xp_judge1", "party_group": "信访维稳临时党小组"})

    with pytest.raises(NotAllowedError):  # a peer does not write list entries
        engine.add_list_entry(instance_id, "c01", {"kind": "positive", "text": "x"})
    engine.add_list_entry(instance_id, "xfj_head", {"kind": "positive", "text": "两会期间稳控重点人员"})
    reviewers: list[str] = []
    done: list[str] = []
    for week in range(1, 29):
        clock.advance(days=7, minutes=1)
        engine.run_due_jobs()
        reviewers += [
            t.assignee or ""
            for t in engine.get_instance(instance_id).open_tasks
            if t.element_id == "quarterly_review"
        ]
        done += _work_the_month(engine, instance_id, "c07", posts["community"])
        if week == 20:  # on the community post now: its supervisor writes the entry
            engine.add_list_entry(instance_id, "dc_sec", {"kind": "negative", "text": "网格走访不到位"})
    appraisal = task_of(engine, instance_id, "appraisal")
    engine.complete(
        appraisal, "xp_org", {"report": "敢于担当，群众认可", "grade": "excellent", "result_use": "promote"}
    )
    assert engine.get_instance(instance_id).status == "completed"
    assert reviewers == ["xfj_head", "dc_sec"]  # each quarter's review by the post's receiving unit then
    assert engine.frontline_stints("xp_org") == []  # the post is free again

    kinds = [e.kind for e in engine.person_archive("c07", "c07")]
    assert kinds[:5] == [
        "frontline_nomination",
        "frontline_screening",
        "frontline_assessment",
        "frontline_dispatch",
        "frontline_onboarding",
    ]
    assert kinds.count("frontline_report") == done.count("weekly_report") >= 20  # exactly what was done
    assert kinds.count("frontline_bulletin") == done.count("monthly_bulletin") == 6
    assert kinds.count("frontline_review") == 2 and kinds.count("frontline_rotation") == 1
    assert kinds.count("frontline_list_positive") == 1 and kinds.count("frontline_list_negative") == 1
    assert kinds.index("frontline_rotation") < kinds.index("frontline_list_negative")
    assert kinds.index("frontline_stint_end") < kinds.index("frontline_appraisal")
    assert [e.detail for e in engine.person_archive("c07", "xp_org") if e.kind == "frontline_appraisal"] == [
        "鉴定：优秀；结果运用：职级晋升"
    ]
    with pytest.raises(ConflictError):  # off post, a list entry has nowhere to go
        engine.add_list_entry(instance_id, "xp_org", {"kind": "negative", "text": "x"})


def test_the_growth_archive_is_for_the_person_their_unit_leaders_and_the_organisation_department(
    xingping,
) -> None:
    engine, posts = xingping
    instance_id = nominate(engine, "self", "c09", "c09")
    assess(engine, instance_id)
    dispatch(engine, instance_id, posts["community"])
    for viewer in ("c09", "dc_sec", "xp_org"):  # herself, 东城街道's 书记, the organisation department
        lines = engine.person_archive("c09", viewer)
        assert [e.detail for e in lines][0] == "个人自荐：意向重大项目建设"
        assert all(e.instance_id == instance_id for e in lines)
    for viewer in ("c10", "fgj_head", "xp_judge3"):  # a peer, another unit's leader, a panel member
        with pytest.raises(NotFoundError):
            engine.person_archive("c09", viewer)
    assert engine.person_archive("c11", "dc_sec") == []  # the community lies under 东城街道


def test_cadres_of_the_batch_are_people_of_the_county(xingping) -> None:
    engine, _ = xingping
    assert len(CADRES) >= 10
    with pytest.raises(InvalidInputError):
        nominate(engine, "organisation", "nobody", "xp_org")


def test_overdue_reviews_and_bulletins_show_on_the_dashboard_and_a_cancelled_stint_frees_its_post(
    xingping, clock
) -> None:
    engine, posts = xingping
    instance_id = nominate(engine, "organisation", "c10", "xp_org")
    assess(engine, instance_id)
    dispatch(engine, instance_id, posts["community"])
    engine.complete(
        task_of(engine, instance_id, "onboard"),
        "dc_sec",
        {"mentor": "xp_judge2", "party_group": "社区临时党小组"},
    )
    for _ in range(6):  # six weeks pass and nobody reports: the month's bulletin is a week late
        clock.advance(days=7, minutes=1)
        engine.run_due_jobs()
    [row] = [r for r in engine.frontline_dashboard("xp_org") if r.post_id == posts["community"]]
    assert (row.filled, row.by_rank, row.by_origin) == (1, {"科级": 1}, {"东城街道": 1})
    assert row.overdue >= 1
    with pytest.raises(NotAllowedError):  # the dashboard is the organisation department's
        engine.frontline_dashboard("c10")
    engine.cancel(instance_id, actor="xp_org", reason="调回原单位")
    assert engine.frontline_post(posts["community"], "xp_org").filled == 0
    assert engine.person_archive("c10", "c10")[-1].detail == "锻炼终止：调回原单位"


def test_another_county_sees_none_of_the_posts(xingping) -> None:
    from engine import organisation as org
    from engine.organisation import PostAssignment

    engine, posts = xingping
    with engine.store.write() as s:
        org.upsert_unit(
            s, "pingli", name="平利县", kind="county", parent=None, attributes=None, now=engine.clock.now()
        )
    engine.upsert_user("pl_admin", display_name="平利管理员", roles=["admin@pingli"])
    with engine.store.write() as s:
        org.set_posts(s, "pl_admin", [PostAssignment("pingli", "副部长", "科级")])
    assert engine.frontline_posts("pl_admin") == []
    with pytest.raises(NotFoundError):
        engine.frontline_post(posts["rural"], "pl_admin")
    with pytest.raises(NotFoundError):
        engine.update_frontline_post(posts["rural"], "pl_admin", {"capacity": 9})
    with pytest.raises(NotFoundError):  # nor the person's archive
        engine.person_archive("c01", "pl_admin")
