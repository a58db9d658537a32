"""The web pages cannot be turned against their users.

Every page of the app's url_map and every path of the OpenAPI document answers with the security
headers (a CSP that runs no inline script, nosniff, no framing, a referrer policy); pages render no
inline script or event handler; ``next`` only ever leads to a same-site path; hostile numbers and
JSON in page forms get a message, never a 500, and file nothing; behind a configured HTTPS proxy
the session cookie is ``Secure``. The route lists come from the app itself, so new pages and API
paths are covered without touching this file.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.extension import EXTENSION_KEY
from api.pages import PAGE_ENDPOINT_PREFIXES
from engine import Engine
from tests.api.conftest import page_login
from tests.walk import PEOPLE, PROBLEM

PASSWORD = "correct-horse-battery"
CSRF = "csrf-for-tests"
PAGE_ENDPOINTS = (*PAGE_ENDPOINT_PREFIXES, "pages_home", "assets.")


# ---- an app with the walk's people, a published challenge and an open review -----------------
@pytest.fixture
def app(engine: Engine) -> Flask:
    for username, (groups, name) in PEOPLE.items():
        engine.upsert_user(username, display_name=name, groups=list(groups))
    engine.upsert_user("admin", display_name="管理员", roles=["admin"])
    engine.set_password("zhou", PASSWORD)
    return create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})


@pytest.fixture
def published(engine: Engine) -> dict[str, str]:
    """A challenge on the board, and a second problem waiting for the task force's review."""
    board = engine.start("claim_evaluate", actor="wang", business_key="SEC-1")
    engine.complete(_open(engine, board.id, "submit_problem"), "wang", PROBLEM)
    engine.complete(
        _open(engine, board.id, "preliminary_review"), "zhao", {"decision": "approve", "comment": "可"}
    )
    engine.complete(
        _open(engine, board.id, "committee_approval"),
        "sun",
        {
            "decision": "approve",
            "points": 100,
            "deadline": "2030-06-30T00:00:00+08:00",
            "claim_window": "P14D",
            "report_interval": "P30D",
            "milestones": ["摸排"],
            "guarantees": "经费",
        },
    )
    review = engine.start("claim_evaluate", actor="wang", business_key="SEC-2")
    engine.complete(_open(engine, review.id, "submit_problem"), "wang", PROBLEM)
    return {
        "instance_id": board.id,
        "task_id": _open(engine, review.id, "preliminary_review"),
        "review_instance": review.id,
    }


def _open(engine: Engine, instance_id: str, element_id: str) -> str:
    return next(t.id for t in engine.get_instance(instance_id).open_tasks if t.element_id == element_id)


def logged_in(app: Flask, username: str) -> FlaskClient:
    """A page client whose session belongs to ``username`` and knows the CSRF token."""
    client = app.test_client()
    page_login(client, app.extensions[EXTENSION_KEY], username, csrf_token=CSRF)
    return client


# ---- every route, filled in from the app's own lists ------------------------------------------
def _path_value(name: str, ids: dict[str, str]) -> str:
    known = {
        "instance_id": ids["instance_id"],
        "task_id": ids["task_id"],
        "key": "claim_evaluate",
        "version": "1",
        "process_key": "claim_evaluate",
        "filename": "claim_evaluate.bpmn",
        "username": "wang",
        "op": "urge",
    }
    return known.get(name, "x")


def fill_rule(rule: str, values: dict[str, str]) -> str:
    """A werkzeug rule (``/tasks/<task_id>``) with its variables filled in."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: quote(values[m.group(1)]), rule)


def page_urls(app: Flask, ids: dict[str, str]) -> list[str]:
    """One GET URL for every page (and static) rule of the url_map."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(PAGE_ENDPOINTS) or "GET" not in (rule.methods or ()):
            continue
        values = {arg: _path_value(arg, ids) for arg in rule.arguments}
        if rule.endpoint == "assets.static":
            values["filename"] = "css/app.css"
        urls.append(fill_rule(rule.rule, values))
    return sorted(set(urls))


def api_urls(app: Flask, ids: dict[str, str]) -> list[str]:
    """One GET URL for every GET path of the OpenAPI document."""
    spec = app.test_client().get("/api/openapi.json").get_json()
    prefix = "/api/v1" if not next(iter(spec["paths"])).startswith("/api/") else ""
    return sorted(
        prefix + re.sub(r"\{([^}]+)\}", lambda m: quote(_path_value(m.group(1), ids)), path)
        for path, ops in spec["paths"].items()
        if "get" in ops
    )


