"""The instance page and the challenge page in a real browser: a village cadre reads a challenge on a
phone and claims it; the diagram zooms and fits with the path and the current step marked; a starter
discards an accidental draft after confirming. The process is moved on through the REST API (the OA
system acting for each person), so these tests look at the pages only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


class Api:
    """The OA system calling Jiebang as each person (``X-Acting-User``)."""

    def __init__(self, page, server) -> None:
        self.request, self.token = page.request, server.oa_token

    def call(self, method: str, path: str, user: str, body: dict[str, Any] | None = None) -> Any:
        resp = self.request.fetch(
            f"/api/v1{path}",
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "X-Acting-User": user},
            data=body,
        )
        assert resp.ok, (method, path, resp.status, resp.text())
        return resp.json() if resp.text() else None

    def do(self, instance_id: str, element_id: str, user: str, data: dict[str, Any]) -> None:
        tasks = self.call("GET", f"/process-instances/{instance_id}", user)["open_tasks"]
        task = next(t for t in tasks if t["element_id"] == element_id)
        if task["assignee"] is None:
            self.call("POST", f"/tasks/{task['id']}/claim", user)
        self.call("POST", f"/tasks/{task['id']}/complete", user, {"data": data})

    def published(self, title: str, business_key: str) -> str:
        started = self.call(
            "POST",
            "/process-instances",
            "wang",
            {"process_key": "claim_evaluate", "business_key": business_key},
        )
        iid = started["id"]
        deadline = (datetime.now(UTC) + timedelta(days=120)).isoformat()
        self.do(
            iid,
            "submit_problem",
            "wang",
            {
                "title": title,
                "category": "乡村振兴",
                "description": "村集体经济薄弱，闲置农房无人问津。",
                "goals": "一年内盘活闲置农房 30 栋",
                "proposed_deadline": deadline,
                "proposed_points": 60,
                "support_needed": "农业农村局技术指导",
            },
        )
        self.do(iid, "preliminary_review", "zhao", {"decision": "approve", "comment": "符合条件"})
        self.do(
            iid,
            "committee_approval",
            "sun",
            {
                "decision": "approve",
                "points": 60,
                "deadline": deadline,
                "claim_window": "P14D",
                "report_interval": "P30D",
                "milestones": ["摸底登记", "招商对接", "签约运营"],
                "guarantees": "镇里安排启动资金五万元",
            },
        )
        return iid


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_cadre_reads_a_challenge_on_the_board_and_claims_it_from_a_phone(
    login, server, tmp_path: Path
) -> None:
    zhou = login("zhou", viewport=(390, 844))
    api = Api(zhou, server)
    iid = api.published("闲置农房盘活（榜单页）", "P-2026-301")
    zhou.goto("/board")
    zhou.locator(f"article[data-instance-id='{iid}'] h2 a").click()
    zhou.wait_for_url(f"**/board/{iid}")
    assert "没有权限" not in zhou.content()
    assert zhou.locator(".goals").inner_text() == "一年内盘活闲置农房 30 栋"
    assert zhou.locator("ol.milestones li").all_inner_texts() == ["摸底登记", "招商对接", "签约运营"]
    assert "镇里安排启动资金五万元" in zhou.locator(".guarantees").inner_text()
    # published a moment ago with a 14-day window: 14 days 0 hours within its second, 13 days 23 hours after
    countdown = zhou.locator("#countdown").inner_text()
    assert "距揭榜截止还有 14 天 0 小时" in countdown or "距揭榜截止还有 13 天 23 小时" in countdown
    assert no_sideways_scroll(zhou)
    zhou.screenshot(path=str(tmp_path / "challenge-phone.png"), full_page=True)
    zhou.locator("details.claim-form summary").click()
    zhou.fill("form.claim textarea[name=plan]", "联系返乡创业青年，逐栋评估")
    zhou.fill("form.claim textarea[name=pledge]", "一年不盘活 30 栋，自愿扣分")
    zhou.locator("form.claim button[type=submit]").click()
    zhou.wait_for_url(f"**/board/{iid}")
    assert zhou.locator(".flash").first.inner_text().strip() == "揭榜申请已提交"
    assert "周强 · 个人" in zhou.locator("ul.claims").inner_text()
    assert zhou.locator(".claimed").count() == 1 and zhou.locator("details.claim-form").count() == 0
    assert zhou.js_errors == []


def test_the_instance_diagram_zooms_fits_and_marks_the_path(login, server, tmp_path: Path) -> None:
    admin = login("admin", viewport=(1366, 768))
    iid = Api(admin, server).published("闲置农房盘活（流程图）", "P-2026-302")
    admin.goto(f"/instances/{iid}")
    admin.wait_for_selector("#diagram[data-ready='1']")
    assert admin.locator("#diagram .djs-element.jb-current").count() >= 1  # waiting for claims
    assert admin.locator("#diagram .djs-element.jb-done").count() >= 4
    assert (
        admin.locator("#diagram .djs-connection.jb-done").count() >= 3
    )  # the path taken, not just the boxes
    lanes = admin.locator("#diagram .djs-element[data-element-id^='lane_'] text").evaluate_all(
        "texts => texts.map(t => t.textContent)"
    )
    assert "专班" in lanes and "TaskForce" not in lanes

    def zoom() -> float:
        return admin.evaluate(
            "() => { const m = document.querySelector('#diagram .viewport').transform.baseVal.consolidate();"
            " return m ? m.matrix.a : 1; }"
        )

    legible = zoom()
    assert legible >= 0.74  # readable at first sight, not shrunk to the whole diagram
    admin.screenshot(path=str(tmp_path / "instance-desktop.png"), full_page=True)
    admin.click("#zoom-in")
    assert zoom() > legible
    admin.click("#zoom-out")
    admin.click("#zoom-out")
    assert zoom() < legible
    admin.click("#zoom-fit")
    fitted = zoom()
    box = admin.evaluate("() => document.querySelector('#diagram .viewport').getBBox().width")
    assert fitted * box <= admin.locator("#diagram").bounding_box()["width"] + 2
    admin.screenshot(path=str(tmp_path / "instance-fitted.png"))
    assert "揭榜期届满" in admin.locator("tr[data-element='claim_window_closed']").inner_text()
    asked: list[str] = []
    admin.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))  # 立即执行 asks first
    admin.locator("button.run-job").click()
    assert asked and "不能撤销" in asked[0]
    assert admin.locator("tr[data-element='claim_window_closed']").count() == 1  # dismissed: nothing ran
    assert admin.js_errors == []


def test_a_starter_discards_an_accidental_draft(login, server) -> None:
    wang = login("wang", viewport=(1366, 768))
    wang.goto("/inbox")
    wang.fill(".start-form input[name=business_key]", "P-2026-303")
    wang.click("#start-process")
    wang.wait_for_url("**/tasks/**")
    draft = Api(wang, server).call("GET", "/process-instances?business_key=P-2026-303", "wang")["items"][0]
    wang.goto(f"/instances/{draft['id']}")
    assert wang.locator("#withdraw").count() == 0  # nothing was submitted, so nothing to withdraw
    wang.once("dialog", lambda d: d.dismiss())
    wang.click("#discard")
    assert wang.locator("#discard").count() == 1  # changed her mind: still a draft
    wang.once("dialog", lambda d: d.accept())
    wang.click("#discard")
    wang.wait_for_url("**/inbox")
    assert wang.locator(".flash").first.inner_text().strip() == "草稿已撤销"
    wang.goto(f"/instances/{draft['id']}")
    assert wang.locator(".badge[data-status='cancelled']").inner_text().strip() == "已撤销"
    assert "发起人撤销草稿" in wang.locator(".timeline").inner_text()
    assert wang.js_errors == []
