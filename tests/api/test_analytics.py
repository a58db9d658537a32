"""Where work waits, over HTTP and as the designer's heatmap page."""

from __future__ import annotations

import io
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine import Engine, ManualClock
from engine.tables import WaitDayDone
from tests.engine.test_analytics import REVIEW

from .conftest import Auth, page_login


def reviewed(client: FlaskClient, auth: Auth, clock: ManualClock) -> None:
    """Three reviews: two done after one and three hours, one waiting past its two days."""
    resp = client.post(
        "/api/v1/process-definitions",
        data={"file": [(io.BytesIO(REVIEW), "review.bpmn")]},
        content_type="multipart/form-data",
        headers=auth.headers("admin"),
    )
    assert resp.status_code == 201
    started = [
        client.post(
            "/api/v1/process-instances", json={"process_key": "review"}, headers=auth.headers("wang")
        ).get_json()
        for _ in range(3)
    ]
    for hours, instance in zip((1, 2), started[:2], strict=True):
        clock.advance(timedelta(hours=hours))
        task = instance["open_tasks"][0]["id"]
        assert (
            client.post(
                f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=auth.headers("wang")
            ).status_code
            == 200
        )
    clock.advance(timedelta(days=3))


def test_the_analytics_of_a_process(client: FlaskClient, auth: Auth, clock: ManualClock) -> None:
    reviewed(client, auth, clock)
    body = client.get(
        "/api/v1/process-definitions/review/analytics", headers=auth.headers("admin")
    ).get_json()
    assert body["key"] == "review" and body["until"].startswith(clock.now().isoformat()[:16])
    assert body["items"] == [
        {
            "element_id": "check",
            "name": "审查",
            "passed": 2,
            "wait_p50_s": 3600.0,
            "wait_p95_s": 10800.0,
            "open": 1,
            "overdue": 1,
        }
    ]
    assert (
        client.get("/api/v1/process-definitions/review/analytics", headers=auth.headers("wang")).status_code
        == 403
    )
    assert (
        client.get("/api/v1/process-definitions/nope/analytics", headers=auth.headers("admin")).status_code
        == 404
    )
    bad = client.get(
        "/api/v1/process-definitions/review/analytics?since=2026-05-01T00:00:00Z&until=2026-04-01T00:00:00Z",
        headers=auth.headers("admin"),
    )
    assert bad.status_code == 422 and "since" in bad.get_json()["errors"]


def test_a_period_out_of_range_is_refused_before_any_day_is_counted(
    client: FlaskClient, auth: Auth, engine: Engine, clock: ManualClock
) -> None:
    """Each whole day of a long period is counted once into task_wait_day: a caller asking for
    centuries, or for dates the calendar cannot shift, gets 422 at once, and an unknown process
    404, with nothing counted."""
    reviewed(client, auth, clock)
    for query in (
        "since=0001-01-02T00:00:00Z",  # seven centuries of days
        "until=0001-01-05T00:00:00Z",  # 30 days before it is no date at all
        "since=0001-01-01T00:00:00%2B08:00",  # not a date in UTC
        "since=9999-12-31T00:00:01Z&until=9999-12-31T12:00:00Z",
        "since=2024-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",  # two years
    ):
        resp = client.get(
            f"/api/v1/process-definitions/review/analytics?{query}", headers=auth.headers("admin")
        )
        assert resp.status_code == 422, (query, resp.get_data(as_text=True))
        assert "since" in resp.get_json()["errors"]
    year = "since=2025-03-06T00:00:00Z"
    assert (
        client.get(
            f"/api/v1/process-definitions/nope/analytics?{year}", headers=auth.headers("admin")
        ).status_code
        == 404
    )
    with engine.store.read() as s:
        assert s.scalar(select(func.count()).select_from(WaitDayDone)) == 0
    resp = client.get(f"/api/v1/process-definitions/review/analytics?{year}", headers=auth.headers("admin"))
    assert resp.status_code == 200 and resp.get_json()["items"][0]["passed"] == 2


def test_the_heatmap_page(client: FlaskClient, auth: Auth, engine: Engine, clock: ManualClock) -> None:
    reviewed(client, auth, clock)
    page_login(client, engine, "admin")
    assert "/designer/review/analytics" in client.get("/designer").get_data(as_text=True)
    page = client.get("/designer/review/analytics?days=7").get_data(as_text=True)
    assert "办理分析" in page and "审查" in page and "1 小时" in page and 'class="overdue"' in page
    assert 'class="chip active" href="/designer/review/analytics?days=7"' in page
    page_login(client, engine, "wang")
    assert client.get("/designer/review/analytics").status_code == 403