def assert_security_headers(response: Any, where: str) -> None:
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") in (
        "same-origin",
        "no-referrer",
        "strict-origin-when-cross-origin",
    ), where
    csp = dict(
        part.strip().split(" ", 1)
        for part in headers.get("Content-Security-Policy", "").split(";")
        if part.strip()
    )
    scripts = csp.get("script-src", csp.get("default-src", ""))
    assert (
        scripts
        and "'unsafe-inline'" not in scripts
        and "'unsafe-eval'" not in scripts
        and "*" not in scripts.split()
    ), where
    assert csp.get("object-src") == "'none'", where
    assert csp.get("base-uri") == "'self'", where
    assert csp.get("frame-ancestors") == "'none'", where
    assert csp.get("form-action") == "'self'", where
    assert "'unsafe-inline'" not in csp.get("style-src-elem", "'unsafe-inline'"), where


@pytest.mark.parametrize("who", [None, "admin", "zhao"])
def test_every_page_carries_the_security_headers(
    app: Flask, published: dict[str, str], who: str | None
) -> None:
    client = logged_in(app, who) if who else app.test_client()
    urls = page_urls(app, published)
    assert "/board" in urls and f"/tasks/{published['task_id']}" in urls
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert_security_headers(response, f"{who} GET {url} → {response.status_code}")


def test_every_api_response_carries_the_security_headers(
    app: Flask, engine: Engine, published: dict[str, str]
) -> None:
    token = engine.create_token("admin")
    urls = api_urls(app, published)
    assert "/api/v1/process-instances" in urls
    client = app.test_client()
    for url in urls:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert_security_headers(response, f"GET {url} → {response.status_code}")
    for response in (
        client.get("/api/v1/process-instances"),
        client.get("/api/v1/nowhere"),
        client.post(
            "/api/v1/process-instances",
            data="{",
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        ),
    ):
        assert response.status_code >= 400
        assert_security_headers(response, f"error {response.status_code}")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_pages_render_no_inline_script_or_handler(app: Flask, published: dict[str, str]) -> None:
    """The CSP allows no inline script, so a page that had one would break: none may have one."""
    client = logged_in(app, "admin")
    for url in page_urls(app, published):
        response = client.get(url)
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html).group(0))
        assert not EVENT_HANDLER.search(html), (url, EVENT_HANDLER.search(html).group(0))
        assert "javascript:" not in html.lower(), url


# ---- next: only same-site paths ---------------------------------------------------------------
HOSTILE_NEXT = [
    "/inbox\r\nSet-Cookie: planted=1",
    "/\r\n\r\n<script>alert(1)</script>",
    "/board\n",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "/\u200b/evil.example/",
    "/\x7f/evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    " //evil.example",
]


def test_login_ignores_an_unsafe_next(app: Flask) -> None:
    for target in HOSTILE_NEXT:
        client = app.test_client()
        page = client.get("/login", query_string={"next": target})
        assert page.status_code == 200, repr(target)
        assert 'name="next" value="/inbox"' in page.get_data(as_text=True), repr(target)
        with client.session_transaction() as session:
            session["csrf_token"] = CSRF
        done = client.post(
            "/login", data={"username": "zhou", "password": PASSWORD, "next": target, "csrf_token": CSRF}
        )
        assert done.status_code == 302, repr(target)
        assert done.headers["Location"] == "/inbox", repr(target)


def test_login_keeps_a_same_site_next(app: Flask) -> None:
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        session["csrf_token"] = CSRF
    done = client.post(
        "/login",
        data={
            "username": "zhou",
            "password": PASSWORD,
            "next": "/board?category=经济建设",
            "csrf_token": CSRF,
        },
    )
    assert done.status_code == 302 and done.headers["Location"].startswith("/board?category=")


# The OA system's login links already refuse other sites; these still start with one "/".
def test_a_login_link_with_an_unsafe_next_lands_on_the_inbox(app: Flask, engine: Engine) -> None:
    for target in (t for t in HOSTILE_NEXT if t.startswith("/") and not t.startswith("//") and "\\" not in t):
        token = engine.create_login_link("zhou", target)[0]
        response = app.test_client().get(f"/login/link/{token}")
        assert response.status_code == 302 and response.headers["Location"] == "/inbox", repr(target)


