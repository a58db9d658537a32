"""Every page renders at laptop and phone width, in Chinese by default and in English on request."""

from __future__ import annotations

from pathlib import Path

import pytest

from .steps import file_problem

pytestmark = pytest.mark.browser

PAGES = ("/inbox", "/inbox?tab=done", "/inbox?tab=cc", "/board", "/instances", "/scores", "/designer", "/org")


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)], ids=["laptop", "phone"])
def test_pages_fit_the_screen(login, tmp_path: Path, width: int, height: int) -> None:
    page = login("admin", viewport=(width, height))
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        assert page.get_attribute("html", "lang") == "zh-CN"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at {width}px"
        page.screenshot(
            path=str(tmp_path / f"{path.strip('/').replace('?', '-').replace('=', '-')}-{width}.png"),
            full_page=True,
        )
    assert page.js_errors == [], page.js_errors


def test_english_on_request(login, tmp_path: Path) -> None:
    page = login("zhao")
    page.goto("/inbox?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator(".tab[data-tab='candidate']").inner_text().startswith("Group")
    page.goto("/board")  # remembered in a cookie
    assert page.locator("h1").inner_text() == "Board"
    page.goto("/board?lang=zh_CN")
    assert page.locator("h1").inner_text() == "榜单"
    page.screenshot(path=str(tmp_path / "lang.png"))


def test_pages_need_a_login(login) -> None:
    page = login(None)
    for path in PAGES:
        page.goto(path)
        assert "/login" in page.url, path
    # the designer is for admins only
    user = login("wang")
    assert user.goto("/designer").status == 403


def search(page) -> None:
    """Submit the inbox's filters and wait for the page they load (counting rows before it has
    loaded reads the old page, or none)."""
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")


def test_inbox_tabs_search_and_filter(login, tmp_path: Path) -> None:
    wang = login("wang")
    file_problem(wang, "独一无二的检索标题", "P-2026-SEARCH")
    wang.goto("/inbox?tab=done")
    assert int(wang.locator(".tab[data-tab='done'] .count").inner_text()) >= 1
    wang.fill("input[name=q]", "独一无二")
    search(wang)
    rows = wang.locator("table.tasks tbody tr")
    assert rows.count() == 1 and "独一无二的检索标题" in rows.first.inner_text()
    assert "tab=done" in wang.url
    wang.select_option("select[name=process]", "claim_evaluate")
    search(wang)
    assert wang.locator("table.tasks tbody tr").count() == 1
    wang.fill("input[name=q]", "没有这个标题")
    search(wang)
    assert wang.locator("table.tasks").count() == 0 and wang.locator(".empty").count() == 1
    wang.screenshot(path=str(tmp_path / "inbox-search.png"))


@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)], ids=["desk", "phone"])
def test_task_and_process_names_are_in_the_pages_language_only(
    login, tmp_path: Path, width: int, height: int
) -> None:
    page = login("wang", viewport=(width, height))
    page.goto("/inbox?lang=zh_CN")
    assert page.locator(".start-form select[name=process_key] option:checked").inner_text() == "揭榜挂帅"
    page.fill(".start-form input[name=business_key]", f"NAMES-{width}")
    page.click("#start-process")
    page.wait_for_selector("#form-editor[data-ready='1']")
    assert page.locator("h1").inner_text().startswith("申报问题")
    instance = page.locator(".crumbs a[href^='/instances/']").get_attribute("href")

    page.goto("/inbox?tab=mine")
    assert page.locator("tr[data-element='submit_problem'] a").first.inner_text() == "申报问题"
    page.screenshot(path=str(tmp_path / f"names-inbox-zh-{width}.png"), full_page=True)
    page.goto(instance)
    assert "申报问题" in page.locator(".open-tasks").inner_text()
    page.screenshot(path=str(tmp_path / f"names-instance-zh-{width}.png"), full_page=True)

    page.goto("/inbox?tab=mine&lang=en")
    assert page.locator("tr[data-element='submit_problem'] a").first.inner_text() == "Submit problem"
    assert "Claim and evaluate" in page.locator(".start-form select[name=process_key]").inner_text()
    page.screenshot(path=str(tmp_path / f"names-inbox-en-{width}.png"), full_page=True)
    page.goto(instance)
    assert "Submit problem" in page.locator(".open-tasks").inner_text()
    assert "申报问题" not in page.locator(".open-tasks").inner_text()
    page.screenshot(path=str(tmp_path / f"names-instance-en-{width}.png"), full_page=True)
    page.goto("/inbox?lang=zh_CN")  # the language is remembered in a cookie
    assert page.js_errors == [], page.js_errors
