"""The production server a plain ``jiebang serve`` runs: gunicorn with one job loop, a graceful
stop on SIGTERM, and an access log that never shows a login-link token or a bearer token."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from api.server import GRACEFUL_SECONDS, redact
from tests.server import jiebang, serving

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serve")]


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "JIEBANG_DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3",
        "JIEBANG_WORKER_INTERVAL": "0.2",
    }


def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(jiebang(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _children(pid: int) -> list[int]:
    return [
        int(p.parent.name)
        for p in Path("/proc").glob("[0-9]*/stat")
        if p.read_text().rsplit(")", 1)[1].split()[1] == str(pid)
    ]


def test_the_default_server_is_gunicorn_and_stops_on_sigterm_within_seconds(tmp_path: Path) -> None:
    with serving(_env(tmp_path), tmp_path) as serve:
        assert len(_children(serve.proc.pid)) == 1  # the gunicorn master and its one worker
        port = int(serve.base.rsplit(":", 1)[1])
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a kept-alive browser connection
        idle.request("GET", "/login")
        assert idle.getresponse().read()
        started = time.monotonic()
        serve.proc.send_signal(signal.SIGTERM)
        code = serve.proc.wait(timeout=15)
        took = time.monotonic() - started
    # Within the graceful period for requests in flight, plus slack for the master's own exit on a
    # loaded machine; unloaded it takes about 2.5 s.
    assert code == 0 and took < GRACEFUL_SECONDS + 3, (code, took)
    with socket.socket() as again:  # the port is free at once
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
    out = serve.output()
    assert "Starting gunicorn" in out and "Using worker: gthread" in out
    assert out.count("job loop running in worker") == 1


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` comes true within ``seconds`` (polled), for a server still starting."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _job_loop_holders(log: Path) -> list[int]:
    return [
        int(line.rsplit(" ", 1)[1])
        for line in log.read_text().splitlines()
        if "job loop running in worker" in line
    ]


def test_several_workers_run_one_job_loop_between_them(tmp_path: Path) -> None:
    env = _env(tmp_path)
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    with serving(env, tmp_path, log=log, extra=("--workers", "3", "--threads", "2")) as serve:
        # The first worker answers before the master has forked the others on a busy machine.
        assert _within(15, lambda: len(_children(serve.proc.pid)) == 3), _children(serve.proc.pid)
        assert _within(15, lambda: log_path.read_text().count("Booting worker") >= 3)
        assert _within(15, lambda: _job_loop_holders(log_path) != [])
        time.sleep(1.0)  # every worker has tried the job-loop lock by now
        holders = _job_loop_holders(log_path)
        assert len(holders) == 1
        os.kill(holders[0], signal.SIGKILL)  # the holder dies: another worker takes the loop over
        deadline = time.monotonic() + 15
        while len(_job_loop_holders(log_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        after = _job_loop_holders(log_path)
    log.close()
    assert len(after) == 2 and after[1] != holders[0], after


def test_no_secret_reaches_the_access_log(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "JIEBANG_PASSWORD": "correct-horse"}
    _cli(env, tmp_path, "user", "add", "zhao", "--password")
    _cli(env, tmp_path, "user", "add", "oa", "--role", "oa-service")
    oa_token = _cli(env, tmp_path, "token", "create", "oa").split()[-1]
    log = (tmp_path / "serve.log").open("w")
    with serving(env, tmp_path, log=log) as serve:
        made = urllib.request.Request(
            f"{serve.base}/api/v1/login-links",
            data=json.dumps({"username": "zhao"}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {oa_token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(made, timeout=10) as resp:
            link = json.loads(resp.read())["url"]
        link_token = link.rsplit("/", 1)[1]
        with urllib.request.urlopen(link, timeout=10) as resp:  # logs in and lands on the inbox
            assert resp.status == 200
        with pytest.raises(urllib.error.HTTPError):  # a used link, with a token in the query for good measure
            urllib.request.urlopen(f"{link}?token={oa_token}", timeout=10)
        referred = urllib.request.Request(
            f"{serve.base}/login", headers={"Referer": link, "Authorization": f"Bearer {oa_token}"}
        )
        urllib.request.urlopen(referred, timeout=10).read()
    log.close()
    text = serve.output()
    assert serve.exit_code == 0
    assert (
        "/login/link/[redacted]" in text and "POST /api/v1/login-links" in text
    )  # the requests are logged ...
    assert (
        link_token not in text and oa_token not in text and oa_token[3:20] not in text
    )  # ... their secrets are not


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ('"GET /login/link/abcDEF_123-xyz HTTP/1.1" 302', '"GET /login/link/[redacted] HTTP/1.1" 302'),
        ("Authorization: Bearer jb_0123456789abcdef", "Authorization: Bearer [redacted]"),
        (
            "/api/v1/tasks?page=2&access_token=jb_0123456789abcdef&x=1",
            "/api/v1/tasks?page=2&access_token=[redacted]&x=1",
        ),
        ("/api/v1/tasks?per_page=5", "/api/v1/tasks?per_page=5"),
    ],
)
def test_redaction_keeps_the_shape_of_a_log_line(line: str, kept: str) -> None:
    assert redact(line) == kept


def test_a_session_survives_its_worker_being_replaced(tmp_path: Path) -> None:
    """One secret key for the whole server, made before the workers fork: a cookie signed by one worker
    is read by the others and by a worker gunicorn starts after a crash (it was a key per worker)."""
    import http.cookiejar
    import re

    env = {**_env(tmp_path), "JIEBANG_PASSWORD": "correct-horse"}
    _cli(env, tmp_path, "user", "add", "zhao", "--password")
    with serving(env, tmp_path, extra=("--workers", "2", "--threads", "1")) as serve:
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = browser.open(f"{serve.base}/login", timeout=10).read().decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode(
            {"username": "zhao", "password": "correct-horse", "csrf_token": csrf}
        ).encode()
        browser.open(f"{serve.base}/login", data=body, timeout=10).read()
        before = _children(serve.proc.pid)
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _children(serve.proc.pid)
            if len(now) == 2 and not set(now) & set(before):
                break
            time.sleep(0.2)
        pages = []
        while len(pages) < 4 and time.monotonic() < deadline:
            try:
                pages.append(browser.open(f"{serve.base}/inbox", timeout=10).read().decode())
            except OSError:
                time.sleep(0.2)  # the new workers are still loading the app
    assert len(pages) == 4 and all('data-username="zhao"' in page for page in pages)
