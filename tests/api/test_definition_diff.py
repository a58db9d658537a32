"""Comparing two versions over HTTP and on the designer's comparison page: ids added, removed and
changed with each change in words, for designers only; unknown versions 404, a first version 422."""

from __future__ import annotations

import io
import json

from flask.testing import FlaskClient

from engine import Engine
from tests.engine.test_definition_diff import FORM, PING, ping_v2

from .conftest import Auth, page_login


def deploy(client: FlaskClient, auth: Auth, xml: str, with_form: bool = False) -> int:
    files = [(io.BytesIO(xml.encode()), "ping.bpmn")]
    if with_form:
        files.append((io.BytesIO(json.dumps(FORM).encode()), "reply.schema.json"))
    resp = client.post(
        "/api/v1/process-definitions",
        data={"file": files},
        content_type="multipart/form-data",
        headers=auth.headers("admin"),
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["version"]


def test_the_diff_of_two_versions(client: FlaskClient, auth: Auth) -> None:
    deploy(client, auth, PING)
    first = client.get("/api/v1/process-definitions/ping/diff", headers=auth.headers("admin"))
    assert first.status_code == 422 and first.mimetype == "application/problem+json"
    assert "from" in first.get_json()["errors"]
    deploy(client, auth, ping_v2(), with_form=True)

    resp = client.get("/api/v1/process-definitions/ping/diff?from=1&to=2", headers=auth.headers("admin"))

    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["from"], body["to"]) == (1, 2)
    assert (body["added"], body["removed"], body["changed"]) == (
        ["check", "f4"],
        [],
        ["answer", "f3", "wait"],
    )
    assert body["elements"]["check"] == {"type": "userTask", "name": "Check", "changes": []}
    assert {"property": "name", "before": "Answer", "after": "Reply"} in body["elements"]["answer"]["changes"]
    assert body["files_added"] == ["reply.schema.json"]
    assert (
        client.get("/api/v1/process-definitions/ping/diff", headers=auth.headers("admin")).get_json() == body
    )


def test_who_may_compare_and_what_is_unknown(client: FlaskClient, auth: Auth) -> None:
    deploy(client, auth, PING)
    deploy(client, auth, ping_v2(), with_form=True)
    assert (
        client.get("/api/v1/process-definitions/ping/diff", headers=auth.headers("wang")).status_code == 403
    )
    for url in ("/api/v1/process-definitions/ping/diff?to=9", "/api/v1/process-definitions/nope/diff"):
        resp = client.get(url, headers=auth.headers("admin"))
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    bad = client.get("/api/v1/process-definitions/ping/diff?from=x", headers=auth.headers("admin"))
    assert bad.status_code == 422


def test_the_comparison_page_says_what_changed_in_words(
    client: FlaskClient, auth: Auth, engine: Engine
) -> None:
    deploy(client, auth, PING)
    deploy(client, auth, ping_v2(), with_form=True)
    page_login(client, engine, "admin")

    listing = client.get("/designer").get_data(as_text=True)
    assert "/designer/ping/compare?to=2" in listing and "与 v1 比较" in listing
    page = client.get("/designer/ping/compare?to=2").get_data(as_text=True)

    assert "新增 2 处，删除 0 处，修改 3 处" in page
    assert "人工任务" in page and "Check" in page
    assert "<del>Answer</del> → <ins>Reply</ins>" in page
    assert "办理期限" in page and "P2D" in page and "定时" in page
    assert "Check → 结束事件" in page  # an unnamed flow by its ends, never its id
    assert "<del>结束事件</del> → <ins>Check</ins>" in page  # where f3 now goes
    assert "userTask" not in page.split('id="compare-xml"')[0]  # types in words, not BPMN names
    english = client.get("/designer/ping/compare?to=2&lang=en").get_data(as_text=True)
    assert "Compare versions" in english and "User task" in english

    only_one = client.get("/designer/claim_evaluate/compare").get_data(as_text=True)
    assert "one version only" in only_one  # the page stays in English (the lang cookie)
    page_login(client, engine, "wang")
    assert client.get("/designer/ping/compare").status_code in (302, 403)
