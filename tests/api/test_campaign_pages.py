"""The campaign pages over the Flask test client: the list and the creation form, a campaign's page
with its problems and charts, the import with its preview, publication; and every refusal (another
county's campaign, someone who does not run it, a missing CSRF token, a bad or oversized upload)."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from engine import CAMPAIGN_LIST_MAX_BYTES, Engine
from engine import organisation as org
from engine.organisation import PostAssignment
from tests.campaigns import CATEGORIES, campaign_body, county, problem_list, problem_row, workbook

from .conftest import page_login

TOKEN = "t"


@pytest.fixture
def luannan(engine: Engine) -> Engine:
    """滦南县 (组织部's deputy head runs its campaigns) and 平利县 with a clerk of its own."""
    county(engine)
    now = engine.clock.now()
    with engine.store.write() as s:
        org.upsert_unit(s, "pingli", name="平利县", kind="county", parent=None, attributes=None, now=now)
    engine.upsert_user("pl_clerk", display_name="平利干事")
    with engine.store.write() as s:
        org.set_posts(s, "pl_clerk", [PostAssignment("pingli", "干事", "股级")])
    return engine


def as_user(client: FlaskClient, engine: Engine, username: str) -> FlaskClient:
    page_login(client, engine, username, csrf_token=TOKEN)
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any):
    return client.post(path, data={**data, "csrf_token": TOKEN}, **kwargs)


def campaign(engine: Engine, **overrides: Any) -> int:
    return engine.create_campaign("zzb_admin", campaign_body(**overrides)).id


def upload(client: FlaskClient, campaign_id: int, content: bytes, name: str = "list.xlsx"):
    return post(
        client,
        f"/campaigns/{campaign_id}/import",
        {"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def form(**overrides: str) -> dict[str, str]:
    return {
        "title": "2026年百名干部破百题",
        "year": "2026",
        "organiser_unit": "zzb",
        "categories": "\n".join(CATEGORIES[:3]),
        "deadline": "2026-03-31",
        **overrides,
    }


def test_the_list_names_organisers_and_counts_and_the_nav_leads_to_it(
    client: FlaskClient, luannan: Engine
) -> None:
    campaign_id = campaign(luannan)
    luannan.import_problems(campaign_id, "zzb_admin", problem_list(3))
    page = as_user(client, luannan, "liu").get("/campaigns").get_data(as_text=True)
    assert "年度榜单" in page and 'href="/campaigns"' in page
    assert f'href="/campaigns/{campaign_id}"' in page and "县委组织部" in page and "待初审 3" in page
    assert 'id="new-campaign"' not in page  # a cadre runs no campaign
    english = client.get("/campaigns?lang=en").get_data(as_text=True)
    assert "Annual lists" in english and "待初审" not in english


def test_an_admin_creates_a_campaign_from_the_form(client: FlaskClient, luannan: Engine) -> None:
    as_user(client, luannan, "zzb_admin")
    page = client.get("/campaigns").get_data(as_text=True)
    assert 'id="new-campaign"' in page and '<option value="zzb" >县委组织部</option>' in page
    resp = post(client, "/campaigns", form())
    assert resp.status_code == 302
    created = luannan.list_campaigns("zzb_admin")[0]
    assert created.title == "2026年百名干部破百题" and created.categories == CATEGORIES[:3]
    assert created.submission_deadline is not None
    shown = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已创建榜单" in shown and "县委组织部" in shown and "导入问题清单" in shown


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("title", "", "请填写榜单名称"),
        ("year", "26", "年度须为 2000 至 2100 之间的年份"),
        ("organiser_unit", "", "请选择牵头组织单位"),
        ("organiser_unit", "no-such-unit", "单位不存在"),
        ("categories", "甲\n甲", "类别不能重复"),
        ("categories", "  ", "请至少填写一个类别"),
        ("deadline", "2026-02-30", "请填写有效日期"),
        ("key_prefix", "前缀", "编号前缀只能由字母"),
    ],
)
def test_a_bad_field_is_named_in_chinese_and_nothing_is_created(
    client: FlaskClient, luannan: Engine, field: str, value: str, message: str
) -> None:
    as_user(client, luannan, "zzb_admin")
    resp = post(client, "/campaigns", form(**{field: value}))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert re.search(rf'id="error-{field}">[^<]*{message}', page), page
    assert luannan.list_campaigns("zzb_admin") == []


