"""A whole claim-and-evaluate instance walked through the pages, person by person."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .steps import done, file_problem, fill_duration, local_input, open_task, submit_form

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "screenshots"
UPDATE_DOCS = (
    os.environ.get("JIEBANG_UPDATE_SCREENSHOTS") == "1"
)  # refresh the README's pictures on purpose only


def keep(page, tmp_path: Path, name: str) -> None:
    """A screenshot in the test's tmp dir, and in docs/ when asked to refresh the README's (only
    the pictures the README shows)."""
    page.screenshot(path=str(tmp_path / name))
    if UPDATE_DOCS and f"docs/screenshots/{name}" in (ROOT / "README.md").read_text(encoding="utf-8"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / name))


TITLE = "康渝高铁征迁外围协调保障（浏览器）"


def test_claim_and_evaluate_through_the_pages(login, server, tmp_path: Path) -> None:
    # 1. wang files the problem (征集)
    wang = login("wang")
    file_problem(wang, TITLE, "P-2026-001")
    wang.screenshot(path=str(tmp_path / "01-submitted.png"))

    # 2. zhao (task force) reviews: a "return" without a comment is refused at the comment field
    zhao = login("zhao")
    zhao.goto("/inbox?tab=candidate")
    assert int(zhao.locator(".tab[data-tab='candidate'] .count").inner_text()) >= 1
    keep(zhao, tmp_path, "inbox.png")
    open_task(zhao, "preliminary_review", tab="candidate", title=TITLE)
    assert TITLE in zhao.locator(".facts").inner_text()
    zhao.click("#claim")
    zhao.wait_for_selector("#form-editor[data-ready='1']")
    assert zhao.locator(".facts .assignee").inner_text().strip() == "赵专班"
    zhao.select_option("[name='root[decision]']", "return")
    submit_form(zhao)
    zhao.wait_for_selector("#form-editor[data-ready='1']")
    error = zhao.locator(".field-error[data-error-for='comment']")
    assert error.is_visible()
    assert error.inner_text() == "请填写"
    assert zhao.locator("[data-schemapath='root.comment'] .field-error").count() == 1
    zhao.screenshot(path=str(tmp_path / "02-review-error.png"), full_page=True)
    zhao.select_option("[name='root[decision]']", "approve")
    zhao.fill("[name='root[comment]']", "符合条件")
    submit_form(zhao)
    done(zhao)

    # 3. sun (committee) approves with points, deadline and claim window
    sun = login("sun")
    open_task(sun, "committee_approval", tab="candidate", title=TITLE)
    sun.select_option("[name='root[decision]']", "approve")
    sun.fill("[name='root[points]']", "100")
    sun.fill("[name='root[deadline]']", local_input(120))
    fill_duration(sun, "claim_window", 14)
    fill_duration(sun, "report_interval", 30)
    sun.fill("[name='root[guarantees]']", "镇财政保障工作经费")
    submit_form(sun)
    done(sun)

    # 4. zhangjie claims it on the board as a team with li (60/40)
    zhangjie = login("zhangjie")
    zhangjie.goto("/board")
    card = zhangjie.locator("article.card", has_text=TITLE)
    assert card.locator(".points").inner_text().strip() == "100"
    card.locator("summary", has_text="揭榜").click()
    card.locator("input[name=kind][value=team]").check()
    card.locator("input[name=leader_share]").fill("60")
    card.locator(".member-rows input[name=member]").first.fill("li")
    card.locator(".member-rows input[name=share]").first.fill("30")
    assert card.locator(".share-sum.bad").count() == 1  # 90 ≠ 100: the form says so before posting
    card.locator(".member-rows input[name=share]").first.fill("40")
    card.locator("textarea[name=plan]").fill("组建专班，逐户走访")
    card.locator("textarea[name=pledge]").fill("三个月签约，不完成不收兵")
    card.locator("button[type=submit]", has_text="提交揭榜").click()
    zhangjie.wait_for_url("**/board**")
    card = zhangjie.locator("article.card", has_text=TITLE)
    assert (
        "张杰" in card.locator(".claims").inner_text() and "李明 40%" in card.locator(".claims").inner_text()
    )
    keep(zhangjie, tmp_path, "board.png")
    instance_id = card.get_attribute("data-instance-id")

    # 5. the admin closes the claim window now (runs the timer job from the instance page)
    admin = login("admin")
    admin.goto(f"/instances/{instance_id}")
    asked: list[str] = []
    admin.once("dialog", lambda d: (asked.append(d.message), d.accept()))  # running a timer now asks first
    admin.locator("tr[data-element='claim_window_closed'] button.run-job").click()
    admin.wait_for_load_state()
    assert admin.locator(".flash").first.inner_text().strip() == "已执行"
    assert asked and "立即执行" in asked[0]

    # 6. sun picks the team's claim
    open_task(sun, "select_claim", tab="candidate", title=TITLE)
    assert "张杰" in sun.locator(".claim-cards").inner_text()
    sun.locator(".claim-card", has_text="张杰").click()
    sun.fill("[name='root[comment]']", "方案扎实")
    submit_form(sun)
    done(sun)

    # 7. zhangjie reports progress, then the final report and the completion report
    open_task(zhangjie, "progress_report", title=TITLE)
    zhangjie.fill("[name='root[progress_percent]']", "60")
    zhangjie.fill("[name='root[summary]']", "已签约 22 户")
    zhangjie.select_option("[name='root[status_self]']", "on_track")
    submit_form(zhangjie)
    done(zhangjie)
    open_task(zhangjie, "progress_report", title=TITLE)
    zhangjie.fill("[name='root[progress_percent]']", "100")
    zhangjie.fill("[name='root[summary]']", "全部签约")
    zhangjie.select_option("[name='root[status_self]']", "on_track")
    zhangjie.check("[name='root[final]']")
    submit_form(zhangjie)
    done(zhangjie)
    open_task(zhangjie, "completion_report", title=TITLE)
    zhangjie.fill("[name='root[summary]']", "征迁协议全部签订")
    zhangjie.fill("[name='root[results]']", "37 户签约")
    submit_form(zhangjie)
    done(zhangjie)

    # 8. qian (evaluation group) accepts with grade "good"
    qian = login("qian")
    open_task(qian, "acceptance", tab="candidate", title=TITLE)
    qian.select_option("[name='root[decision]']", "pass")
    qian.select_option("[name='root[grade]']", "good")
    submit_form(qian)
    done(qian)

    # 9. the instance shows its path; the scores page shows the points and the chart
    zhangjie.goto(f"/instances/{instance_id}")
    zhangjie.wait_for_selector("#diagram[data-ready='1']")
    assert zhangjie.locator(".badge.status-completed").count() == 1
    assert zhangjie.locator("#diagram .djs-element.jb-done").count() >= 5
    assert zhangjie.locator(".timeline li").count() >= 10
    zhangjie.screenshot(path=str(tmp_path / "09-instance.png"), full_page=True)
    zhangjie.goto("/scores")
    # other tests of the session may have scored the same people: look at this instance's rows
    assert zhangjie.locator("#score-chart .bar[data-username='zhangjie'] rect").count() == 1
    assert zhangjie.locator("#score-chart .bar[data-username='li'] rect").count() == 1
    first = zhangjie.locator("table.leaderboard tbody tr").first
    assert (
        first.get_attribute("data-username") == "zhangjie"
        and float(first.locator(".points").inner_text()) > 0
    )
    assert "张杰" in zhangjie.locator(".title-card.solver").inner_text()
    ours = f"table.ledger tr[data-username='li']:has(a[href$='/board/{instance_id}'])"
    assert zhangjie.locator(ours).count() == 1
    export = zhangjie.request.get(zhangjie.locator("#export").get_attribute("href"))
    assert export.ok and export.body()[:2] == b"PK"
    zhangjie.screenshot(path=str(tmp_path / "10-scores.png"), full_page=True)
    for p in (wang, zhao, sun, zhangjie, admin, qian):
        assert p.js_errors == [], p.js_errors
