"""The shipped annual list (annual_list): 滦南 collects its list from units, a panel selects, the
organiser merges, the whole list is published at once after a discussion window."""

from __future__ import annotations

import json
import re

import pytest

from engine import Engine, FormInvalidError, InvalidInputError, NotAllowedError
from engine.engine import shipped_dirs
from tests.campaigns import (
    DEADLINE,
    LIAISONS,
    campaign_body,
    county,
    liaisons,
    open_task,
    problem,
    start_list,
)

BPMN_DIR, FORMS_DIR = shipped_dirs()


@pytest.fixture
def luannan(engine: Engine) -> Engine:
    county(engine)
    liaisons(engine)
    return engine


def test_a_year_s_list_is_collected_from_units_selected_merged_and_published_at_once(
    luannan: Engine, clock
) -> None:
    campaign_id, list_id = start_list(luannan)
    submissions = [
        t for t in luannan.get_instance(list_id).open_tasks if t.element_id == "submit_unit_problems"
    ]
    assert sorted(t.assignee for t in submissions) == sorted(LIAISONS.values())  # each unit's 联络员

    luannan.complete(
        open_task(luannan, list_id, "submit_unit_problems", "liu_ll"),
        "liu_ll",
        {
            "problems": [
                problem("老旧小区雨污分流改造", "城市建设类"),
                problem("背街小巷路灯不亮", "城市建设类"),
            ]
        },
    )
    clock.advance(days=15)  # the reminder falls due: units that have not submitted are reminded
    luannan.run_due_jobs()
    history = luannan.history(list_id)
    reminded = [e for e in history if e.event == "task.urge"]
    assert len(reminded) == 2 and all(
        e.actor == "system" for e in reminded
    )  # 农业农村局 and 柏各庄镇, once each
    luannan.complete(
        open_task(luannan, list_id, "submit_unit_problems", "chen_ll"),
        "chen_ll",
        {
            "problems": [
                problem("雨污分流改造滞后", "城市建设类", 12),
                problem("高标准农田建设", "乡村振兴类"),
            ]
        },
    )
    clock.advance(days=6)  # the deadline: 柏各庄镇 did not submit
    luannan.run_due_jobs()
    data = luannan.get_instance(list_id).data
    assert data["missing_units"] == ["bgz"]
    assert [c["ref"] for c in data["candidates"]] == ["zjj-1", "zjj-2", "nyj-1", "nyj-2"]

    ballots = {
        "sun": {
            "selected": ["zjj-1", "nyj-1", "nyj-2"],
            "duplicates": [{"ref": "nyj-1", "same_as": "zjj-1"}],
        },
        "qian": {"selected": ["zjj-1", "nyj-2"], "duplicates": []},
    }
    for member, ballot in ballots.items():
        luannan.complete(open_task(luannan, list_id, "panel_review", member), member, ballot)
    data = luannan.get_instance(list_id).data
    assert {c["ref"]: c["votes"] for c in data["candidates"]} == {
        "zjj-1": 2,
        "zjj-2": 0,
        "nyj-1": 1,
        "nyj-2": 2,
    }
    assert data["duplicate_marks"] == [{"ref": "nyj-1", "same_as": "zjj-1", "member": "sun"}]

    merge = open_task(luannan, list_id, "merge_list", "zzb_admin")
    final = [
        {
            "refs": ["zjj-1", "nyj-1"],
            "category": "城市建设类",
            "title": "城区雨污分流改造",
        },  # two duplicates merged
        {"refs": ["nyj-2"], "category": "乡村振兴类"},  # kept as submitted; zjj-2 is dropped
    ]
    with pytest.raises(FormInvalidError) as refused:  # a category 滦南's campaign does not have
        luannan.complete(merge, "zzb_admin", {"final_list": [{**final[1], "category": "经济建设"}]})
    assert any(k.startswith("final_list") for k in refused.value.errors)
    with pytest.raises(FormInvalidError):  # a problem nobody submitted
        luannan.complete(merge, "zzb_admin", {"final_list": [{"refs": ["bgz-1"], "category": "其他"}]})
    with pytest.raises(FormInvalidError) as refused:  # one number for two items
        luannan.complete(merge, "zzb_admin", {"final_list": [{**f, "number": 1} for f in final]})
    assert "final_list.1.number" in refused.value.errors
    luannan.complete(merge, "zzb_admin", {"final_list": final})

    problems = luannan.campaign_problems(campaign_id, "zzb_admin")
    assert [(p.number, p.category, p.title, p.lead_unit) for p in problems] == [
        (1, "城市建设类", "城区雨污分流改造", "zjj"),
        (2, "乡村振兴类", "高标准农田建设", "nyj"),
    ]
    items = [luannan.get_instance(p.instance_id) for p in problems]
    assert [i.business_key for i in items] == ["LN2026-1", "LN2026-2"]
    assert all(
        i.process_key == "claim_evaluate" and i.active_elements == ["committee_approval"] for i in items
    )
    assert luannan.board(viewer="liu") == []  # published as a list, claims open after the discussion

    clock.advance(days=5, minutes=1)  # the discussion window is over
    luannan.run_due_jobs()
    board = luannan.board(viewer="liu")
    assert sorted(c["instance_id"] for c in board) == sorted(i.id for i in items)
    assert all(
        c["open_for_claims"] and c["claim_deadline"] == "2026-04-11T01:01:00+00:00" for c in board
    )  # 14 days from the window's end
    assert luannan.get_instance(list_id).status == "completed"
    assert {p.status for p in luannan.campaign_problems(campaign_id, "zzb_admin")} == {"published"}


