"""The campaign pages in a browser: an organiser starts a campaign from the form, previews a list
with one bad row and sees the error by row and column, fixes it, imports 20 problems, publishes
them all at once and reads the category chart; at a desk and on a phone (390 px)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.campaigns import HEADERS, workbook

from .test_every_page import CATEGORIES

pytestmark = pytest.mark.browser

COUNTY = {  # code: (name, kind, parent): 滦南 with the organisation department and two lead units
    "cp_luannan": ("滦南县", "county", None),
    "cp_zzb": ("滦南县委组织部", "department", "cp_luannan"),
    "cp_zjj": ("滦南县住建局", "department", "cp_luannan"),
    "cp_bgz": ("柏各庄镇", "town", "cp_luannan"),
}
USED = CATEGORIES[:4]  # the shipped form's own categories: words the page walker knows as typed in


def put_unit(server, code: str, name: str, kind: str, parent: str | None) -> None:
    body = json.dumps({"name": name, "kind": kind, **({"parent": parent} if parent else {})}).encode()
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/units/{code}",
        data=body,
        method="PUT",
        headers={"Authorization": f"Bearer {server.admin_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def row(number: int, **overrides: object) -> list[object]:
    values = {
        "编号": number,
        "类别": USED[number % len(USED)],
        "题目": f"第{number}号年度难题：老旧小区雨污分流改造",
        "问题描述": "雨季积水严重，群众反映强烈。",
        "目标": "年底前完成改造并通过验收",
        "牵头单位": ["滦南县住建局", "柏各庄镇"][number % 2],
        "时限": "2027-10-31",
        "分值": 10 + number % 5,
        **overrides,
    }
    return [values[h] for h in HEADERS]


def no_sideways_scroll(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_an_organiser_runs_a_campaign_from_the_pages(login, server, tmp_path: Path) -> None:
    for code, (name, kind, parent) in COUNTY.items():
        put_unit(server, code, name, kind, parent)
    admin = login("admin", viewport=(1366, 768))
    admin.goto("/inbox")
    admin.locator(".mainnav a", has_text="年度榜单").click()
    admin.wait_for_url("**/campaigns")
    form = admin.locator("#new-campaign")
    form.locator("input[name=title]").fill("2027年百名干部破百题")
    form.locator("input[name=year]").fill("2027")
    form.locator("select[name=organiser_unit]").select_option(label="滦南县委组织部")
    form.locator("input[name=deadline]").fill("2027-03-31")
    form.locator("input[name=list_approved]").check()
    form.locator("summary").click()
    form.locator("input[name=key_prefix]").fill("2027-")
    form.locator("button[type=submit]").click()  # the categories are missing: refused by field
    assert "请至少填写一个类别" in admin.locator("#error-categories").inner_text()
    assert admin.locator("input[name=title]").input_value() == "2027年百名干部破百题"  # kept as typed
    admin.locator("#new-campaign textarea[name=categories]").fill("\n".join(USED))
    admin.locator("#new-campaign button[type=submit]").click()
    admin.wait_for_url("**/campaigns/*")
    assert "已创建榜单" in admin.locator(".flash").first.inner_text()
    assert "滦南县委组织部" in admin.locator("#campaign-facts").inner_text()
    campaign_url = admin.url

    admin.locator("#import-link").click()
    admin.wait_for_url("**/import")
    with admin.expect_download() as template:
        admin.locator("#template").click()
    assert template.value.suggested_filename.endswith("template.xlsx")
    bad = tmp_path / "bad.xlsx"
    rows = [row(n) for n in range(1, 21)]
    rows[6] = row(7, 类别="不存在的类别")  # the sheet's row 8
    bad.write_bytes(workbook(rows))
    admin.set_input_files("#upload input[name=file]", str(bad))
    admin.locator("#upload button[type=submit]").click()
    error = admin.locator("#import-errors tr[data-row='8'][data-column='类别']")
    assert "第 8 行" in error.inner_text() and "类别" in error.inner_text()
    assert admin.locator("#confirm-import").count() == 0  # nothing to import while an error remains
    admin.screenshot(path=str(tmp_path / "import-errors.png"), full_page=True)

    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook([row(n) for n in range(1, 21)]))
    admin.set_input_files("#upload input[name=file]", str(good))
    admin.locator("#upload button[type=submit]").click()
    assert "将导入 20 个问题" in admin.locator("#preview h2").inner_text()
    assert admin.locator("#preview tbody tr").count() == 20
    assert "柏各庄镇" in admin.locator("#preview tr[data-row='2']").inner_text()
    admin.locator("#confirm-import button[type=submit]").click()
    admin.wait_for_url(campaign_url)
    assert "已导入 20 个问题" in admin.locator(".flash").first.inner_text()
    assert admin.locator("#problems tbody tr").count() == 20

    admin.once("dialog", lambda dialog: dialog.accept())  # 「全部发布」 asks first
    admin.locator("#publish-all button[type=submit]").click()
    admin.wait_for_load_state()
    assert "已发布 20 个问题" in admin.locator(".flash").first.inner_text()
    chart = admin.locator("#category-chart")
    assert chart.locator(".bar").count() == len(USED)
    assert chart.locator(f".bar[data-key='{USED[0]}'] .value").inner_text() == "5"
    assert admin.locator("#problems tr[data-status='published']").count() == 20
    admin.screenshot(path=str(tmp_path / "campaign-desk.png"), full_page=True)

    clerk = login("wang", viewport=(390, 844))  # someone who runs nothing reads it on a phone
    clerk.goto(campaign_url + "?by=unit")
    assert clerk.locator("#publish-all").count() == 0 and clerk.locator("#import-link").count() == 0
    assert "滦南县住建局" in clerk.locator("#stats-table").inner_text()
    assert no_sideways_scroll(clerk) <= 1
    clerk.screenshot(path=str(tmp_path / "campaign-phone.png"), full_page=True)
    assert clerk.locator("#problems a").count() == 0  # of no county: 滦南's challenges are not his to open
    admin.locator("#problems a").first.click()
    admin.wait_for_url("**/board/*")
    assert "第1号年度难题" in admin.locator("h1").inner_text()
    assert admin.js_errors == [] and clerk.js_errors == []
    print(f"screenshots in {tmp_path}")