def test_a_taken_prefix_and_a_cadre_are_refused_by_field(client: FlaskClient, luannan: Engine) -> None:
    campaign(luannan)
    as_user(client, luannan, "zzb_admin")
    page = post(client, "/campaigns", form(key_prefix="LN2026-")).get_data(as_text=True)
    assert 'id="error-key_prefix"' in page and "编号前缀已被其他榜单使用" in page
    as_user(client, luannan, "liu")
    assert post(client, "/campaigns", form(title="另一个")).status_code == 403
    assert len(luannan.list_campaigns("zzb_admin")) == 1


def test_every_post_needs_the_csrf_token(client: FlaskClient, luannan: Engine) -> None:
    campaign_id = campaign(luannan)
    as_user(client, luannan, "zzb_admin")
    for path in ("/campaigns", f"/campaigns/{campaign_id}/publish", f"/campaigns/{campaign_id}/import"):
        assert client.post(path, data=form()).status_code == 400
    assert len(luannan.list_campaigns("zzb_admin")) == 1


def test_the_campaign_page_lists_problems_charts_and_stats(client: FlaskClient, luannan: Engine) -> None:
    campaign_id = campaign(luannan, list_approved=True)
    luannan.import_problems(campaign_id, "zzb_admin", problem_list(5))
    as_user(client, luannan, "zzb_admin")
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert 'id="category-chart"' in page and 'id="status-chart"' in page and "待发布" in page
    assert "县住建局" in page and "第1号难题" in page and 'data-confirm="' in page
    assert f"/campaigns/{campaign_id}/stats.xlsx?by=category" in page
    by_unit = client.get(f"/campaigns/{campaign_id}?by=unit").get_data(as_text=True)
    assert "县农业农村局" in by_unit and ">zjj<" not in by_unit
    assert "待发布" in client.get(f"/campaigns/{campaign_id}?by=status").get_data(as_text=True)
    resp = post(client, f"/campaigns/{campaign_id}/publish", {})
    assert resp.status_code == 302
    shown = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "已发布 5 个问题" in shown and shown.count('href="/board/') == 5 and "揭榜中" in shown
    cadre = as_user(client, luannan, "liu").get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    board = re.findall(r'href="(/board/[^"]+)"', cadre)
    assert len(board) == 5 and client.get(board[0]).status_code == 200  # each link opens its challenge
    as_user(client, luannan, "zzb_admin")
    export = client.get(f"/campaigns/{campaign_id}/stats.xlsx?by=unit")
    assert export.status_code == 200 and export.mimetype.endswith("sheet")
    sheet = load_workbook(io.BytesIO(export.data)).active
    assert [c.value for c in sheet[1]][:2] == ["牵头单位", "问题数"]


def test_another_countys_campaign_is_not_found(client: FlaskClient, luannan: Engine) -> None:
    campaign_id = campaign(luannan)
    as_user(client, luannan, "pl_clerk")
    assert f"/campaigns/{campaign_id}" not in client.get("/campaigns").get_data(as_text=True)
    for path in ("", "/import", "/template.xlsx", "/stats.xlsx"):
        assert client.get(f"/campaigns/{campaign_id}{path}").status_code == 404
    for path in (f"/campaigns/{campaign_id}/publish", f"/campaigns/{campaign_id}/import"):
        assert post(client, path, {}).status_code == 404
    assert client.get("/campaigns/999").status_code == 404


