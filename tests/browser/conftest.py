"""Browser tests: Debian's chromium driven by Playwright against a real ``jiebang serve`` on loopback.

The server runs once per session on a free port with its own SQLite file; users are made with the
``jiebang`` CLI exactly as an operator would. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.server import jiebang, serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "secret-pass-123"
# username: (groups, display name, roles)
PEOPLE = {
    "wang": ([], "王科长", []),
    "zhao": (["taskforce"], "赵专班", []),
    "sun": (["committee"], "孙书记", []),
    "qian": (["evaluator"], "钱考评", []),
    "zhangjie": ([], "张杰", []),
    "li": ([], "李明", []),
    "zhou": ([], "周强", []),
    "chen": ([], "陈亮", []),  # the organisation page's cadres: posted to counties of their own
    "liu": ([], "刘洋", []),
    "admin": ([], "管理员", ["admin"]),
    "oa": ([], "办公系统", ["oa-service"]),
}
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    base_url: str
    admin_token: str
    oa_token: str
    log: Path
    env: dict[str, str] = field(repr=False, default_factory=dict)


def _run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(jiebang(*args), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"jiebang {' '.join(args)} failed: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not all(
        (REPO / "api" / "static" / "vendor" / lib).is_dir()
        for lib in ("bpmn-js", "dmn-js", "designer", "dompurify")
    ):
        pytest.fail("front-end assets missing: run scripts/setup test (npm ci + scripts/vendor-assets)")
    home = tmp_path_factory.mktemp("jiebang-server")
    env = {
        **os.environ,
        "JIEBANG_DATABASE_URL": f"sqlite:///{home}/jiebang.sqlite3",
        "JIEBANG_PASSWORD": PASSWORD,
        "JIEBANG_SECRET_KEY": "browser-tests-only",
        "JIEBANG_WORKER_INTERVAL": "0.5",
    }
    for username, (groups, display_name, roles) in PEOPLE.items():
        args = ["user", "add", username, "--display-name", display_name, "--password"]
        for g in groups:
            args += ["--group", g]
        for r in roles:
            args += ["--role", r]
        _run_cli(env, *args)
    admin_token = _run_cli(env, "token", "create", "admin").split()[-1]
    oa_token = _run_cli(env, "token", "create", "oa").split()[-1]
    log = home / "serve.log"
    with log.open("w") as out, serving(env, home, probe="/login", log=out) as serve:
        yield Server(serve.base, admin_token, oa_token, log, env)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/setup test (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def login(browser, server: Server) -> Iterator[Callable[..., object]]:
    """``login("zhao")`` → a Page in its own browser context, logged in through the password form."""
    contexts = []

    def open_as(username: str | None, *, viewport: tuple[int, int] = (1280, 900)) -> object:
        ctx = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN", base_url=server.base_url
        )
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors
        if username:
            page.goto("/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_url("**/inbox**")
            assert page.locator(f".me[data-username='{username}']").count() == 1
        return page

    yield open_as
    for ctx in contexts:
        ctx.close()
