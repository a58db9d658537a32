"""Approval operations from the task page: 抄送 (CC), 转办 (transfer), 退回 (return), 撤回, 加签/减签."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine

from .steps import done, file_problem, open_task, pick_person

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not hasattr(Engine, "copy_to"), reason="the engine has no approval operations yet"),
]

TITLE = "福滩村人居环境整治（审批操作）"


def test_cc_transfer_and_return(login, tmp_path: Path) -> None:
    wang = login("wang")
    file_problem(wang, TITLE, "P-2026-002")

    zhao = login("zhao")
    zhao.goto("/inbox?tab=candidate")
    zhao.locator("tr[data-element='preliminary_review']", has_text=TITLE).locator("a").click()
    zhao.click("#claim")
    zhao.wait_for_selector(".ops")
    instance_url = zhao.locator(".crumbs a").nth(1).get_attribute("href")
    zhao.locator("details[data-op='transfer'] summary").click()
    pick_person(zhao, "details[data-op='transfer'] .person-search", "孙", "sun")
    zhao.fill("details[data-op='transfer'] input[name=comment]", "请孙书记直接审")
    zhao.screenshot(path=str(tmp_path / "transfer.png"), full_page=True)
    zhao.locator("details[data-op='transfer'] button[type=submit]").click()
    done(zhao, "已转办")

    # the starter copies the instance to zhou from the instance page
    wang.goto(instance_url)
    wang.locator("details[data-op='cc'] summary").click()
    wang.fill("details[data-op='cc'] input[name=usernames]", "zhou")
    wang.locator("details[data-op='cc'] button[type=submit]").click()
    assert wang.locator(".flash").first.inner_text().strip() == "已抄送"

    zhou = login("zhou")
    zhou.goto("/inbox?tab=cc")
    row = zhou.locator("table.cc tr", has_text=TITLE)
    assert row.count() == 1 and "未读" in row.inner_text()
    row.locator("a").click()
    zhou.wait_for_selector("#diagram[data-ready='1']")
    zhou.goto("/inbox?tab=cc")
    assert "已读" in zhou.locator("table.cc tr", has_text=TITLE).inner_text()

    sun = login("sun")
    sun.goto("/inbox")
    sun.locator("tr[data-element='preliminary_review']", has_text=TITLE).locator("a").click()
    sun.wait_for_selector(".ops")
    sun.locator("details[data-op='return'] summary").click()
    sun.fill("details[data-op='return'] input[name=comment]", "目标不够具体，请补充")
    sun.locator("details[data-op='return'] button[type=submit]").click()
    done(sun, "已退回")

    # back on wang's desk with what he wrote kept for the redo
    wang.goto("/inbox")
    wang.locator("tr[data-element='submit_problem']", has_text=TITLE).locator("a").click()
    wang.wait_for_selector("#form-editor[data-ready='1']")
    assert wang.input_value("[name='root[title]']") == TITLE
    wang.screenshot(path=str(tmp_path / "returned.png"), full_page=True)
    for p in (wang, zhao, zhou, sun):
        assert p.js_errors == [], p.js_errors


def test_claim_task_then_release_it(login, tmp_path: Path) -> None:
    wang = login("wang")
    file_problem(wang, TITLE + "（签收）", "P-2026-003")
    zhao = login("zhao")
    open_task(zhao, "preliminary_review", tab="candidate", title=TITLE + "（签收）")
    zhao.click("#claim")
    assert zhao.locator(".flash").first.inner_text().strip() == "已签收"
    zhao.click("#unclaim")
    assert zhao.locator(".flash").first.inner_text().strip() == "已退回组任务"
    assert zhao.locator("#claim").count() == 1
    zhao.screenshot(path=str(tmp_path / "released.png"))


def test_starter_withdraws_before_review(login, tmp_path: Path) -> None:
    wang = login("wang")
    file_problem(wang, TITLE + "（撤回）", "P-2026-004")
    wang.goto("/inbox?tab=done")
    wang.locator("tr[data-element='submit_problem']", has_text="（撤回）").locator("a").click()
    wang.locator(".crumbs a").nth(1).click()
    wang.click("#withdraw")
    assert wang.locator(".flash").first.inner_text().strip() == "已撤回"
    assert wang.locator(".open-tasks tr[data-element='submit_problem']", has_text="申报问题").count() == 1
    wang.screenshot(path=str(tmp_path / "withdrawn.png"), full_page=True)


def test_add_signers_then_remove_one(login, tmp_path: Path) -> None:
    wang = login("wang")
    file_problem(wang, TITLE + "（加签）", "P-2026-005")
    zhao = login("zhao")
    open_task(zhao, "preliminary_review", tab="candidate", title=TITLE + "（加签）")
    zhao.click("#claim")
    zhao.wait_for_selector(".ops")
    zhao.locator("details[data-op='add_signers'] summary").click()
    pick_person(zhao, "details[data-op='add_signers'] .person-search", "李明", "li")
    pick_person(zhao, "details[data-op='add_signers'] .person-search", "周", "zhou")
    zhao.select_option("details[data-op='add_signers'] select[name=mode]", "after")
    zhao.locator("details[data-op='add_signers'] button[type=submit]").click()
    zhao.wait_for_selector(".flash")
    assert zhao.locator(".flash").first.inner_text().strip() == "已加签"
    assert zhao.locator(".signers li[data-signer='zhou']").count() == 1
    zhao.locator(".signers li[data-signer='zhou'] button").click()
    zhao.wait_for_selector(".flash")
    assert zhao.locator(".flash").first.inner_text().strip() == "已减签"
    assert "已减签" in zhao.locator(".signers li[data-signer='zhou']").inner_text()
    assert zhao.locator(".comments li[data-kind='remove_sign']").count() == 1
    zhao.screenshot(path=str(tmp_path / "signers.png"), full_page=True)
    assert zhao.js_errors == [], zhao.js_errors