# ---- numbers and JSON on page forms -----------------------------------------------------------
@pytest.mark.parametrize("field", ["leader_share", "share"])
def test_a_hostile_team_share_gets_a_message_and_files_nothing(
    app: Flask, engine: Engine, published: dict[str, str], field: str
) -> None:
    instance_id = published["instance_id"]
    client = logged_in(app, "zhangjie")
    for share in ("inf", "-inf", "Infinity", "nan", "NaN", "1e400", "-10", "abc", "", "0x10"):
        form = {
            "csrf_token": CSRF,
            "kind": "team",
            "plan": "组建专班",
            "pledge": "三个月签约",
            "leader_share": "60",
            "member": "li",
            "share": "40",
        }
        form[field] = share
        response = client.post(f"/board/{instance_id}/claims", data=form)
        assert response.status_code == 422, (share, response.get_data(as_text=True)[:300])
        alert = re.search(r'role="alert">(.*?)</div>\s*\n', response.get_data(as_text=True), re.S)
        assert alert and (
            "须为 0 到 100 的数字" in alert.group(1) or "份额合计必须为 100" in alert.group(1)
        ), share
        assert not engine.get_instance(instance_id).data.get("claims"), share


def test_a_fair_team_share_is_filed(app: Flask, engine: Engine, published: dict[str, str]) -> None:
    instance_id = published["instance_id"]
    form = {
        "csrf_token": CSRF,
        "kind": "team",
        "plan": "组建专班",
        "pledge": "三个月签约",
        "leader_share": "62.5",
        "member": "li",
        "share": "37.5",
    }
    response = logged_in(app, "zhangjie").post(f"/board/{instance_id}/claims", data=form)
    assert response.status_code == 302
    [claim] = engine.get_instance(instance_id).data["claims"]
    assert [m["share"] for m in claim["members"]] == [62.5, 37.5]


@pytest.mark.parametrize(
    "raw",
    [
        '{"decision": "approve", "comment": NaN}',
        '{"decision": "approve", "points": Infinity}',
        "[" * 5000 + "]" * 5000,
        '{"decision": ',
        "null",
        "[]",
    ],
)
def test_hostile_form_json_on_a_task_is_refused_on_the_page(
    app: Flask, engine: Engine, published: dict[str, str], raw: str
) -> None:
    task_id = published["task_id"]
    engine.claim(task_id, "zhao")
    response = logged_in(app, "zhao").post(
        f"/tasks/{task_id}/complete", data={"csrf_token": CSRF, "data": raw}
    )
    if raw.startswith("{") and raw.endswith(
        "}"
    ):  # JSON with a number JSON has no form for: the field is named
        field = "comment" if "comment" in raw else "points"
        assert response.status_code == 422 and f'<li data-path="{field}">' in response.get_data(as_text=True)
    else:
        assert response.status_code in (400, 422)
        assert "表单数据无法解析" in response.get_data(as_text=True) or "nest" in response.get_data(
            as_text=True
        )
    assert engine.get_task(task_id).task.status == "open"


HOSTILE_VALUES = [
    "inf",
    "nan",
    "-1",
    "99999999999999999999999",
    "\r\n",
    "../../etc/passwd",
    "%00",
    "x" * 3000,
    "<script>alert(1)</script>",
]


