"""Every page renders at laptop and phone width, in Chinese by default and in English on request."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PAGES = ("/inbox", "/inbox?tab=done", "/inbox?tab=cc", "/board", "/instances", "/scores", "/designer")


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)], ids=["laptop", "phone"])
def test_pages_fit_the_screen(login, tmp_path: Path, width: int, height: int) -> None:  # noqa: ANN001
    page = login("admin", viewport=(width, height))
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        assert page.get_attribute("html", "lang") == "zh-CN"
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at {width}px"
        page.screenshot(path=str(tmp_path / f"{path.strip('/').replace('?', '-').replace('=', '-')}-{width}.png"), full_page=True)
    assert page.js_errors == [], page.js_errors


def test_english_on_request(login, tmp_path: Path) -> None:  # noqa: ANN001
    page = login("zhao")
    page.goto("/inbox?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator(".tab[data-tab='candidate']").inner_text().startswith("Group")
    page.goto("/board")  # remembered in a cookie
    assert page.locator("h1").inner_text() == "Board"
    page.goto("/board?lang=zh_CN")
    assert page.locator("h1").inner_text() == "榜单"
    page.screenshot(path=str(tmp_path / "lang.png"))


def test_pages_need_a_login(login) -> None:  # noqa: ANN001
    page = login(None)
    for path in PAGES:
        page.goto(path)
        assert "/login" in page.url, path
    # the designer is for admins only
    user = login("wang")
    assert user.goto("/designer").status == 403
