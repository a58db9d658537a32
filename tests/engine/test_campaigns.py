"""Campaigns in the engine: who runs one, its tenant, and a problem's category held to its campaign's list."""

from __future__ import annotations

import pytest

from engine import Engine, FormInvalidError, InvalidInputError, NotAllowedError, NotFoundError
from tests.campaigns import CATEGORIES, campaign_body, county, problem_list


@pytest.fixture
def luannan(engine: Engine) -> Engine:
    county(engine)
    engine.upsert_user("zhao", groups=["taskforce"])
    return engine


def test_a_campaign_records_its_creator_s_tenant_and_its_organiser(luannan: Engine) -> None:
    campaign = luannan.create_campaign("zzb_admin", campaign_body())
    assert (campaign.tenant, campaign.organiser_unit, campaign.created_by) == ("luannan", "zzb", "zzb_admin")
    assert campaign.by_category == dict.fromkeys(CATEGORIES, 0) and campaign.by_status == {}
    assert [c.id for c in luannan.list_campaigns("liu")] == [campaign.id]  # a cadre of 滦南 sees it


def test_only_the_organiser_unit_s_admins_or_the_tenant_s_admins_run_a_campaign(luannan: Engine) -> None:
    with pytest.raises(NotAllowedError):
        luannan.create_campaign("liu", campaign_body())  # a cadre of 滦南 without the role
    luannan.upsert_user("zjj_admin", roles=["admin@zjj"])  # the admin of another department
    with pytest.raises(NotAllowedError):
        luannan.create_campaign("zjj_admin", campaign_body())
    luannan.upsert_user("root", roles=["admin"])  # the installation's admin, of no tenant
    assert luannan.create_campaign("root", campaign_body(key_prefix="LN2026B-")).tenant == "luannan"
    with pytest.raises(InvalidInputError):
        luannan.create_campaign("root", campaign_body(organiser_unit="nowhere"))
    with pytest.raises(NotFoundError):
        luannan.create_campaign("root", campaign_body(process_key="no_such_process", key_prefix="X-"))


def test_a_returned_problem_is_revised_within_its_campaign_s_categories(luannan: Engine) -> None:
    campaign = luannan.create_campaign("zzb_admin", campaign_body())
    [instance_id] = luannan.import_problems(campaign.id, "zzb_admin", problem_list(1)).instances
    review = luannan.get_instance(instance_id).open_tasks[0]
    luannan.complete(review.id, "zhao", {"decision": "return", "comment": "目标不够量化"})
    revise = luannan.get_instance(instance_id).open_tasks[0]
    form = luannan.get_task(revise.id, "zzb_admin").form
    assert (
        form is not None and form["properties"]["category"]["enum"] == CATEGORIES
    )  # not the form's own list
    data = {
        k: luannan.get_instance(instance_id).data[k]
        for k in ("title", "description", "goals", "proposed_deadline", "proposed_points")
    }
    with pytest.raises(FormInvalidError) as refused:
        luannan.complete(
            revise.id, "zzb_admin", {**data, "category": "经济建设"}
        )  # the shipped form's, not 滦南's
    assert "category" in refused.value.errors
    luannan.complete(
        revise.id, "zzb_admin", {**data, "category": "民生发展类", "goals": "年底前完成 3 个小区"}
    )
    assert luannan.get_instance(instance_id).data["category"] == "民生发展类"


def test_statistics_group_only_by_the_five_known_ways(luannan: Engine) -> None:
    campaign = luannan.create_campaign("zzb_admin", campaign_body())
    with pytest.raises(InvalidInputError):
        luannan.campaign_stats(campaign.id, "liu", "weather")
    assert {r.key for r in luannan.campaign_stats(campaign.id, "liu", "category")} == set(CATEGORIES)
