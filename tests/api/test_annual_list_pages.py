"""The annual list on the pages and over the API: the organiser opens it from the campaign page, a
unit's 联络员 fills the campaign's categories, a panel member reads every submitted problem with its
unit's name and the units that missed the deadline; the REST start takes the start data alone."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient

from engine import Engine
from tests.campaigns import (
    CATEGORIES,
    DEADLINE,
    LIAISONS,
    UNITS,
    campaign_body,
    county,
    liaisons,
    open_task,
    problem,
    start_list,
)

from .conftest import Auth, page_login


@pytest.fixture
def luannan(engine: Engine) -> Engine:
    county(engine)
    liaisons(engine)
    return engine


def test_a_unit_fills_its_problems_and_the_panel_reads_them_all(
    client: FlaskClient, luannan: Engine, clock
) -> None:
    _, list_id = start_list(luannan)
    task = open_task(luannan, list_id, "submit_unit_problems", "liu_ll")
    page_login(client, luannan, "liu_ll")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "报送本单位问题" in page and "县住建局" in page and "征集情况" in page
    schema = json.loads(re.search(r'<script[^>]*id="form-schema"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert schema["properties"]["problems"]["items"]["properties"]["category"]["enum"] == CATEGORIES

    luannan.complete(task, "liu_ll", {"problems": [problem("老旧小区雨污分流改造", "城市建设类")]})
    clock.advance(days=20)  # past the deadline: 县农业农村局 and 柏各庄镇 did not submit
    luannan.run_due_jobs()
    review = open_task(luannan, list_id, "panel_review", "sun")
    page_login(client, luannan, "sun")
    page = client.get(f"/tasks/{review}").get_data(as_text=True)
    assert "评审会签" in page and "zjj-1" in page and "老旧小区雨污分流改造" in page
    missing = re.search(r'class="missing-units">(.*?)</dd>', page).group(1)
    assert missing == "县农业农村局、柏各庄镇"  # names, not codes


def test_the_organiser_opens_the_collection_from_the_campaign_page(
    client: FlaskClient, luannan: Engine
) -> None:
    campaign_id = luannan.create_campaign("zzb_admin", campaign_body()).id
    page_login(client, luannan, "zzb_admin", csrf_token="t")
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert f'href="/campaigns/{campaign_id}/collect"' in page
    page = client.get(f"/campaigns/{campaign_id}/collect").get_data(as_text=True)
    assert "县住建局" in page and 'value="zjj"' in page and "sun" in page  # units by name, people to pick
    form = {"csrf_token": "t", "deadline": "2026-03-20", "discussion_days": "7"}
    refused = client.post(f"/campaigns/{campaign_id}/collect", data=form)
    assert refused.status_code == 422 and "请至少选择一个报送单位" in refused.get_data(as_text=True)
    assert luannan.list_instances(limit=10).total == 0  # nothing started
    started = client.post(
        f"/campaigns/{campaign_id}/collect",
        data={**form, "units": ["zjj", "nyj"], "panel": ["sun", "qian"]},
    )
    assert started.status_code == 302 and "/instances/" in started.headers["Location"]
    shown = client.get(started.headers["Location"])  # the collection's own page, with its diagram
    assert shown.status_code == 200 and "年度问题清单征集" in shown.get_data(as_text=True)
    assert "征集中" in shown.get_data(as_text=True)  # its phase in words
    page_login(client, luannan, "liu_ll")
    inbox = client.get("/inbox").get_data(as_text=True)  # the unit's 联络员 sees what to submit, and for what
    assert "2026年百名干部破百题问题征集" in inbox and "报送本单位问题" in inbox
    [instance] = luannan.list_instances(limit=10).items
    assert instance.process_key == "annual_list" and instance.data["units"] == ["zjj", "nyj"]
    assert (
        instance.data["submission_deadline"] == "2026-03-20T15:59:00+00:00"
    )  # the end of the day, Beijing time
    inbox = client.get("/inbox").get_data(as_text=True)
    assert 'value="annual_list"' not in inbox  # started from its campaign's page, not from the inbox


def test_a_cadre_who_does_not_run_the_campaign_cannot_open_a_collection(
    client: FlaskClient, luannan: Engine
) -> None:
    campaign_id = luannan.create_campaign("zzb_admin", campaign_body()).id
    page_login(client, luannan, "liu", csrf_token="t")
    assert client.get(f"/campaigns/{campaign_id}/collect").status_code == 403
    posted = client.post(
        f"/campaigns/{campaign_id}/collect",
        data={"csrf_token": "t", "units": ["zjj"], "panel": ["sun"], "deadline": "2026-03-20"},
    )
    assert posted.status_code == 403 and luannan.list_instances(limit=10).total == 0


def test_the_english_collection_pages_show_no_chinese_of_their_own(
    client: FlaskClient, luannan: Engine, clock
) -> None:
    campaign_id, list_id = start_list(luannan)
    luannan.complete(
        open_task(luannan, list_id, "submit_unit_problems", "liu_ll"),
        "liu_ll",
        {"problems": [problem("老旧小区雨污分流改造", "城市建设类")]},
    )
    clock.advance(days=20)
    luannan.run_due_jobs()
    typed = sorted(  # what people typed: the campaign, units, people, categories, the problem
        {"2026年百名干部破百题", *(name for name, _, _ in UNITS.values()), *(f"{UNITS[u][0]}联络员" for u in LIAISONS),
         *CATEGORIES, "老旧小区雨污分流改造", "群众反映强烈", "年底前解决"},
        key=len,
        reverse=True,
    )  # fmt: skip
    pages = {
        "zzb_admin": f"/campaigns/{campaign_id}/collect?lang=en",
        "sun": f"/tasks/{open_task(luannan, list_id, 'panel_review', 'sun')}?lang=en",
    }
    for who, path in pages.items():
        page_login(client, luannan, who)
        html = client.get(path).get_data(as_text=True)
        text = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
        for known in typed:
            text = text.replace(known, " ")
        assert not re.findall(r"[\u4e00-\u9fff]+", text.replace("中文", "")), (path, text)


API = "/api/v1"


def test_over_the_api_the_start_data_is_enough_and_a_foreign_category_is_refused(
    client: FlaskClient, luannan: Engine
) -> None:
    auth = Auth(luannan)
    for username in ("zzb_admin", "liu", "liu_ll"):
        auth.user(username, roles=["admin@zzb"] if username == "zzb_admin" else [])
    campaign_id = luannan.create_campaign("zzb_admin", campaign_body()).id
    data = {"campaign": campaign_id, "units": ["zjj"], "panel": ["sun"], "submission_deadline": DEADLINE}
    body = {"process_key": "annual_list", "data": data}
    refused = client.post(f"{API}/process-instances", json=body, headers=auth.headers("liu"))
    assert refused.status_code == 403, refused.get_data(as_text=True)  # liu does not run the campaign
    started = client.post(f"{API}/process-instances", json=body, headers=auth.headers("zzb_admin"))
    assert started.status_code == 201, started.get_data(as_text=True)
    [task] = started.get_json()["open_tasks"]
    assert task["element_id"] == "submit_unit_problems" and task["assignee"] == "liu_ll"
    bad = client.post(
        f"{API}/tasks/{task['id']}/complete",
        json={"data": {"problems": [problem("征迁协调", "经济建设")]}},
        headers=auth.headers("liu_ll"),
    )
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("application/problem+json")
    good = client.post(
        f"{API}/tasks/{task['id']}/complete",
        json={"data": {"problems": [problem("征迁协调", "社会治理类")]}},
        headers=auth.headers("liu_ll"),
    )
    assert good.status_code == 200, good.get_data(as_text=True)
