"""The 考评组's page in a browser: the organiser opens the year-end assessment of a published list;
the evaluator gives verdicts in one sitting, a row without its required comment is refused beside
it while the other rows are done and what was typed stays; someone outside the 考评组 gets a page
that says so with a way back; at a desk and on a phone (390 px)."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.campaigns import workbook

from .conftest import _run_cli
from .test_campaigns import COUNTY, USED, no_sideways_scroll, put_unit, row

pytestmark = pytest.mark.browser

EVALUATOR = "ln_kaoping"  # a member of 滦南's 考评组: the county's items are the ones she judges


def api(
    server, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
) -> Any:
    request = urllib.request.Request(
        f"{server.base_url}/api/v1{path}",
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {server.admin_token}", "Content-Type": content_type},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def published_list(server, count: int) -> int:
    """A campaign of ``count`` published problems, set up over the REST API as an admin."""
    for code, (name, kind, parent) in COUNTY.items():
        put_unit(server, code, name, kind, parent)
    prefix = f"YE{uuid.uuid4().hex[:6]}-"
    campaign = api(server, "POST", "/campaigns", json.dumps({
        "title": "2027年年终考评榜单", "year": 2027, "organiser_unit": "cp_zzb", "categories": USED,
        "key_prefix": prefix, "list_approved": True}).encode())  # fmt: skip
    boundary = uuid.uuid4().hex
    content = workbook([row(n) for n in range(1, count + 1)])
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="list.xlsx"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    api(
        server,
        "POST",
        f"/campaigns/{campaign['id']}/problems/import",
        body,
        f"multipart/form-data; boundary={boundary}",
    )
    api(server, "POST", f"/campaigns/{campaign['id']}/publish", b"{}")
    _run_cli(server.env, "user", "add", EVALUATOR, "--display-name", "滦南考评员", "--password",
             "--group", "evaluator", "--post", "cp_zzb:考评组成员:科级")  # fmt: skip
    return int(campaign["id"])


def test_the_evaluation_group_assesses_a_whole_list_in_one_sitting(login, server, tmp_path: Path) -> None:
    campaign_id = published_list(server, 4)
    url = f"/campaigns/{campaign_id}/assessment"
    admin = login("admin", viewport=(1366, 768))
    admin.goto(f"/campaigns/{campaign_id}")
    admin.locator("#assessment-link").click()
    admin.wait_for_url(f"**{url}")
    admin.locator("#open-assessment button[type=submit]").click()
    admin.wait_for_load_state()
    assert "已为 4 个事项开启年终考评" in admin.locator(".flash").first.inner_text()

    qian = login(EVALUATOR, viewport=(1366, 768))
    qian.goto(url)
    rows = qian.locator("#assessment-items tbody tr")
    assert rows.count() == 4 and qian.locator("#count-open").inner_text() == "4"
    assert (
        "柏各庄镇" in qian.locator("#assessment-items tr[data-number='1']").inner_text()
    )  # the lead unit by name
    qian.locator("tr[data-number='1'] input[value=solved]").check()
    qian.locator("tr[data-number='2'] input[value=carry_over]").check()  # no comment: refused
    qian.locator("tr[data-number='3'] input[value=unsolved]").check()
    qian.locator("tr[data-number='3'] textarea").fill("资金未落实")
    with qian.expect_navigation():
        qian.locator("#submit-verdicts").click()
    assert "已提交 2 项考评结论" in qian.locator(".flash").first.inner_text()
    refused = qian.locator("tr[data-number='2']")
    assert "须填写考评意见" in refused.locator(".error").inner_text()
    assert refused.locator("input[value=carry_over]").is_checked()  # what was typed stays
    assert qian.locator("tr[data-number='1']").get_attribute("data-verdict") == "solved"
    assert qian.locator("tr[data-number='3']").get_attribute("data-verdict") == "unsolved"
    refused.locator("textarea").fill("跨年度工程")
    qian.locator("#submit-verdicts").click()
    qian.wait_for_load_state()
    assert qian.locator("tr[data-number='2']").get_attribute("data-verdict") == "carry_over"
    assert (
        qian.locator("#count-solved").inner_text() == "1"
        and qian.locator("#count-carried").inner_text() == "1"
    )
    qian.screenshot(path=str(tmp_path / "assessment-desk.png"), full_page=True)

    phone = login(EVALUATOR, viewport=(390, 844))
    phone.goto(url)
    assert no_sideways_scroll(phone) <= 1
    phone.locator("tr[data-number='4'] input[value=solved]").check()
    phone.locator("#submit-verdicts").click()
    phone.wait_for_load_state()
    assert phone.locator("tr[data-number='4']").get_attribute("data-verdict") == "solved"
    phone.screenshot(path=str(tmp_path / "assessment-phone.png"), full_page=True)
    phone.locator("tr[data-number='4'] td a").first.click()  # the item's history
    phone.wait_for_url("**/instances/*")

    clerk = login("wang", viewport=(390, 844))
    response = clerk.goto(url)
    assert response is not None and response.status in (403, 404)
    if response.status == 403:
        assert "考评组" in clerk.locator("#assessment-forbidden").inner_text()
        clerk.locator("#assessment-forbidden a").click()
        clerk.wait_for_url(f"**/campaigns/{campaign_id}")
    assert admin.js_errors == [] and qian.js_errors == [] and phone.js_errors == []
    print(f"screenshots in {tmp_path}")
