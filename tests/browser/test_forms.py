"""Task forms and decision pages as the people doing the work meet them: nothing shouted before a
submit, one plain error per field after it, durations in days, people by name, the claim chosen
from cards, the proposed points carried over, nobody else's comment, and the acceptance page
showing what is being accepted with nothing decided in advance."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from .steps import done, fill_duration, local_input, open_task, pick_person, submit_form

pytestmark = pytest.mark.browser

TITLE = "福滩村人居环境整治（表单）"
REQUIRED = {
    "title": "问题名称",
    "category": "问题类别",
    "description": "问题描述",
    "goals": "目标要求",
    "proposed_deadline": "建议完成期限",
    "proposed_points": "建议分值",
}


def instance_data(server, instance_id: str) -> dict:
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/process-instances/{instance_id}",
        headers={"Authorization": f"Bearer {server.admin_token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def test_forms_and_decisions_as_people_expect_them(login, server, tmp_path: Path) -> None:
    # wang opens a new application: no error is shown before he submits
    wang = login("wang")
    wang.goto("/inbox")
    wang.fill(".start-form input[name=business_key]", "P-2026-FORMS")
    wang.click("#start-process")
    wang.wait_for_selector("#form-editor[data-ready='1']")
    editor = wang.locator("#form-editor")
    assert wang.locator(".field-error:visible").count() == 0 and wang.locator("#form-errors").is_hidden()
    assert "root" not in editor.inner_text() and "Title" not in editor.inner_text()
    assert editor.locator(".field[data-schemapath='root.description'] textarea").count() == 1
    assert editor.locator("[name='root[proposed_deadline]']").get_attribute("type") == "date"
    assert editor.locator("[name='root[proposed_points]']").get_attribute("inputmode") == "decimal"
    required = editor.locator(".field .req:visible")
    assert required.count() == len(REQUIRED)

    # an empty submit: one plain error under each required field, a summary by their labels
    submit_form(wang)
    for key, label in REQUIRED.items():
        errors = wang.locator(f"[data-schemapath='root.{key}'] .field-error:visible")
        assert errors.count() == 1, key
        assert errors.inner_text() in ("请填写", "请选择")
        assert label in wang.locator("#form-errors").inner_text()
    summary = wang.locator("#form-errors").inner_text()
    assert "required" not in summary and "proposed_points" not in summary and "root" not in summary
    wang.screenshot(path=str(tmp_path / "forms-empty-submit.png"), full_page=True)

    wang.fill("[name='root[title]']", TITLE)
    wang.select_option("[name='root[category]']", "乡村振兴")
    wang.fill("[name='root[description]']", "垃圾乱堆乱放，\n村民意见大。")
    wang.fill("[name='root[goals]']", "半年内建成垃圾分类收运体系")
    wang.fill("[name='root[proposed_deadline]']", local_input(150))
    wang.fill("[name='root[proposed_points]']", "60")
    assert (
        wang.locator(".field-error:visible").count() == 0
    )  # fixed fields lose their errors as they are filled
    submit_form(wang)
    done(wang)

    # zhao reviews: the decision starts empty
    zhao = login("zhao")
    open_task(zhao, "preliminary_review", tab="candidate", title=TITLE)
    zhao.click("#claim")
    zhao.wait_for_selector("#form-editor[data-ready='1']")
    assert "垃圾乱堆乱放" in zhao.locator(".facts").inner_text()
    assert zhao.locator("[name='root[decision]']").input_value() == ""
    zhao.select_option("[name='root[decision]']", "approve")
    zhao.fill("[name='root[comment]']", "情况属实，建议立项")
    submit_form(zhao)
    done(zhao)

    # sun, the committee: points start at the proposed 60, the comment field is his own, 14 days stored as P14D
    sun = login("sun")
    open_task(sun, "committee_approval", tab="candidate", title=TITLE)
    assert sun.locator("[name='root[points]']").input_value() == "60"
    assert sun.locator("[name='root[comment]']").input_value() == ""
    assert sun.locator("[name='root[decision]']").input_value() == ""
    opinions = sun.locator(".opinions").inner_text()
    assert "赵专班" in opinions and "情况属实，建议立项" in opinions
    sun.screenshot(path=str(tmp_path / "forms-committee.png"), full_page=True)
    sun.select_option("[name='root[decision]']", "approve")
    fill_duration(sun, "claim_window", 14)
    fill_duration(sun, "report_interval", 2, "W")
    submit_form(sun)
    done(sun)

    # zhangjie claims it on the board as a team with 李明
    zhangjie = login("zhangjie")
    zhangjie.goto("/board")
    card = zhangjie.locator("article.card", has_text=TITLE)
    instance_id = card.get_attribute("data-instance-id")
    data = instance_data(server, instance_id)
    assert data["claim_window"] == "P14D" and data["report_interval"] == "P2W" and data["points"] == 60
    card.locator("summary", has_text="揭榜").click()
    card.locator("input[name=kind][value=team]").check()
    card.locator("input[name=leader_share]").fill("70")
    card.locator(".member-rows input[name=member]").first.fill("li")
    card.locator(".member-rows input[name=share]").first.fill("30")
    card.locator("textarea[name=plan]").fill("分片包干，先试点后推开")
    card.locator("textarea[name=pledge]").fill("半年见效")
    card.locator("button[type=submit]", has_text="提交揭榜").click()
    zhangjie.wait_for_url("**/board**")

    admin = login("admin")
    admin.goto(f"/instances/{instance_id}")
    admin.once("dialog", lambda d: d.accept())  # running a timer now asks first
    admin.locator("tr[data-element='claim_window_closed'] button.run-job").click()
    admin.wait_for_load_state()
    assert admin.locator(".flash").first.inner_text().strip() == "已执行"

    # sun chooses the claim from its card
    open_task(sun, "select_claim", tab="candidate", title=TITLE)
    card = sun.locator(".claim-card", has_text="张杰")
    assert (
        "李明 30%" in card.inner_text()
        and "分片包干" in card.inner_text()
        and "半年见效" in card.inner_text()
    )
    sun.screenshot(path=str(tmp_path / "forms-select-claim.png"), full_page=True)
    card.click()
    assert card.get_attribute("class").split().count("chosen") == 1
    submit_form(sun)
    done(sun)
    assert instance_data(server, instance_id)["selected"] == 0

    # progress reports, then the completion report
    for percent, state, final in (("50", "at_risk", False), ("100", "on_track", True)):
        open_task(zhangjie, "progress_report", title=TITLE)
        zhangjie.fill("[name='root[progress_percent]']", percent)
        zhangjie.fill("[name='root[summary]']", f"已完成 {percent}% 的村组")
        zhangjie.select_option("[name='root[status_self]']", state)
        if final:
            zhangjie.check("[name='root[final]']")
        submit_form(zhangjie)
        done(zhangjie)
    open_task(zhangjie, "completion_report", title=TITLE)
    zhangjie.fill("[name='root[summary]']", "十二个村组全部建成收运点")
    zhangjie.fill("[name='root[results]']", "垃圾清运率 98%")
    zhangjie.click(".field[data-schemapath='root.evidence_links'] .add-row")
    zhangjie.fill("[name='root[evidence_links][0]']", "https://example.org/futan/photos")
    submit_form(zhangjie)
    done(zhangjie)

    # qian accepts: the page shows what is accepted, and nothing is chosen for her
    qian = login("qian")
    open_task(qian, "acceptance", tab="candidate", title=TITLE)
    completion = qian.locator(".completion").inner_text()
    assert "十二个村组全部建成收运点" in completion and "垃圾清运率 98%" in completion
    assert qian.locator(".completion a[href='https://example.org/futan/photos']").count() == 1
    reports = qian.locator(".reports .report")
    assert reports.count() == 2 and "已完成 50% 的村组" in reports.first.inner_text()
    assert "有风险（黄灯）" in reports.first.inner_text()
    assert "半年内建成垃圾分类收运体系" in qian.locator(".facts").inner_text()
    assert qian.locator("[name='root[decision]']").input_value() == ""
    assert qian.locator("[name='root[grade]']").input_value() == ""
    qian.screenshot(path=str(tmp_path / "forms-acceptance.png"), full_page=True)
    qian.set_viewport_size({"width": 390, "height": 844})
    qian.reload()
    qian.wait_for_selector("#form-editor[data-ready='1']")
    assert qian.evaluate("document.documentElement.scrollWidth") <= 390
    qian.screenshot(path=str(tmp_path / "forms-acceptance-phone.png"), full_page=True)
    for p in (wang, zhao, sun, zhangjie, admin, qian):
        assert p.js_errors == [], p.js_errors


def test_people_are_chosen_by_their_names(login, server) -> None:
    wang = login("wang")
    wang.goto("/inbox")
    wang.fill(".start-form input[name=business_key]", "P-2026-PEOPLE")
    wang.click("#start-process")
    wang.wait_for_selector("#form-editor[data-ready='1']")
    wang.fill("[name='root[title]']", "抄送测试")
    wang.select_option("[name='root[category]']", "其他")
    wang.fill("[name='root[description]']", "说明")
    wang.fill("[name='root[goals]']", "目标")
    wang.fill("[name='root[proposed_deadline]']", local_input(90))
    wang.fill("[name='root[proposed_points]']", "10")
    submit_form(wang)
    done(wang)
    zhao = login("zhao")
    open_task(zhao, "preliminary_review", tab="candidate", title="抄送测试")
    zhao.click("#claim")
    zhao.wait_for_selector("#form-editor[data-ready='1']")
    zhao.locator("details.op[data-op='add_signers'] summary").click()
    pick_person(zhao, "details.op[data-op='add_signers'] .person-search", "李明", "li")
    assert "李明" in zhao.locator("details.op[data-op='add_signers'] .chips").inner_text()
    zhao.locator("details.op[data-op='add_signers'] button[type=submit]").click()
    zhao.wait_for_load_state()
    assert zhao.locator(".flash").first.inner_text().strip() == "已加签"
    assert "李明" in zhao.locator(".signers").inner_text()
    assert zhao.js_errors == [], zhao.js_errors
