"""The OpenAPI document describes every contract route, and schemathesis finds no 5xx in it."""

from __future__ import annotations

import socket

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from engine import Engine
from tests.conftest import migrated_sqlite

from .conftest import Auth, make_app

EXAMPLES = 6
CONTRACT = [
    ("put", "/users/{username}"),
    ("get", "/users/me"),
    ("get", "/users/{username}"),
    ("get", "/groups"),
    ("post", "/login-links"),
    ("post", "/process-definitions"),
    ("post", "/process-definitions/validate"),
    ("get", "/process-definitions"),
    ("get", "/process-definitions/{key}"),
    ("get", "/process-definitions/{key}/versions/{version}/xml"),
    ("post", "/process-instances"),
    ("get", "/process-instances"),
    ("get", "/process-instances/{instance_id}"),
    ("get", "/process-instances/{instance_id}/history"),
    ("post", "/process-instances/{instance_id}/cancel"),
    ("post", "/messages"),
    ("get", "/tasks"),
    ("get", "/tasks/{task_id}"),
    ("post", "/tasks/{task_id}/claim"),
    ("post", "/tasks/{task_id}/unclaim"),
    ("post", "/tasks/{task_id}/complete"),
    ("post", "/tasks/{task_id}/comments"),
    ("get", "/tasks/{task_id}/comments"),
    ("get", "/jobs"),
    ("post", "/jobs/{job_id}/execute"),
    ("post", "/webhooks"),
    ("get", "/webhooks/{webhook_id}/deliveries"),
    ("get", "/board"),
    ("post", "/board/{instance_id}/claims"),
    ("get", "/scores"),
    ("get", "/leaderboard"),
    ("get", "/scores/export"),
    ("post", "/tasks/{task_id}/transfer"),
    ("post", "/tasks/{task_id}/delegate"),
    ("post", "/tasks/{task_id}/add-signers"),
    ("delete", "/tasks/{task_id}/signers/{username}"),
    ("post", "/tasks/{task_id}/return"),
    ("post", "/tasks/{task_id}/urge"),
    ("post", "/process-instances/{instance_id}/withdraw"),
    ("post", "/process-instances/{instance_id}/cc"),
]


@pytest.fixture(params=["sqlite"])
def database_url(
    request: pytest.FixtureRequest, tmp_path
) -> str:  # the document does not depend on the backend
    return migrated_sqlite(tmp_path)


def test_document_lists_every_contract_route_with_summary_and_errors(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for method, path in CONTRACT:
        op = doc["paths"].get(f"/api/v1{path}", {}).get(method)
        assert op is not None, f"{method.upper()} {path} missing"
        assert op.get("summary"), f"{method.upper()} {path} has no summary"
        assert "401" in op["responses"], f"{method.upper()} {path} does not document 401"
    problem = doc["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)
    assert (
        "multipart/form-data" in doc["paths"]["/api/v1/process-definitions"]["post"]["requestBody"]["content"]
    )


def test_every_schema_has_its_own_name_in_the_document(engine: Engine) -> None:
    """Two schemas of one name are renamed ``Objection1`` and the like, with a warning at every
    start: an OA integrator reading the document cannot tell which is which."""
    import warnings

    from .conftest import make_app

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
    assert not [w for w in caught if "Multiple schemas resolved" in str(w.message)], [
        str(w.message) for w in caught
    ]


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated webhook URLs must not send the test to the network; IP literals still resolve."""
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):  # socket's signature
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in str(host) else socket.AF_INET, str(host).strip("[]"))
        except OSError:
            raise socket.gaierror("no DNS in tests") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors(engine: Engine, auth: Auth, no_dns: None) -> None:
    """Every operation, a bounded number of generated requests each, as an admin."""
    app: Flask = make_app({"ENGINE": engine})
    headers = auth.headers("admin")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= len(CONTRACT)
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            check()
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
