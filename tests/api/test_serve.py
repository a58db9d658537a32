"""A real ``jiebang serve`` on loopback: users and tokens from the CLI, then one whole
claim-and-evaluate instance over HTTP with urllib, then SIGTERM."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.server import jiebang, serving
from tests.walk import PEOPLE, PROBLEM

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serve")]


class Server:
    def __init__(self, base: str, env: dict[str, str], cwd: Path) -> None:
        self.base, self.env, self.cwd = base, env, cwd
        self.tokens: dict[str, str] = {}

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            jiebang(*args), env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def call(self, method: str, path: str, user: str, body: Any = None, expect: int = 200) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base}/api/v1{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.tokens[user]}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        assert status == expect, (method, path, status, raw[:500])
        return json.loads(raw) if raw else None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = {
        **os.environ,
        "JIEBANG_DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3",
        "JIEBANG_WORKER_INTERVAL": "0.2",
        "JIEBANG_PASSWORD": "correct-horse",
    }
    with serving(env, tmp_path) as serve:
        yield Server(serve.base, env, tmp_path)
    assert serve.exit_code == 0, serve.output()  # SIGTERM stops it cleanly


def test_whole_claim_and_evaluate_over_http(server: Server) -> None:
    for username, (groups, name) in PEOPLE.items():
        args = ["user", "add", username, "--display-name", name] + [a for g in groups for a in ("--group", g)]
        server.cli(*args)
    server.cli("user", "add", "admin", "--role", "admin", "--password")
    for username in [*PEOPLE, "admin"]:
        server.tokens[username] = server.cli("token", "create", username).split()[-1]

    s = server
    inst = s.call(
        "POST",
        "/process-instances",
        "wang",
        {"process_key": "claim_evaluate", "business_key": "SERVE-1"},
        201,
    )
    iid = inst["id"]

    def do(element_id: str, user: str, data: dict[str, Any]) -> dict[str, Any]:
        tasks = [
            t
            for t in s.call("GET", f"/process-instances/{iid}", user)["open_tasks"]
            if t["element_id"] == element_id
        ]
        assert tasks, element_id
        return s.call("POST", f"/tasks/{tasks[0]['id']}/complete", user, {"data": data})

    do("submit_problem", "wang", PROBLEM)
    review = s.call("GET", "/tasks?scope=candidate", "zhao")["items"][0]
    s.call("POST", f"/tasks/{review['id']}/claim", "zhao")
    do("preliminary_review", "zhao", {"decision": "approve", "comment": "符合条件"})
    deadline = (datetime.now(UTC) + timedelta(days=120)).isoformat()
    do(
        "committee_approval",
        "sun",
        {
            "decision": "approve",
            "points": 100,
            "deadline": deadline,
            "claim_window": "P14D",
            "report_interval": "P30D",
            "milestones": ["摸排", "签约"],
            "guarantees": "经费",
        },
    )
    assert [b["instance_id"] for b in s.call("GET", "/board", "li")["items"]] == [iid]
    s.call(
        "POST",
        f"/board/{iid}/claims",
        "zhangjie",
        {
            "kind": "team",
            "plan": "组建专班",
            "pledge": "三个月签约",
            "members": [{"username": "zhangjie", "share": 60}, {"username": "li", "share": 40}],
        },
        201,
    )
    job = s.call("GET", f"/jobs?instance_id={iid}&kind=timer", "admin")["items"][0]
    s.call("POST", f"/jobs/{job['id']}/execute", "admin", expect=204)
    do("select_claim", "sun", {"selected": 0, "decision": "approve"})
    do(
        "progress_report",
        "zhangjie",
        {"progress_percent": 100, "summary": "完成", "status_self": "on_track", "final": True},
    )
    do("completion_report", "zhangjie", {"summary": "全部签订", "results": "37 户", "evidence_links": []})
    done = do("acceptance", "qian", {"decision": "pass", "grade": "good"})
    assert done["status"] == "completed"
    scores = s.call("GET", "/scores", "li")["items"]
    assert sorted((r["username"], r["points"]) for r in scores) == [("li", 40.0), ("zhangjie", 60.0)]
    events = [
        e["event"] for e in s.call("GET", f"/process-instances/{iid}/history?per_page=200", "wang")["items"]
    ]
    assert events[0] == "instance.start" and "instance.completed" in events


def test_gunicorn_serves_with_the_workers_and_threads_asked_for(tmp_path: Path) -> None:
    """``--workers 2 --threads 2``: gunicorn forks two workers, each answering the API."""
    env = {**os.environ, "JIEBANG_DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3"}
    with serving(env, tmp_path, extra=("--workers", "2", "--threads", "2")) as serve:
        children = [
            p
            for p in Path("/proc").glob("[0-9]*/stat")
            if p.read_text().rsplit(")", 1)[1].split()[1] == str(serve.proc.pid)
        ]
        for _ in range(4):  # one connection each: they land on either worker
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(serve.base + "/api/v1/tasks", timeout=10)
            assert (
                refused.value.code == 401
                and refused.value.headers["Content-Type"] == "application/problem+json"
            )
    assert len(children) == 2
    assert "2 gunicorn workers × 2 threads" in serve.output()