def test_no_page_answers_a_hostile_query_or_form_with_a_500(app: Flask, published: dict[str, str]) -> None:
    """Every page rule, every GET parameter the pages read and every POST form, with junk in each."""
    client = logged_in(app, "admin")
    params = (
        "next",
        "lang",
        "tab",
        "process",
        "q",
        "category",
        "period",
        "version",
        "page",
        "limit",
        "deployed",
    )
    for url in page_urls(app, published):
        for value in HOSTILE_VALUES:
            response = client.get(url, query_string=dict.fromkeys(params, value))
            assert response.status_code < 500, (url, repr(value), response.status_code)
        raw = "&".join(f"{p}=%ED%A0%80%FF%00" for p in params)  # a lone surrogate, a stray byte, a NUL
        response = client.get(f"{url}?{raw}")
        assert response.status_code < 500, (url, raw, response.status_code)
    for rule in app.url_map.iter_rules():  # hostile path variables: unknown ids, huge numbers, dots
        if not rule.endpoint.startswith(PAGE_ENDPOINTS) or not rule.arguments:
            continue
        for value in ("0", "99999999999999999999", "not-an-id", "..", "x" * 300):
            url = fill_rule(rule.rule, dict.fromkeys(rule.arguments, value))
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                response = client.open(
                    url, method=method, data={"csrf_token": CSRF} if method == "POST" else None
                )
                assert response.status_code < 500, (method, url, response.status_code)
    fields = (
        "kind",
        "plan",
        "pledge",
        "leader_share",
        "member",
        "share",
        "text",
        "comment",
        "to",
        "usernames",
        "mode",
        "username",
        "to_element_id",
        "data",
        "process_key",
        "business_key",
        "password",
    )
    for rule in app.url_map.iter_rules():
        if (
            not rule.endpoint.startswith(PAGE_ENDPOINTS)
            or "POST" not in (rule.methods or ())
            or rule.endpoint == "auth.logout"
        ):
            continue
        url = fill_rule(rule.rule, {arg: _path_value(arg, published) for arg in rule.arguments})
        for value in HOSTILE_VALUES:
            form = {"csrf_token": CSRF, **dict.fromkeys(fields, value)}
            response = client.post(url, data=form)
            assert response.status_code < 500, (url, repr(value), response.status_code)
            assert_security_headers(response, f"POST {url}")


def test_a_nul_in_any_page_field_is_refused_and_changes_nothing(
    app: Flask, engine: Engine, published: dict[str, str]
) -> None:
    task_id = published["task_id"]
    client = logged_in(app, "zhao")
    page = client.get("/inbox", query_string={"process": "claim\x00evaluate"})
    assert page.status_code == 422 and "NUL" in page.get_data(as_text=True)
    comment = client.post(f"/tasks/{task_id}/comments", data={"csrf_token": CSRF, "text": "同意\x00"})
    assert comment.status_code == 422 and "NUL" in comment.get_data(as_text=True)
    assert engine.list_comments(task_id, "zhao") == []
    started = client.post(
        "/instances", data={"csrf_token": CSRF, "process_key": "claim_evaluate", "business_key": "K\x00"}
    )
    assert started.status_code == 422
    assert app.test_client().get("/login", query_string={"next": "/\x00"}).status_code == 422
    anonymous = app.test_client()
    with anonymous.session_transaction() as session:
        session["csrf_token"] = CSRF
    login = anonymous.post("/login", data={"username": "zhou\x00", "password": PASSWORD, "csrf_token": CSRF})
    assert login.status_code == 422 and "NUL" in login.get_data(as_text=True)


# ---- cookies behind an HTTPS reverse proxy ----------------------------------------------------
def _session_cookie(response: Any) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


@pytest.mark.parametrize("hops", [1, 2])
def test_behind_an_https_proxy_the_session_cookie_is_secure(engine: Engine, hops: int) -> None:
    engine.upsert_user("zhou", display_name="周强")
    engine.set_password("zhou", PASSWORD)
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test", "PROXY_HOPS": hops})
    client = app.test_client()
    forwarded = {
        "X-Forwarded-Proto": ", ".join(["https"] * hops),
        "X-Forwarded-For": ", ".join(["203.0.113.9"] * hops),
        "X-Forwarded-Host": "jiebang.example.gov.cn",
    }
    page = client.get("/login", headers=forwarded)
    cookie = _session_cookie(page)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert 'action="/login"' in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = client.post(
        "/login", headers=forwarded, data={"username": "zhou", "password": PASSWORD, "csrf_token": token}
    )
    assert done.status_code == 302
    assert "Secure" in _session_cookie(done)
    lang = client.get("/login?lang=en", headers=forwarded)
    assert any(h.startswith("lang=") and "Secure" in h for h in lang.headers.getlist("Set-Cookie"))


def test_without_a_configured_proxy_forwarded_headers_are_not_trusted(engine: Engine) -> None:
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
    page = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    cookie = _session_cookie(page)
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    direct = app.test_client().get("/login", base_url="https://localhost")
    assert "Secure" in _session_cookie(direct)


def test_proxy_hops_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    monkeypatch.setenv("JIEBANG_PROXY_HOPS", "1")
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
    assert app.config["PROXY_HOPS"] == 1
    page = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in _session_cookie(page)
    monkeypatch.setenv("JIEBANG_PROXY_HOPS", "-1")
    with pytest.raises(ValueError, match="PROXY_HOPS"):
        create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
