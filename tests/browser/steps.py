"""Page steps shared by the browser tests (filling task forms, opening tasks from the inbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def local_input(days: int) -> str:
    """The Beijing calendar day ``days`` ahead, as a date picker takes it."""
    return (datetime.now(UTC) + timedelta(days=days, hours=8)).strftime("%Y-%m-%d")


def fill_duration(page, field: str, count: int, unit: str = "D") -> None:
    """A duration as people enter it: a number and days (D), weeks (W) or months (M)."""
    page.fill(f"[name='root[{field}]']", str(count))
    page.select_option(f"[name='root[{field}][unit]']", unit)


def pick_person(page, field_selector: str, typed: str, username: str) -> None:
    """Type part of a name into a person picker and choose the person from the list."""
    page.fill(field_selector, typed)
    page.locator(f".person-options li[data-username='{username}']").click()


def open_task(page, element_id: str, tab: str = "mine") -> None:
    page.goto(f"/inbox?tab={tab}")
    page.locator(f"tr[data-element='{element_id}'] a").first.click()
    page.wait_for_selector("#form-editor[data-ready='1']")


def submit_form(page) -> None:
    page.click("#complete")
    page.wait_for_load_state()


def done(page, message: str = "任务已完成") -> None:
    page.wait_for_url("**/inbox**")
    assert page.locator(".flash").first.inner_text().strip() == message


def file_problem(page, title: str, business_key: str) -> None:
    """Start claim_evaluate from the inbox and submit the application form (申报表)."""
    page.goto("/inbox")
    page.fill(".start-form input[name=business_key]", business_key)
    page.click("#start-process")
    page.wait_for_selector("#form-editor[data-ready='1']")
    page.fill("[name='root[title]']", title)
    page.select_option("[name='root[category]']", "经济建设")
    page.fill("[name='root[description]']", "福滩村征迁矛盾多，谈判屡次不欢而散。")
    page.fill("[name='root[goals]']", "三个月内完成征迁协议签订")
    page.fill("[name='root[proposed_deadline]']", local_input(150))
    page.fill("[name='root[proposed_points]']", "80")
    page.fill("[name='root[support_needed]']", "法律顾问一名")
    submit_form(page)
    done(page)