def test_a_unit_submits_only_the_campaign_s_categories(luannan: Engine) -> None:
    _, list_id = start_list(luannan)
    task = open_task(luannan, list_id, "submit_unit_problems", "liu_ll")
    form = luannan.get_task(task, "liu_ll").form
    assert form is not None
    assert form["properties"]["problems"]["items"]["properties"]["category"]["enum"][0] == "项目建设类"
    with pytest.raises(FormInvalidError) as refused:
        luannan.complete(
            task, "liu_ll", {"problems": [problem("征迁协调", "经济建设")]}
        )  # the shipped form's list
    assert any("category" in k for k in refused.value.errors)


def test_only_the_campaign_s_organiser_collects_its_list_from_its_own_county(luannan: Engine) -> None:
    campaign = luannan.create_campaign("zzb_admin", campaign_body())
    data = {"campaign": campaign.id, "units": ["zjj"], "panel": ["sun"], "submission_deadline": DEADLINE}
    with pytest.raises(NotAllowedError):
        luannan.start("annual_list", actor="liu", data=data)  # a cadre who does not run the campaign
    with pytest.raises(InvalidInputError):
        luannan.start("annual_list", actor="zzb_admin", data={**data, "units": ["zjj", "nowhere"]})
    with pytest.raises(InvalidInputError):
        luannan.start("annual_list", actor="zzb_admin", data={**data, "panel": ["nobody"]})
    started = luannan.start(
        "annual_list", actor="zzb_admin", data=data
    )  # defaults: reminder in 7 days, 7 days' discussion
    assert started.data["discussion_days"] == 7 and started.data["reminder_at"] == "2026-03-09T01:00:00+00:00"


def test_the_shipped_diagram_names_its_forms_in_chinese(luannan: Engine) -> None:
    definition = luannan.get_definition("annual_list")
    assert definition.forms == {
        "start": "annual_list_start.schema.json",
        "submit_unit_problems": "unit_problems.schema.json",
        "panel_review": "panel_review.schema.json",
        "merge_list": "merge_list.schema.json",
    }
    assert definition.lanes == {
        "Organiser": "starter",
        "Unit": "post:联络员@data:unit_code",
        "Panel": "data:member",
    }
    for filename in definition.forms.values():
        schema = json.loads((FORMS_DIR / filename).read_text(encoding="utf-8"))
        assert re.search(r"[\u4e00-\u9fff]", schema["title"]), filename
        for name, field in schema["properties"].items():
            assert re.search(r"[\u4e00-\u9fff]", field["title"]), (filename, name)
    assert luannan.validate({"annual_list.bpmn": (BPMN_DIR / "annual_list.bpmn").read_bytes()}) == []


def test_the_panel_and_the_organiser_choose_among_the_submitted_problems(luannan: Engine, clock) -> None:
    _, list_id = start_list(luannan)
    luannan.complete(
        open_task(luannan, list_id, "submit_unit_problems", "liu_ll"),
        "liu_ll",
        {"problems": [problem("老旧小区雨污分流改造", "城市建设类")]},
    )
    clock.advance(days=20)
    luannan.run_due_jobs()
    review = open_task(luannan, list_id, "panel_review", "sun")
    form = luannan.get_task(review, "sun").form
    assert form is not None
    selected = form["properties"]["selected"]["items"]
    assert selected["enum"] == ["zjj-1"] and selected["x-enumTitles"] == {
        "zjj-1": "zjj-1 老旧小区雨污分流改造"
    }
    with pytest.raises(FormInvalidError):  # a problem nobody submitted
        luannan.complete(review, "sun", {"selected": ["nyj-9"], "duplicates": []})
    luannan.complete(review, "sun", {"selected": ["zjj-1"], "duplicates": []})
    luannan.complete(
        open_task(luannan, list_id, "panel_review", "qian"), "qian", {"selected": [], "duplicates": []}
    )
    merge = luannan.get_task(open_task(luannan, list_id, "merge_list", "zzb_admin"), "zzb_admin").form
    assert merge is not None
    assert merge["properties"]["final_list"]["items"]["properties"]["refs"]["items"]["enum"] == ["zjj-1"]


def test_the_installation_s_admin_collects_a_county_s_list_in_that_county(luannan: Engine) -> None:
    luannan.upsert_user("root", roles=["admin"])  # of no county
    campaign = luannan.create_campaign("root", campaign_body())
    data = {"campaign": campaign.id, "units": ["zjj"], "panel": ["sun"], "submission_deadline": DEADLINE}
    with pytest.raises(InvalidInputError) as refused:  # no unit: the instance would be of no county
        luannan.start("annual_list", actor="root", data=data)
    assert "unit" in refused.value.errors
    started = luannan.start("annual_list", actor="root", data={**data, "unit": "zzb"})
    [task] = luannan.list_tasks("liu_ll", scope="mine").items
    assert (task.instance_id, task.element_id) == (started.id, "submit_unit_problems")