def test_who_does_not_run_the_campaign_neither_imports_nor_publishes(
    client: FlaskClient, luannan: Engine
) -> None:
    campaign_id = campaign(luannan, list_approved=True)
    luannan.import_problems(campaign_id, "zzb_admin", problem_list(2))
    as_user(client, luannan, "liu")
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "全部发布" not in page and "导入问题清单" not in page and 'href="/instances/' not in page
    assert client.get(f"/campaigns/{campaign_id}/import").status_code == 403
    assert upload(client, campaign_id, problem_list(2, start=3)).status_code == 403
    post(client, f"/campaigns/{campaign_id}/publish", {})
    assert luannan.get_campaign(campaign_id, "zzb_admin").by_status == {"approved": 2}
    assert client.get("/campaigns").status_code == 200
    client.delete_cookie("session")
    assert client.get(f"/campaigns/{campaign_id}").status_code == 302  # to the login page


def test_the_import_previews_then_imports_and_refuses_bad_rows(client: FlaskClient, luannan: Engine) -> None:
    campaign_id = campaign(luannan)
    as_user(client, luannan, "zzb_admin")
    page = client.get(f"/campaigns/{campaign_id}/import").get_data(as_text=True)
    assert f"/campaigns/{campaign_id}/template.xlsx" in page
    template = client.get(f"/campaigns/{campaign_id}/template.xlsx")
    assert template.status_code == 200 and template.data.startswith(b"PK")
    rows = [problem_row(n) for n in range(1, 4)]
    rows[1] = problem_row(2, 类别="不存在的类别")
    bad = upload(client, campaign_id, workbook(rows))
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert re.search(r'<tr data-row="3" data-column="类别">', text) and "第 3 行" in text
    assert "确认导入" not in text
    good = upload(client, campaign_id, problem_list(3))
    text = good.get_data(as_text=True)
    assert good.status_code == 200 and "预览：将导入 3 个问题" in text and "第2号难题" in text
    assert luannan.get_campaign(campaign_id, "zzb_admin").problems == 0  # a preview imports nothing
    content = re.search(r'name="content" value="([^"]+)"', text).group(1)
    done = post(client, f"/campaigns/{campaign_id}/import", {"confirm": "1", "content": content})
    assert done.status_code == 302
    assert luannan.get_campaign(campaign_id, "zzb_admin").problems == 3
    again = upload(client, campaign_id, problem_list(3)).get_data(as_text=True)
    assert "编号 1、2、3 已导入过，将跳过。" in again and "确认导入" not in again


@pytest.mark.parametrize(
    "content,name,message",
    [
        (b"%PDF-1.4 not a workbook", "list.pdf", "只接受 Excel 工作簿文件"),
        (b"PK\x03\x04" + b"0" * (CAMPAIGN_LIST_MAX_BYTES + 10), "big.xlsx", "文件过大"),
        (b"PK\x03\x04 broken zip", "broken.xlsx", ""),
    ],
    ids=["not-xlsx", "oversized", "broken"],
)
def test_a_bad_upload_gets_a_chinese_error(
    client: FlaskClient, luannan: Engine, content: bytes, name: str, message: str
) -> None:
    campaign_id = campaign(luannan)
    as_user(client, luannan, "zzb_admin")
    resp = upload(client, campaign_id, content, name)
    assert resp.status_code in (413, 422)
    text = resp.get_data(as_text=True)
    assert 'id="import-errors"' in text and message in text
    errors = re.search(r'class="message">([^<]+)<', text).group(1)
    words = re.findall(r"[A-Za-z]{2,}", errors)
    assert re.search(r"[\u4e00-\u9fff]", errors) and set(words) <= {"Excel", "xlsx"}, errors
    assert luannan.get_campaign(campaign_id, "zzb_admin").problems == 0


