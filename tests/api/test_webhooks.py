"""Webhooks: the outbox, signed posts to a receiver on loopback, retries with back-off, SSRF refusal."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask

from engine import Engine, ManualClock
from engine.integration.transport import FakeTransport

from .conftest import Auth, HttpWalk, make_app

SECRET = "s3cret"


class Receiver:
    """An HTTP server on 127.0.0.1 that records posts and answers with the queued statuses."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(outer.answers.pop(0) if outer.answers else 200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def app(engine: Engine) -> Flask:
    return make_app({"ENGINE": engine, "TESTING": True, "WEBHOOK_ALLOW_LOOPBACK": True})


def test_delivery_signed_and_retried_after_a_500(
    walk: HttpWalk, receiver: Receiver, clock: ManualClock, engine: Engine
) -> None:
    hook = walk.call(
        "POST",
        "/webhooks",
        "admin",
        201,
        json={"url": receiver.url, "events": ["task.created", "task.completed"], "secret": SECRET},
    )
    assert "secret" not in hook
    receiver.answers = [500]
    walk.call(
        "POST",
        "/process-instances",
        "wang",
        201,
        json={"process_key": "claim_evaluate", "business_key": "W-1"},
    )
    jobs = walk.call("GET", "/jobs?kind=webhook")["items"]
    assert len(jobs) == 1  # written with the step that created the task (outbox)

    assert engine.run_due_jobs() == 1
    failed = walk.call("GET", f"/webhooks/{hook['id']}/deliveries")["items"][0]
    assert failed["status"] == "pending" and failed["attempts"][0]["status_code"] == 500
    job = walk.call("GET", "/jobs?kind=webhook")["items"][0]
    assert job["attempts"] == 1 and job["last_error"] == "HTTP 500"
    assert engine.run_due_jobs() == 0  # backing off
    clock.advance(seconds=6)
    assert engine.run_due_jobs() == 1

    delivery = walk.call("GET", f"/webhooks/{hook['id']}/deliveries")["items"][0]
    assert delivery["status"] == "delivered" and [a["status_code"] for a in delivery["attempts"]] == [
        500,
        200,
    ]
    assert walk.call("GET", "/jobs?kind=webhook")["total"] == 0
    headers, body = receiver.received[-1]
    assert headers["X-Jiebang-Event"] == "task.created"
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Jiebang-Signature"], expected)
    payload = json.loads(body)
    assert payload["event"] == "task.created" and payload["data"]["element_id"] == "submit_problem"
    assert payload["instance"]["business_key"] == "W-1"


def test_deliveries_go_through_the_engines_transport(
    walk: HttpWalk, clock: ManualClock, engine: Engine
) -> None:
    """No server and no DNS: a fake transport takes the posts, and the outbox retries what it refused."""
    transport = FakeTransport(statuses=[503, 200])
    engine.transport = transport
    hook = walk.call(
        "POST",
        "/webhooks",
        "admin",
        201,
        json={"url": "https://oa.example.invalid/hook", "events": ["task.created"], "secret": SECRET},
    )
    walk.call(
        "POST",
        "/process-instances",
        "wang",
        201,
        json={"process_key": "claim_evaluate", "business_key": "F-1"},
    )

    assert engine.run_due_jobs() == 1
    clock.advance(seconds=6)
    assert engine.run_due_jobs() == 1

    delivery = walk.call("GET", f"/webhooks/{hook['id']}/deliveries")["items"][0]
    assert delivery["status"] == "delivered" and [a["status_code"] for a in delivery["attempts"]] == [
        503,
        200,
    ]
    sent = transport.posted[-1]
    assert sent.url == "https://oa.example.invalid/hook" and sent.event == "task.created"
    assert sent.signature == "sha256=" + hmac.new(SECRET.encode(), sent.body, hashlib.sha256).hexdigest()
    assert json.loads(sent.body)["instance"]["business_key"] == "F-1"


def test_the_fake_transport_refuses_what_is_not_an_http_url(walk: HttpWalk, engine: Engine) -> None:
    transport = FakeTransport()
    engine.transport = transport
    refused = walk.call(
        "POST",
        "/webhooks",
        "admin",
        422,
        json={"url": "ftp://oa.example.invalid/hook", "events": ["task.created"], "secret": SECRET},
    )
    assert "url" in refused["errors"]
    assert transport.posted == []


