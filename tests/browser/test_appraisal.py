"""三好创争's ranking in a browser: four towns scored by a panel (set up over the REST API), the
organiser reads the ranking with each town's dimension bars, proposes the 好班子 list, and on the
publicity page an objection is filed and upheld, moving the next town up; at a desk and on a
phone (390 px)."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from .conftest import _run_cli
from .test_campaigns import no_sideways_scroll, put_unit

pytestmark = pytest.mark.browser

TOWNS = {"bm": ("白米镇", 85), "lt": ("罗塘街道", 88), "dl": ("大伦镇", 74), "yx": ("淤溪镇", 70)}


def call(
    server, method: str, path: str, body: dict[str, Any] | None, token: str, acting: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if acting:
        headers["X-Acting-User"] = acting
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{server.base_url}/api/v1{path}", data=data, method=method, headers=headers
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def scored_towns(server, uid: str) -> tuple[str, dict[str, str]]:
    """A district of four towns scored on 四强 for 2026 by three cadres; its organiser's username."""
    county, zzb = f"jy{uid}", f"jy{uid}zzb"
    put_unit(server, county, "姜堰区", "county", None)
    put_unit(server, zzb, "区委组织部", "department", county)
    codes = {key: f"{key}{uid}" for key in TOWNS}
    for key, (name, _) in TOWNS.items():
        put_unit(server, codes[key], name, "town", county)
    organiser = f"org{uid}"
    _run_cli(server.env, "user", "add", organiser, "--display-name", "干部科", "--password",
             "--post", f"{zzb}:干部科科长:科级")  # fmt: skip
    call(server, "PUT", f"/users/{organiser}", {"roles": [f"admin@{zzb}"]}, server.admin_token)
    token = _run_cli(server.env, "token", "create", organiser).split()[-1]
    scorers = [f"p{n}{uid}" for n in range(3)]
    for n, scorer in enumerate(scorers):
        call(server, "PUT", f"/users/{scorer}", {"display_name": f"评委{n + 1}",
             "units": [{"unit": zzb, "post": "评议组成员"}]}, server.admin_token)  # fmt: skip
    panel = call(server, "POST", "/appraisal/panels", {"scheme": "四强", "period": "2026",
                 "subjects": list(codes.values()), "scorers": [{"username": s} for s in scorers]}, token)  # fmt: skip
    tokens = {s: call(server, "POST", f"/users/{s}/tokens", {}, server.admin_token)["token"] for s in scorers}
    for key, (_, total) in TOWNS.items():
        for scorer in scorers:
            sheet = {"leading": total, "cohesion": total, "fighting": total, "credibility": total}
            call(server, "POST", f"/appraisal/panels/{panel['id']}/scores", {"subject": codes[key], "scores": sheet},
                 tokens[scorer])  # fmt: skip
    call(server, "POST", f"/appraisal/panels/{panel['id']}/close", None, token)
    return organiser, codes


def test_the_organiser_reads_the_ranking_and_runs_the_publicity(login, server, tmp_path: Path) -> None:
    organiser, codes = scored_towns(server, uuid.uuid4().hex[:6])
    desk = login(organiser, viewport=(1366, 768))
    desk.goto("/appraisal/rankings?scheme=四强&period=2026")
    rows = desk.locator("#ranking tbody tr[data-subject]")
    assert [rows.nth(i).locator(".name").inner_text() for i in range(rows.count())] == [
        "罗塘街道", "白米镇", "大伦镇", "淤溪镇"
    ]  # fmt: skip
    assert rows.nth(0).locator(".total").inner_text() == "88"
    assert rows.nth(0).locator(".breakdown rect").count() == 4  # one segment per standard
    assert "引领力强" in desk.locator("#ranking thead").inner_text()
    desk.locator("input[name=quota]").fill("2")
    with desk.expect_navigation():
        desk.locator("#propose").click()
    entries = desk.locator("#entries tbody tr")
    assert [entries.nth(i).locator(".name").inner_text() for i in range(2)] == ["罗塘街道", "白米镇"]
    desk.locator("select[name=subject]").select_option(codes["bm"])
    desk.locator("textarea[name=reason]").fill("<b>年内发生安全生产事故</b>")
    with desk.expect_navigation():
        desk.locator("#object").click()
    assert (
        "<b>年内发生安全生产事故</b>" in desk.locator("#objections").inner_text()
    )  # shown as typed, escaped
    desk.locator("#objections input[name=note]").fill("经核实属实")
    with desk.expect_navigation():
        desk.locator("#objections button[value=upheld]").click()
    assert [entries.nth(i).locator(".name").inner_text() for i in range(2)] == ["罗塘街道", "大伦镇"]
    assert "异议成立" in desk.locator("#objections").inner_text()
    desk.screenshot(path=str(tmp_path / "publicity-desk.png"), full_page=True)
    desk.goto("/appraisal/rankings?scheme=四强&period=2026")
    assert "好班子（公示中）" in desk.locator(f"#ranking tr[data-subject='{codes['dl']}']").inner_text()
    desk.screenshot(path=str(tmp_path / "ranking-desk.png"), full_page=True)

    phone = login(organiser, viewport=(390, 844))
    phone.goto("/appraisal/rankings?scheme=四强&period=2026")
    assert no_sideways_scroll(phone) <= 1
    phone.screenshot(path=str(tmp_path / "ranking-phone.png"), full_page=True)
    phone.locator(".lists a").first.click()
    phone.wait_for_url("**/appraisal/lists/*")
    assert no_sideways_scroll(phone) <= 1
    phone.screenshot(path=str(tmp_path / "publicity-phone.png"), full_page=True)
    assert "2026 第1名，总分88" in phone.locator("#entries tbody tr").first.inner_text()
    english = login(organiser, viewport=(1366, 768))
    english.goto("/appraisal/rankings?scheme=四强&period=2026&lang=en")
    assert "Rank" in english.locator("#ranking thead").inner_text()
    list_url = phone.url.split("?")[0]
    for page, width in ((english, "desk"), (login(organiser, viewport=(390, 844)), "phone")):
        page.goto(f"{list_url}?lang=en")  # a place in the page's words, not the engine's sentence
        assert "2026: placed 1, total 88" in page.locator("#entries tbody tr").first.inner_text()
        text = page.inner_text("main")
        assert (
            "Proposed list (2 places)" in text and "Reserve: 淤溪镇" in text and "Upheld: 经核实属实" in text
        )
        page.screenshot(path=str(tmp_path / f"publicity-en-{width}.png"), full_page=True)
        page.goto(f"/appraisal/units/{codes['lt']}/archive?lang=en")
        assert "2026: placed 1 of 4, total 88" in page.locator("#archive").inner_text()
        assert no_sideways_scroll(page) <= 1
        page.screenshot(path=str(tmp_path / f"unit-archive-en-{width}.png"), full_page=True)
    assert desk.js_errors == [] and phone.js_errors == []
    print(f"screenshots in {tmp_path}")