def test_a_forged_confirmation_is_checked_again(client: FlaskClient, luannan: Engine) -> None:
    campaign_id = campaign(luannan)
    as_user(client, luannan, "zzb_admin")
    forged = base64.b64encode(workbook([problem_row(1, 类别="不存在的类别")])).decode()
    resp = post(client, f"/campaigns/{campaign_id}/import", {"confirm": "1", "content": forged})
    assert resp.status_code == 422 and luannan.get_campaign(campaign_id, "zzb_admin").problems == 0
    resp = post(client, f"/campaigns/{campaign_id}/import", {"confirm": "1", "content": "!!"})
    assert resp.status_code == 422 and "文件已失效" in resp.get_data(as_text=True)


def test_the_english_pages_show_no_chinese_of_their_own(client: FlaskClient, luannan: Engine) -> None:
    campaign_id = campaign(luannan, list_approved=True)
    luannan.import_problems(campaign_id, "zzb_admin", problem_list(2))
    as_user(client, luannan, "zzb_admin")
    typed = sorted(
        {"2026年百名干部破百题", "县委组织部", "县住建局", "县农业农村局", "柏各庄镇", "倴城镇", *CATEGORIES,
         *(f"第{n}号难题：老旧小区雨污分流改造" for n in (1, 2))},
        key=len,
        reverse=True,
    )  # fmt: skip
    for path in ("", f"/{campaign_id}", f"/{campaign_id}?by=status", f"/{campaign_id}/import"):
        page = client.get(f"/campaigns{path}?lang=en" if "?" not in path else f"/campaigns{path}&lang=en")
        text = re.sub(r"<script.*?</script>|<[^>]+>", " ", page.get_data(as_text=True), flags=re.S)
        for known in typed:
            text = text.replace(known, " ")
        assert not re.findall(r"[\u4e00-\u9fff]+", text.replace("中文", "")), (path, text)


def test_a_campaign_items_history_tells_its_campaign_steps_in_words(
    client: FlaskClient, luannan: Engine
) -> None:
    campaign_id = campaign(luannan, list_approved=True)
    first = luannan.import_problems(campaign_id, "zzb_admin", problem_list(2)).instances[0]
    luannan.publish_campaign(campaign_id, "zzb_admin")
    admin = as_user(client, luannan, "zzb_admin")
    chinese = admin.get(f"/instances/{first}").get_data(as_text=True)
    assert "列入年度榜单" in chinese and "随年度榜单统一发榜" in chinese
    english = admin.get(f"/instances/{first}?lang=en").get_data(as_text=True)
    for page in (chinese, english):
        told = re.findall(r'<span class="what">([^<]*)</span>', page)
        assert told and not any(what.startswith(("campaign.", "attachment.")) for what in told), told
    assert "Listed on the annual list" in english


def test_the_boards_filter_offers_the_campaigns_own_categories(client: FlaskClient, luannan: Engine) -> None:
    campaign_id = campaign(luannan, list_approved=True)
    luannan.import_problems(campaign_id, "zzb_admin", problem_list(3))  # 城市建设类, 乡村振兴类, 民生发展类
    luannan.publish_campaign(campaign_id, "zzb_admin")
    cadre = as_user(client, luannan, "liu")
    board = cadre.get("/board").get_data(as_text=True)
    chips = re.findall(r'<a href="/board\?category=[^"]*" class="chip[^"]*">([^<]*)</a>', board)
    assert sorted(chips) == sorted(CATEGORIES[1:4])  # what the list uses, not the shipped form's list
    one = cadre.get("/board", query_string={"category": CATEGORIES[2]}).get_data(as_text=True)
    assert one.count('<article class="card') == 1 and "第2号难题" in one
    empty = cadre.get("/board", query_string={"category": CATEGORIES[7]}).get_data(as_text=True)
    assert empty.count('<article class="card') == 0 and f'class="chip active">{CATEGORIES[7]}<' in empty
