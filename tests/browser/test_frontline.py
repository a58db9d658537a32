"""五个一线 in a browser: a cadre nominates herself on the form (on a phone), the organisation
department adds a post on the catalogue page, the panel scores her, the organiser picks the post on
the dispatch task's form, the dispatch page shows the post filled with her name and the bars, and
her growth archive lists what happened with links to the instance; at a desk and on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import _run_cli
from .steps import api, work
from .test_campaigns import no_sideways_scroll, put_unit

pytestmark = pytest.mark.browser

COUNTY = {  # code: (name, kind, parent)
    "fl_xp": ("兴平市", "county", None),
    "fl_zzb": ("兴平市委组织部", "department", "fl_xp"),
    "fl_xcj": ("兴平市乡村振兴局", "department", "fl_xp"),
}
PEOPLE = {  # username: (display name, post, groups)
    "fl_org": ("组织部牛部长", "fl_zzb:副部长:科级", "organiser"),
    "fl_judge": ("研判组杨科长", "fl_zzb:干部科科长:科级", ""),
    "fl_head": ("乡村振兴局秦局长", "fl_xcj:局长:处级", ""),
    "fl_cadre": ("孙晓梅", "fl_xcj:副科长:科级", ""),
}


def shoot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    assert no_sideways_scroll(page) <= 1, name


def test_a_cadre_is_nominated_dispatched_and_archived_from_the_pages(login, server, tmp_path: Path) -> None:
    for code, (name, kind, parent) in COUNTY.items():
        put_unit(server, code, name, kind, parent)
    for username, (name, post, group) in PEOPLE.items():
        _run_cli(server.env, "user", "add", username, "--display-name", name, "--password", "--post", post,
                 *(["--group", group] if group else []))  # fmt: skip

    organiser = login("fl_org", viewport=(1366, 768))
    organiser.goto("/frontline/posts")
    form = organiser.locator("#new-post")
    form.locator("select[name=front_line]").select_option(label="乡村振兴")
    form.locator("select[name=unit]").select_option(label="兴平市乡村振兴局")
    form.locator("input[name=title]").fill("产业重点村工作专班")
    form.locator("textarea[name=duties]").fill("驻村推进村集体经济发展")
    form.locator("input[name=capacity]").fill("2")
    form.locator("select[name=supervisor]").select_option(label="乡村振兴局秦局长")
    form.locator("input[name=field]").fill("农业")
    form.locator("button[type=submit]").click()
    organiser.wait_for_load_state()
    assert "已添加岗位" in organiser.locator(".flash").first.inner_text()
    assert organiser.locator("#posts tr[data-post]", has_text="产业重点村工作专班").count() == 1
    shoot(organiser, tmp_path, "posts-desk")

    cadre = login("fl_cadre", viewport=(390, 844))
    cadre.goto("/frontline/nominate")
    nomination = cadre.locator("#nomination")
    nomination.locator("input[name=intake][value=self]").check()
    nomination.locator("select[name=front_line]").select_option(label="乡村振兴")
    nomination.locator("input[name=fields]").fill("农业")
    nomination.locator("textarea[name=reason]").fill("农学硕士，熟悉村集体经济")
    shoot(cadre, tmp_path, "nominate-phone")
    nomination.locator("button[type=submit]").click()
    cadre.wait_for_url("**/instances/**")
    instance_id = cadre.url.rstrip("/").split("/")[-1].split("?")[0]
    assert "已提名" in cadre.locator(".flash").first.inner_text()

    work(organiser, instance_id, "screen_nominee", {"decision": "approve", "panel": ["fl_judge"]}, claim=True)
    judge = login("fl_judge")
    work(judge, instance_id, "assess_nominee",
         {"political": 9, "competence": 8, "weaknesses": 7, "consistency": 9, "recommend": True})  # fmt: skip

    task = [
        t
        for t in api(organiser, "GET", f"/process-instances/{instance_id}")["open_tasks"]
        if t["element_id"] == "dispatch"
    ][0]
    api(organiser, "POST", f"/tasks/{task['id']}/claim")
    organiser.goto(f"/tasks/{task['id']}")
    organiser.wait_for_selector("#form-editor[data-ready='1']")
    post_select = organiser.locator("#form-editor select").first
    assert "兴平市乡村振兴局 · 产业重点村工作专班（空缺 2/2）" in post_select.inner_text()
    post_select.select_option(label="乡村振兴 · 兴平市乡村振兴局 · 产业重点村工作专班（空缺 2/2）")
    shoot(organiser, tmp_path, "dispatch-task-desk")
    organiser.click("#complete")
    organiser.wait_for_load_state()

    organiser.goto("/frontline")
    row = organiser.locator("#frontline-posts tr[data-post]", has_text="产业重点村工作专班")
    assert "1 / 2" in row.inner_text() and "兴平市乡村振兴局" in row.inner_text()
    assert organiser.locator("#line-chart li[data-key=rural]").count() == 1
    assert "孙晓梅" in organiser.locator("#frontline-stints").inner_text()
    shoot(organiser, tmp_path, "dispatch-desk")
    phone = login("fl_org", viewport=(390, 844))
    phone.goto("/frontline")
    shoot(phone, tmp_path, "dispatch-phone")

    cadre.goto("/frontline/people/fl_cadre")
    lines = cadre.locator("#archive tr[data-kind]")
    assert [lines.nth(i).get_attribute("data-kind") for i in range(lines.count())] == [
        "frontline_nomination", "frontline_screening", "frontline_assessment", "frontline_dispatch",
    ]  # fmt: skip
    assert cadre.locator(f"#archive a[href='/instances/{instance_id}']").count() == 4
    shoot(cadre, tmp_path, "archive-phone")
    cadre.goto("/frontline/people/fl_cadre?lang=en")
    assert "growth archive" in cadre.locator("h1").inner_text()
    assert organiser.js_errors == [] and cadre.js_errors == []
