"""Page steps shared by the browser tests (filling task forms, opening tasks from the inbox)."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path


def local_input(days: int) -> str:
    """The Beijing calendar day ``days`` ahead, as a date picker takes it."""
    return (datetime.now(UTC) + timedelta(days=days, hours=8)).strftime("%Y-%m-%d")


def local_deadline(days: int) -> str:
    """The end of the Beijing day ``days`` ahead, as the pages send a date field to the API."""
    return local_input(days) + "T23:59:00+08:00"


def fill_duration(page, field: str, count: int, unit: str = "D") -> None:
    """A duration as people enter it: a number and days (D), weeks (W) or months (M)."""
    page.fill(f"[name='root[{field}]']", str(count))
    page.select_option(f"[name='root[{field}][unit]']", unit)


def pick_person(page, field_selector: str, typed: str, username: str) -> None:
    """Type part of a name into a person picker and choose the person from the list."""
    page.fill(field_selector, typed)
    page.locator(f".person-options li[data-username='{username}']").click()


def open_task(page, element_id: str, tab: str = "mine", *, title: str | None = None) -> None:
    """Open the ``element_id`` task from the inbox: of the problem titled ``title`` when given (other
    tests file problems on the same server), else the newest."""
    page.goto(f"/inbox?tab={tab}")
    page.locator(f"tr[data-element='{element_id}']", has_text=title).locator("a").first.click()
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


# ---- driving an instance through the REST API, as the logged-in person of a page ---------------
# The pages' own scripts call /api/v1 with the session cookie and the page's CSRF token; these steps
# do the same, so a test can put instances at any step quickly and independently of how a form looks.
PROBLEM = {
    "title": "康渝高铁征迁外围协调保障",
    "category": "经济建设",
    "description": "福滩村征迁矛盾多，谈判屡次不欢而散。",
    "goals": "三个月内完成征迁协议签订",
    "proposed_points": 80,
    "support_needed": "法律顾问一名",
}


def api(page, method: str, path: str, body: dict | None = None) -> dict:
    """``method`` ``/api/v1{path}`` as the page's user; the answer's JSON (fails on an error status)."""
    if page.locator("meta[name=csrf-token]").count() == 0:
        page.goto("/inbox")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    answer = page.request.fetch(f"/api/v1{path}", method=method, data=body, headers={"X-CSRF-Token": token})
    assert answer.ok, f"{method} {path}: {answer.status} {answer.text()}"
    return answer.json() if answer.body() else {}


def open_task_id(page, instance_id: str, element_id: str) -> str:
    """The id of the open ``element_id`` task of an instance."""
    tasks = api(page, "GET", f"/process-instances/{instance_id}")["open_tasks"]
    ids = [t["id"] for t in tasks if t["element_id"] == element_id]
    assert ids, f"no open {element_id} in {instance_id}: {[t['element_id'] for t in tasks]}"
    return ids[0]


def work(page, instance_id: str, element_id: str, data: dict, *, claim: bool = False) -> None:
    """Complete the open ``element_id`` task (taking it from the group first when ``claim``)."""
    task_id = open_task_id(page, instance_id, element_id)
    if claim:
        api(page, "POST", f"/tasks/{task_id}/claim")
    api(page, "POST", f"/tasks/{task_id}/complete", {"data": data})


def start(page, business_key: str, title: str) -> str:
    """Start claim_evaluate; the instance waits at the starter's application form (申报问题)."""
    instance = api(
        page,
        "POST",
        "/process-instances",
        {"process_key": "claim_evaluate", "business_key": business_key, "data": {"title": title}},
    )
    return instance["id"]


def submit(page, instance_id: str, title: str) -> None:
    work(
        page,
        instance_id,
        "submit_problem",
        {**PROBLEM, "title": title, "proposed_deadline": local_deadline(150)},
    )


def review(page, instance_id: str, decision: str = "approve", comment: str = "符合条件") -> None:
    work(page, instance_id, "preliminary_review", {"decision": decision, "comment": comment}, claim=True)


def approve(page, instance_id: str) -> None:
    form = {
        "decision": "approve",
        "points": 100,
        "deadline": local_deadline(120),
        "claim_window": "P14D",
        "report_interval": "P30D",
        "milestones": ["摸排", "谈判", "签约"],
        "guarantees": "镇财政保障工作经费",
    }
    work(page, instance_id, "committee_approval", form, claim=True)


def claim_as_team(page, instance_id: str, partner: str, shares: tuple[int, int] = (60, 40)) -> None:
    """The page's user files a team claim (组团揭榜) with ``partner`` on the board."""
    leader = page.locator(".me").get_attribute("data-username")
    members = [{"username": leader, "share": shares[0]}, {"username": partner, "share": shares[1]}]
    body = {"kind": "team", "members": members, "plan": "组建专班，逐户走访", "pledge": "三个月签约"}
    api(page, "POST", f"/board/{instance_id}/claims", body)


def close_claim_window(admin, instance_id: str) -> None:
    """An admin runs the claim window's timer now (what 立即执行 on the instance page does)."""
    jobs = api(admin, "GET", f"/jobs?instance_id={instance_id}")["items"]
    due = [j for j in jobs if j["element_id"] == "claim_window_closed"]
    assert due, f"no claim window timer in {instance_id}: {jobs}"
    api(admin, "POST", f"/jobs/{due[0]['id']}/execute")


def select_first_claim(page, instance_id: str) -> None:
    work(page, instance_id, "select_claim", {"selected": 0, "comment": "方案扎实"}, claim=True)


def report_progress(page, instance_id: str, percent: int, *, final: bool = False) -> None:
    form = {"progress_percent": percent, "summary": f"已完成 {percent}%", "status_self": "on_track"}
    work(page, instance_id, "progress_report", {**form, "final": final})


def report_completion(page, instance_id: str) -> None:
    form = {"summary": "征迁协议全部签订", "results": "37 户签约", "evidence_links": []}
    work(page, instance_id, "completion_report", form)


def accept(page, instance_id: str) -> None:
    work(page, instance_id, "acceptance", {"decision": "pass", "grade": "good"}, claim=True)


def deploy(server, files: dict[str, bytes]) -> None:
    """Deploy files through the REST API as the admin (multipart, one ``file`` part per file)."""
    boundary = "jiebang-test-boundary"
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
            for name, content in files.items()
        )
        + f"--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/process-definitions",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {server.admin_token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201


SHIPPED = Path(__file__).resolve().parents[2] / "bpmn"


def redeploy_shipped(server) -> None:
    """Deploy the shipped claim-and-evaluate diagrams again, so a test that changed the process
    leaves the next test on the server the process as shipped (as its newest version)."""
    deploy(server, {p.name: p.read_bytes() for p in sorted(SHIPPED.glob("claim_evaluate.*"))})
