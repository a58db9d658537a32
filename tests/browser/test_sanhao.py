"""三好创争 from the pages: 组织部 opens the page from the nav and starts the year for three towns;
each town's 书记 files the plan and a month's study record in the task form; the quarter's KPI
check, the committee review (which shows the quarter's progress) and a panel member's score
sheet render the town's own people; at a desk and on a phone (390 px)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .conftest import _run_cli
from .steps import api, submit_form
from .test_campaigns import no_sideways_scroll, put_unit

pytestmark = pytest.mark.browser

YEAR = 2031  # a year no other browser test uses
TOWNS = {  # code: (name, secretary, deputies)
    "sh_baimi": ("白米镇", "sh_teng", ["sh_xu", "sh_zhu"]),
    "sh_luotang": ("罗塘街道", "sh_luo", ["sh_wu", "sh_qin"]),
    "sh_dalun": ("大伦镇", "sh_xue", ["sh_he", "sh_ma"]),
}
ORGANISER = "sh_zzb"
PANEL = ["sh_ping1", "sh_ping2", "sh_ping3"]
NAMES = {
    ORGANISER: "姜组织",
    "sh_ping1": "评委甲",
    "sh_ping2": "评委乙",
    "sh_ping3": "评委丙",
    "sh_teng": "滕书记",
    "sh_xu": "徐镇长",
    "sh_zhu": "朱副镇长",
    "sh_luo": "罗书记",
    "sh_wu": "吴主任",
    "sh_qin": "秦副主任",
    "sh_xue": "薛书记",
    "sh_he": "何镇长",
    "sh_ma": "马副镇长",
}


def rest(server, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    request = urllib.request.Request(
        f"{server.base_url}/api/v1{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={
            "Authorization": f"Bearer {token or server.admin_token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


def county(server) -> None:
    put_unit(server, "sh_jy", "姜堰区", "county", None)
    put_unit(server, "sh_zzbu", "区委组织部", "department", "sh_jy")
    for code, (name, _, _) in TOWNS.items():
        put_unit(server, code, name, "town", "sh_jy")
    posts = {ORGANISER: ("sh_zzbu", "部长"), **{p: ("sh_zzbu", "评审组成员") for p in PANEL}}
    for code, (_, secretary, deputies) in TOWNS.items():
        posts[secretary] = (code, "书记")
        posts.update({d: (code, post) for d, post in zip(deputies, ("镇长", "副镇长"), strict=True)})
    for username, (unit, post) in posts.items():
        roles = ["admin@sh_jy"] if username == ORGANISER else []
        rest(server, "PUT", f"/users/{username}", {
            "display_name": NAMES[username], "roles": roles, "units": [{"unit": unit, "post": post}]})  # fmt: skip


def log_in(login, server, username: str, viewport: tuple[int, int] = (1280, 900)) -> Any:
    """A login link from the OA (it mints none for an admin, who logs in with a password)."""
    if username == ORGANISER:
        _run_cli(server.env, "user", "passwd", username)
        return login(username, viewport=viewport)
    page = login(None, viewport=viewport)
    link = rest(server, "POST", "/login-links", {"username": username}, token=server.oa_token)
    page.goto(link["url"])
    page.wait_for_url("**/inbox**")
    return page


def task_page(page, instance_id: str, element_id: str, assignee: str | None = None) -> str:
    tasks = api(page, "GET", f"/process-instances/{instance_id}")["open_tasks"]
    [task] = [t for t in tasks if t["element_id"] == element_id and assignee in (None, t["assignee"])]
    page.goto(f"/tasks/{task['id']}")
    page.wait_for_selector("#form-editor[data-ready='1']")
    return task["id"]


def run_due_timer(server, instance_id: str) -> None:
    """Let the month begin: run the instance's waiting timer now (an admin's 立即执行)."""
    jobs = rest(server, "GET", f"/jobs?instance_id={instance_id}")["items"]
    for job in jobs:
        rest(server, "POST", f"/jobs/{job['id']}/execute")


def shoot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}-desk.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_sideways_scroll(page) <= 0, name
    page.screenshot(path=str(tmp_path / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_year_runs_from_the_pages(login, server, tmp_path: Path) -> None:
    county(server)
    organiser = log_in(login, server, ORGANISER)
    organiser.locator(".mainnav a", has_text="三好创争").click()
    organiser.wait_for_url("**/sanhao")
    organiser.goto(f"/sanhao?year={YEAR}")
    form = organiser.locator("#start-sanhao")
    for code in TOWNS:
        form.locator(f"input[name=towns][value={code}]").check()
    for member in PANEL:
        form.locator(f"input[name=panel][value={member}]").check()
    form.locator("input[name=quota_banfu]").fill("2")
    form.locator("button[type=submit]").click()
    organiser.wait_for_url(f"**/sanhao?year={YEAR}")
    rows = organiser.locator("#sanhao-towns tbody tr")
    assert rows.count() == 3
    assert "滕书记" in organiser.locator("tr[data-unit=sh_baimi]").inner_text()
    assert "创争规划" in organiser.locator("tr[data-unit=sh_baimi]").inner_text()
    assert organiser.js_errors == []
    shoot(organiser, tmp_path, "01-sanhao-start")
    organiser.goto(f"/sanhao?year={YEAR}&lang=en")
    assert "Competition plan" in organiser.locator("tr[data-unit=sh_baimi]").inner_text()
    organiser.goto(f"/sanhao?year={YEAR}&lang=zh_CN")
    instance_id = organiser.locator("tr[data-unit=sh_baimi] a").get_attribute("href").rsplit("/", 1)[-1]

    secretary = log_in(login, server, "sh_teng")
    task_page(secretary, instance_id, "file_plan")
    shoot(secretary, tmp_path, "02-plan")
    guide = secretary.locator("[data-schemapath='root.guide_items'] input[type=checkbox]")
    assert guide.count() == 27  # the positive guide list, to tick
    api(secretary, "POST", f"/tasks/{task_page(secretary, instance_id, 'file_plan')}/complete", {"data": {
        "guide_items": ["理论学习中心组学习制度化"], "plan_summary": "班长带头、班副出力。",
        "targets": {"foreign_capital": 5000, "industrial_investment": 200000, "invoiced_sales": 1000000}}})  # fmt: skip

    run_due_timer(server, instance_id)  # January
    task_page(secretary, instance_id, "study_record")
    secretary.fill("[name='root[study_topic]']", "领导班子建设规划纲要")
    secretary.fill("[name='root[study_date]']", f"{YEAR}-01-10")
    secretary.fill("[name='root[study_attendance]']", "12")
    secretary.fill("[name='root[study_notes]']", "班子成员逐一交流。")
    submit_form(secretary)
    secretary.wait_for_url("**/inbox**")
    month = {"rating": "green", "review_summary": "按计划推进。", "actions": []}
    talk = {"interviewee": "sh_xu", "interview_topic": "分管工作", "interview_notes": "肯定成绩。"}
    for element, data in (("committee_review", month), ("secretary_interview", talk)):
        api(
            secretary, "POST", f"/tasks/{task_page(secretary, instance_id, element)}/complete", {"data": data}
        )
    study = {
        "study_topic": "学习",
        "study_date": f"{YEAR}-02-10",
        "study_attendance": 10,
        "study_notes": "交流。",
    }
    for _month in (2, 3):
        run_due_timer(server, instance_id)
        if _month == 3:
            task_page(secretary, instance_id, "kpi_check")
            shoot(secretary, tmp_path, "03-kpi-check")
            kpis = {
                k: {"target": 1000, "actual": 800}
                for k in ("foreign_capital", "industrial_investment", "invoiced_sales")
            }
            api(secretary, "POST", f"/tasks/{task_page(secretary, instance_id, 'kpi_check')}/complete",
                {"data": {"kpis": kpis}})  # fmt: skip
        api(
            secretary,
            "POST",
            f"/tasks/{task_page(secretary, instance_id, 'study_record')}/complete",
            {"data": study},
        )
        if _month == 3:
            task_page(secretary, instance_id, "committee_review")
            assert "2031-Q1点调" in secretary.locator("#form-editor").inner_text()  # the quarter's progress
            shoot(secretary, tmp_path, "04-committee-review")
        for element, data in (("committee_review", month), ("secretary_interview", talk)):
            api(
                secretary,
                "POST",
                f"/tasks/{task_page(secretary, instance_id, element)}/complete",
                {"data": data},
            )
    assert api(secretary, "GET", f"/process-instances/{instance_id}")["open_tasks"] == []  # April waits
    for number in range(4, 13):  # the rest of the year, quickly
        run_due_timer(server, instance_id)
        if number % 3 == 0:
            api(secretary, "POST", f"/tasks/{task_page(secretary, instance_id, 'kpi_check')}/complete",
                {"data": {"kpis": kpis}})  # fmt: skip
        for element, data in (
            ("study_record", study),
            ("committee_review", month),
            ("secretary_interview", talk),
        ):
            api(
                secretary,
                "POST",
                f"/tasks/{task_page(secretary, instance_id, element)}/complete",
                {"data": data},
            )
    api(secretary, "POST", f"/tasks/{task_page(secretary, instance_id, 'self_report')}/complete",
        {"data": {"report": "全年实绩。"}})  # fmt: skip
    assert secretary.js_errors == []

    member = log_in(login, server, "sh_ping1")
    task_page(member, instance_id, "score_subjects", "sh_ping1")
    assert member.locator("[data-schemapath='root.banzi.leading'] input").count() == 1
    deputies = member.locator("[data-schemapath='root.banfu'] select")  # one row per 班副 of the town
    chosen = deputies.evaluate_all("all => all.map(s => s.options[s.selectedIndex].text)")
    assert chosen == ["徐镇长", "朱副镇长"]
    shoot(member, tmp_path, "05-scoring")
    member.goto(member.url + "?lang=en")
    member.wait_for_selector("#form-editor[data-ready='1']")
    assert "Leadership" in member.locator("#form-editor").inner_text()
    member.screenshot(path=str(tmp_path / "06-scoring-en.png"), full_page=True)
    organiser.goto(f"/instances/{instance_id}")
    organiser.screenshot(path=str(tmp_path / "07-instance.png"), full_page=True)
    assert member.js_errors == [] and organiser.js_errors == []
