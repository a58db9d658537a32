"""API fixtures: an app on the test's database with a manual clock, a client, and ``auth``
(users with tokens, as request headers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.auth import SESSION_KEY
from engine import Engine, ManualClock
from engine.runtime.clock import iso
from tests.campaigns import CADRES, county
from tests.walk import PEOPLE, PROBLEM


def make_app(config: dict[str, Any]) -> Flask:
    """``create_app`` for tests: several apps are built in one process."""
    return create_app(config)


class Auth:
    """Creates users with tokens; ``auth.headers("zhao")`` is what that person sends."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tokens: dict[str, str] = {}

    def user(
        self,
        username: str,
        groups: list[str] | tuple[str, ...] = (),
        roles: list[str] | tuple[str, ...] = (),
        display_name: str | None = None,
    ) -> dict[str, str]:
        self.engine.upsert_user(username, display_name=display_name, groups=list(groups), roles=list(roles))
        self._tokens[username] = self.engine.create_token(username)
        return self.headers(username)

    def headers(self, username: str, **extra: str) -> dict[str, str]:
        if username not in self._tokens:
            self.user(username)
        return {"Authorization": f"Bearer {self._tokens[username]}", **extra}

    def people(self) -> None:
        """The cast of ``tests/walk.py`` plus an admin and the OA system's service account."""
        for username, (groups, name) in PEOPLE.items():
            self.user(username, groups, display_name=name)
        self.user("admin", roles=["admin"])
        self.user("oa", roles=["oa-service"])


@pytest.fixture
def app(engine: Engine) -> Flask:
    return make_app(
        {"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test", "WEBHOOK_ALLOW_LOOPBACK": False}
    )


def page_login(client: FlaskClient, engine: Engine, username: str, csrf_token: str | None = None) -> None:
    """Log ``username`` in to the pages the way the login form does: a server-side session whose id the cookie carries."""
    sid = engine.open_session(username)
    with client.session_transaction() as session:
        session.clear()
        session[SESSION_KEY] = sid
        if csrf_token:
            session["csrf_token"] = csrf_token


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(engine: Engine) -> Auth:
    a = Auth(engine)
    a.people()
    return a


class HttpWalk:
    """The claim-and-evaluate walk of ``tests/walk.py``, over HTTP."""

    def __init__(self, client: FlaskClient, auth: Auth, clock: ManualClock) -> None:
        self.client, self.auth, self.clock = client, auth, clock
        self.instance_id: str | None = None

    def call(
        self, method: str, path: str, user: str = "admin", expect: int | None = 200, **kwargs: Any
    ) -> Any:
        resp = self.client.open(
            f"/api/v1{path}",
            method=method,
            headers=self.auth.headers(user, **kwargs.pop("headers", {})),
            **kwargs,
        )
        if expect is not None:
            assert resp.status_code == expect, (method, path, resp.status_code, resp.get_data(as_text=True))
        return resp.get_json(silent=True) if resp.mimetype.endswith("json") else resp

    def instance(self) -> dict[str, Any]:
        return self.call("GET", f"/process-instances/{self.instance_id}")

    def task(self, element_id: str) -> dict[str, Any]:
        tasks = [t for t in self.instance()["open_tasks"] if t["element_id"] == element_id]
        assert tasks, f"no open {element_id}: {[t['element_id'] for t in self.instance()['open_tasks']]}"
        return tasks[0]

    def do(self, element_id: str, user: str, data: dict[str, Any], expect: int = 200) -> Any:
        return self.call(
            "POST", f"/tasks/{self.task(element_id)['id']}/complete", user, expect, json={"data": data}
        )

    def submit(self) -> dict[str, Any]:
        inst = self.call(
            "POST",
            "/process-instances",
            "wang",
            201,
            json={"process_key": "claim_evaluate", "business_key": "P-2026-001"},
        )
        self.instance_id = inst["id"]
        return self.do("submit_problem", "wang", PROBLEM)

    def publish(self) -> dict[str, Any]:
        self.submit()
        self.do("preliminary_review", "zhao", {"decision": "approve", "comment": "符合条件"})
        return self.do(
            "committee_approval",
            "sun",
            {
                "decision": "approve",
                "points": 100,
                "deadline": iso(self.clock.now() + timedelta(days=120)),
                "claim_window": "P14D",
                "report_interval": "P30D",
                "milestones": ["摸排", "谈判", "签约"],
                "guarantees": "镇财政保障工作经费",
            },
        )


@pytest.fixture
def walk(client: FlaskClient, auth: Auth, clock: ManualClock) -> HttpWalk:
    return HttpWalk(client, auth, clock)


@pytest.fixture
def luannan(auth: Auth, engine: Engine) -> Auth:
    """滦南县's units and cadres with tokens; 组织部's deputy head runs the campaign (admin@zzb)."""
    county(engine)  # the units first: a scoped role names one
    for username in CADRES:
        auth.user(username, roles=["admin@zzb"] if username == "zzb_admin" else [])
    auth.user("zhao", ["taskforce"])
    auth.user("sun", ["committee"])
    auth.user("qian", ["evaluator"])
    return auth
