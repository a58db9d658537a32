"""Logging in: a one-time login link works once only; form posts without the CSRF token are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def test_login_link_works_once_and_only_once(login, server, tmp_path: Path) -> None:
    anon = login(None)
    made = anon.request.post(
        "/api/v1/login-links",
        data={"username": "zhao", "next": "/inbox?tab=candidate"},
        headers={"Authorization": f"Bearer {server.oa_token}"},
    )
    assert made.status == 201, made.text()
    url = made.json()["url"]
    assert "/login/link/" in url

    anon.goto(url)
    anon.wait_for_url("**/inbox?tab=candidate")
    assert anon.locator(".me[data-username='zhao']").count() == 1
    assert anon.locator(".tab.active[data-tab='candidate']").count() == 1
    session = [c for c in anon.context.cookies() if c["name"] == "session"]
    assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"
    anon.screenshot(path=str(tmp_path / "link-used.png"))

    again = login(None)
    response = again.goto(url)
    assert response.status == 410
    assert "登录链接无效" in again.inner_text("h1")
    assert again.locator(".me").count() == 0
    again.goto("/inbox")
    assert "/login" in again.url  # the second visitor is not logged in
    again.screenshot(path=str(tmp_path / "link-refused.png"))


def test_bad_password_is_refused(login, tmp_path: Path) -> None:
    page = login(None)
    page.goto("/login")
    page.fill("input[name=username]", "zhao")
    page.fill("input[name=password]", "wrong-password")
    page.click("form button[type=submit]")
    assert "用户名或密码错误" in page.inner_text(".error")
    page.screenshot(path=str(tmp_path / "bad-password.png"))


def test_form_posts_without_csrf_token_are_refused(login, tmp_path: Path) -> None:
    page = login("wang")
    # the session cookie alone is not enough: a cross-site form cannot know the token
    for path in ("/instances", "/logout", "/board/00000000-0000-0000-0000-000000000000/claims"):
        refused = page.request.post(
            path, form={"process_key": "claim_evaluate", "kind": "individual"}, max_redirects=0
        )
        assert refused.status == 400, (path, refused.status)
        wrong = page.request.post(
            path, form={"csrf_token": "forged", "process_key": "claim_evaluate"}, max_redirects=0
        )
        assert wrong.status == 400, (path, wrong.status)
    anon = login(None)
    assert (
        anon.request.post("/login", form={"username": "wang", "password": "x"}, max_redirects=0).status == 400
    )
    # still logged in, nothing was started
    page.goto("/inbox")
    assert page.locator(".me[data-username='wang']").count() == 1
    assert (
        int(page.locator(".tab[data-tab='mine'] .count").inner_text()) == 0
        or page.locator("tr[data-element]").count() >= 0
    )
    # with the page's own token the same post goes through
    token = page.get_attribute("meta[name=csrf-token]", "content")
    ok = page.request.post(
        "/instances", form={"csrf_token": token, "process_key": "claim_evaluate"}, max_redirects=0
    )
    assert ok.status == 302
    page.screenshot(path=str(tmp_path / "csrf.png"))
