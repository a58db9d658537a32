"""Idempotency-Key on instance start and task completion: a retry returns the first result."""

from __future__ import annotations

import threading

from flask import Flask

from tests.walk import PROBLEM

from .conftest import Auth, HttpWalk


def test_start_retry_returns_the_first_instance(walk: HttpWalk) -> None:
    body = {"process_key": "claim_evaluate", "business_key": "K-1"}
    first = walk.client.post(
        "/api/v1/process-instances", json=body, headers=walk.auth.headers("wang", **{"Idempotency-Key": "k1"})
    )
    again = walk.client.post(
        "/api/v1/process-instances", json=body, headers=walk.auth.headers("wang", **{"Idempotency-Key": "k1"})
    )
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert walk.call("GET", "/process-instances?business_key=K-1", "wang")["total"] == 1
    other = walk.client.post(
        "/api/v1/process-instances",
        json={**body, "business_key": "K-2"},
        headers=walk.auth.headers("wang", **{"Idempotency-Key": "k1"}),
    )
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]
    # keys belong to their user: zhao's k1 is a different request
    assert (
        walk.client.post(
            "/api/v1/process-instances",
            json=body,
            headers=walk.auth.headers("zhao", **{"Idempotency-Key": "k1"}),
        ).status_code
        == 201
    )


def test_completion_retry_does_not_complete_twice(walk: HttpWalk) -> None:
    inst = walk.call("POST", "/process-instances", "wang", 201, json={"process_key": "claim_evaluate"})
    walk.instance_id = inst["id"]
    task = walk.task("submit_problem")
    headers = walk.auth.headers("wang", **{"Idempotency-Key": "done-1"})
    first = walk.client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": PROBLEM}, headers=headers)
    again = walk.client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": PROBLEM}, headers=headers)
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    events = [
        e["event"] for e in walk.call("GET", f"/process-instances/{inst['id']}/history", "wang")["items"]
    ]
    assert events.count("task.complete") == 1
    # a failed attempt stores nothing: the same key may be retried with a good body after a 422
    review = walk.task("preliminary_review")
    h2 = walk.auth.headers("zhao", **{"Idempotency-Key": "r-1"})
    assert (
        walk.client.post(
            f"/api/v1/tasks/{review['id']}/complete", json={"data": {"decision": "maybe"}}, headers=h2
        ).status_code
        == 422
    )
    assert (
        walk.client.post(
            f"/api/v1/tasks/{review['id']}/complete", json={"data": {"decision": "approve"}}, headers=h2
        ).status_code
        == 200
    )


def test_two_racing_retries_start_one_instance(app: Flask, auth: Auth) -> None:
    body = {"process_key": "claim_evaluate", "business_key": "RACE"}
    headers = auth.headers("wang", **{"Idempotency-Key": "race-1"})
    barrier = threading.Barrier(4)
    results: list[tuple[int, dict]] = []

    def post() -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post("/api/v1/process-instances", json=body, headers=headers)
        results.append((resp.status_code, resp.get_json()))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [code for code, _ in results] == [201] * 4, results
    assert len({r["id"] for _, r in results}) == 1
    engine = app.extensions["jiebang"]
    assert engine.list_instances(business_key="RACE").total == 1
