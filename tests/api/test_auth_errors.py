"""One rule per test across every route: authentication, acting users, the problem+json shape."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import Engine
from tests.conftest import migrated_sqlite

from .conftest import Auth, make_app

PROBLEM = "application/problem+json"


def api_routes() -> list[tuple[str, str]]:
    app = make_app({"ENGINE": _NoEngine(), "TESTING": True})
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(
            r"<(\w+:)?(\w+)>",
            lambda m: "1" if m.group(2) == "version" or m.group(1) == "int:" else "x",
            rule.rule,
        )
        out.extend((m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return sorted(out)


class _NoEngine:
    """Enough of an Engine to build an app and list its routes."""

    def configure_integration(self, **_: object) -> None:
        pass

    def configure_identity(self, **_: object) -> None:
        pass

    def configure_notifications(self, **_: object) -> None:
        pass

    def observe(self, _observer: object) -> None:  # the metrics' counters subscribe here
        pass


ROUTES = api_routes()


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # these rules do not depend on the backend
    return migrated_sqlite(tmp_path)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_route_requires_a_token(client: FlaskClient, method: str, path: str) -> None:
    resp = client.open(path, method=method, json={})
    assert resp.status_code == 401
    assert resp.mimetype == PROBLEM
    body = resp.get_json()
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == 401
    assert resp.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_a_bad_token_or_scheme_is_401(client: FlaskClient) -> None:
    assert client.get("/api/v1/users/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/users/me", headers={"Authorization": "Basic YTpi"}).status_code == 401


def test_acting_user_only_for_oa_service(client: FlaskClient, auth: Auth) -> None:
    as_oa = client.get("/api/v1/users/me", headers=auth.headers("oa", **{"X-Acting-User": "zhao"}))
    assert as_oa.status_code == 200 and as_oa.get_json()["username"] == "zhao"
    as_admin = client.get("/api/v1/users/me", headers=auth.headers("admin", **{"X-Acting-User": "zhao"}))
    assert as_admin.status_code == 403 and as_admin.mimetype == PROBLEM
    assert (
        client.get("/api/v1/users/me", headers=auth.headers("wang", **{"X-Acting-User": "zhao"})).status_code
        == 403
    )
    assert (
        client.get("/api/v1/users/me", headers=auth.headers("oa", **{"X-Acting-User": "ghost"})).status_code
        == 404
    )
    assert client.get("/api/v1/users/me", headers={"X-Acting-User": "zhao"}).status_code == 401


def test_acting_user_acts_with_that_users_rights(client: FlaskClient, auth: Auth) -> None:
    resp = client.get("/api/v1/jobs", headers=auth.headers("oa", **{"X-Acting-User": "zhao"}))
    assert resp.status_code == 403  # zhao is not an admin, whoever relays him


def test_flask_own_errors_are_problems(client: FlaskClient, auth: Auth) -> None:
    missing = client.get("/api/v1/no-such-thing", headers=auth.headers("wang"))
    assert missing.status_code == 404 and missing.mimetype == PROBLEM and missing.get_json()["status"] == 404
    wrong = client.delete("/api/v1/users/me", headers=auth.headers("wang"))
    assert wrong.status_code == 405 and wrong.mimetype == PROBLEM
    bad = client.post(
        "/api/v1/process-instances",
        data="{not json",
        content_type="application/json",
        headers=auth.headers("wang"),
    )
    assert bad.status_code in (400, 422) and bad.mimetype == PROBLEM


def test_unknown_fields_and_types_are_422_by_field_path(client: FlaskClient, auth: Auth) -> None:
    resp = client.post(
        "/api/v1/process-instances",
        json={"process_key": 5, "surprise": 1, "version": "x"},
        headers=auth.headers("wang"),
    )
    assert resp.status_code == 422 and resp.mimetype == PROBLEM
    assert {"process_key", "surprise", "version"} <= set(resp.get_json()["errors"])
    nested = client.post(
        "/api/v1/board/x/claims",
        json={"kind": "team", "plan": "p", "pledge": "p", "members": [{"username": 3}]},
        headers=auth.headers("wang"),
    )
    assert nested.status_code == 422 and "members.0.username" in nested.get_json()["errors"]
    query = client.get("/api/v1/tasks?scope=everything&per_page=0", headers=auth.headers("wang"))
    assert query.status_code == 422 and {"scope", "per_page"} <= set(query.get_json()["errors"])


def test_oversized_body_is_413(engine: Engine, auth: Auth) -> None:
    small = make_app({"ENGINE": engine, "TESTING": True, "MAX_CONTENT_LENGTH": 1024}).test_client()
    resp = small.post(
        "/api/v1/process-instances",
        json={"process_key": "claim_evaluate", "data": {"blob": "x" * 4096}},
        headers=auth.headers("wang"),
    )
    assert resp.status_code == 413 and resp.mimetype == PROBLEM and resp.get_json()["status"] == 413


def test_unexpected_errors_are_500_problems(
    app: Flask, client: FlaskClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = app.extensions["jiebang"]
    monkeypatch.setattr(engine, "list_groups", lambda: 1 / 0)
    resp = client.get("/api/v1/groups", headers=auth.headers("wang"))
    assert resp.status_code == 500 and resp.mimetype == PROBLEM
    assert "ZeroDivision" not in resp.get_data(as_text=True)  # no internals leak