def test_completion_and_cancel_events_and_execute_now(walk: HttpWalk, receiver: Receiver) -> None:
    walk.call(
        "POST",
        "/webhooks",
        "admin",
        201,
        json={"url": receiver.url, "events": ["task.completed", "instance.cancelled"], "secret": SECRET},
    )
    walk.submit()
    inst = walk.instance()
    walk.call("POST", f"/process-instances/{inst['id']}/cancel", "wang", json={"reason": "撤销"})
    jobs = walk.call("GET", "/jobs?kind=webhook")["items"]
    assert len(jobs) == 2
    for job in jobs:
        walk.call("POST", f"/jobs/{job['id']}/execute", "admin", 204)
    assert sorted(h["X-Jiebang-Event"] for h, _ in receiver.received) == [
        "instance.cancelled",
        "task.completed",
    ]


def test_loopback_and_private_targets_refused_unless_allowed(engine: Engine, auth: Auth) -> None:
    client = make_app({"ENGINE": engine, "TESTING": True, "WEBHOOK_ALLOW_LOOPBACK": False}).test_client()
    for url in (
        "http://127.0.0.1:9/x",
        "http://10.0.0.8/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://localhost/x",
        "ftp://example.com/",
    ):
        resp = client.post(
            "/api/v1/webhooks",
            json={"url": url, "events": ["task.created"], "secret": "s"},
            headers=auth.headers("admin"),
        )
        assert resp.status_code == 422 and "url" in resp.get_json()["errors"], url
    bad = client.post(
        "/api/v1/webhooks",
        json={"url": "http://x", "events": ["nope"], "secret": ""},
        headers=auth.headers("admin"),
    )
    assert bad.status_code == 422 and {"events.0", "secret"} <= set(bad.get_json()["errors"])
    assert (
        client.post(
            "/api/v1/webhooks",
            json={"url": "http://x", "events": ["task.created"], "secret": "s"},
            headers=auth.headers("wang"),
        ).status_code
        == 403
    )
    assert client.get("/api/v1/webhooks/nope/deliveries", headers=auth.headers("admin")).status_code == 404


def test_delivery_time_check_refuses_a_target_that_turned_private(
    walk: HttpWalk, receiver: Receiver, engine: Engine
) -> None:
    """DNS rebinding: the target is checked again before each post."""
    hook = walk.call(
        "POST",
        "/webhooks",
        "admin",
        201,
        json={"url": receiver.url, "events": ["task.created"], "secret": SECRET},
    )
    walk.call("POST", "/process-instances", "wang", 201, json={"process_key": "claim_evaluate"})
    engine.configure_integration(allow_private_webhooks=False)
    engine.run_due_jobs()
    attempt = walk.call("GET", f"/webhooks/{hook['id']}/deliveries")["items"][0]["attempts"][0]
    assert attempt["status_code"] is None and attempt["error"].startswith("refused")
    assert receiver.received == []
    walk.call("DELETE", f"/webhooks/{hook['id']}", "admin", 204)
    assert walk.call("GET", "/webhooks")["items"][0]["active"] is False


def test_instance_completed_event(
    walk: HttpWalk, receiver: Receiver, engine: Engine, clock: ManualClock
) -> None:
    engine.deploy({"ping.bpmn": (Path(__file__).parent / "data" / "ping.bpmn").read_bytes()})
    walk.call(
        "POST",
        "/webhooks",
        "admin",
        201,
        json={"url": receiver.url, "events": ["instance.completed"], "secret": SECRET},
    )
    inst = walk.call("POST", "/process-instances", "wang", 201, json={"process_key": "ping"})
    walk.instance_id = inst["id"]
    clock.advance(hours=2)
    engine.run_due_jobs()  # the timer
    done = walk.do("answer", "wang", {})
    assert done["status"] == "completed"
    engine.run_due_jobs()  # the delivery
    [(headers, body)] = receiver.received
    assert (
        headers["X-Jiebang-Event"] == "instance.completed"
        and json.loads(body)["instance"]["status"] == "completed"
    )
