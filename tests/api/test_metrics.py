"""GET /api/v1/metrics: what an operator's Prometheus scrapes. Counters follow committed work only
(a refused completion counts nothing); the gauges read the database (a timer due and then late,
the task force's queue, an instance stopped by its script); only the installation's admins read
them unless the operator made them public; under ``jiebang serve --workers 2`` every scrape sums
both workers."""

from __future__ import annotations

import io
import os
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from engine import ManualClock
from tests.server import jiebang, serving

from .conftest import Auth, HttpWalk

FAILING = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="broken" name="Broken" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="divide" />
    <bpmn:scriptTask id="divide" name="Divide"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>x = 1 / 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="divide" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Sample name and labels -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def metrics(client: FlaskClient, auth: Auth) -> dict:
    resp = client.get("/api/v1/metrics", headers=auth.headers("admin"))
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    return scrape(resp.get_data(as_text=True))


def test_counters_follow_committed_work(client: FlaskClient, auth: Auth, walk: HttpWalk) -> None:
    walk.submit()
    walk.do("preliminary_review", "zhao", {"decision": "nonsense"}, expect=422)  # refused: nothing moved

    got = metrics(client, auth)

    key = {"process_key": "claim_evaluate"}
    assert value(got, "jiebang_instances_started_total", **key) == 1
    assert value(got, "jiebang_tasks_created_total", element_id="submit_problem", **key) == 1
    assert value(got, "jiebang_tasks_completed_total", element_id="submit_problem", **key) == 1
    assert value(got, "jiebang_tasks_created_total", element_id="preliminary_review", **key) == 1
    assert value(got, "jiebang_tasks_completed_total", element_id="preliminary_review", **key) == 0
    assert value(got, "jiebang_step_duration_seconds_count", **key) >= 2
    assert value(got, "jiebang_inbox_size", tenant="", group="taskforce") == 1


def test_gauges_read_the_database(
    client: FlaskClient, auth: Auth, walk: HttpWalk, clock: ManualClock
) -> None:
    walk.publish()  # the claim window's timer waits
    assert value(metrics(client, auth), "jiebang_jobs_due", kind="timer") == 0
    clock.advance(timedelta(days=14, seconds=30))
    got = metrics(client, auth)
    assert (
        value(got, "jiebang_jobs_due", kind="timer") == 1
        and value(got, "jiebang_jobs_late", kind="timer") == 0
    )
    clock.advance(timedelta(minutes=2))
    assert value(metrics(client, auth), "jiebang_jobs_late", kind="timer") == 1

    deployed = client.post(
        "/api/v1/process-definitions",
        data={"file": [(io.BytesIO(FAILING), "broken.bpmn")]},
        content_type="multipart/form-data",
        headers=auth.headers("admin"),
    )
    assert deployed.status_code == 201
    client.post("/api/v1/process-instances", json={"process_key": "broken"}, headers=auth.headers("admin"))
    got = metrics(client, auth)
    assert value(got, "jiebang_incidents_open", process_key="broken") == 1
    assert value(got, "jiebang_instances_ended_total", process_key="broken", status="error") == 1


def test_who_reads_the_metrics(client: FlaskClient, auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.get("/api/v1/metrics").status_code == 401
    refused = client.get("/api/v1/metrics", headers=auth.headers("wang"))
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert client.get("/api/v1/metrics", headers=auth.headers("oa")).status_code == 403

    monkeypatch.setenv("JIEBANG_METRICS_PUBLIC", "1")  # the operator's scraper has no token
    public = client.get("/api/v1/metrics")
    assert public.status_code == 200 and b"jiebang_instances_started_total" in public.data
    assert client.get("/api/v1/tasks").status_code == 401  # nothing else opens


@pytest.mark.slow
@pytest.mark.xdist_group("serve")
def test_two_workers_are_summed_at_every_scrape(tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"
    env = {
        **os.environ,
        "JIEBANG_DATABASE_URL": f"sqlite:///{tmp_path}/m.sqlite3",
        "JIEBANG_METRICS_PUBLIC": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
    }
    subprocess.run(jiebang("user", "add", "wang"), env=env, cwd=tmp_path, check=True, capture_output=True)
    token = subprocess.run(
        jiebang("token", "create", "wang"), env=env, cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    with serving(env, tmp_path, extra=("--workers", "2", "--threads", "1")) as serve:

        def start(_: int) -> int:
            request = urllib.request.Request(
                f"{serve.base}/api/v1/process-instances",
                data=b'{"process_key": "claim_evaluate"}',
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as resp:
                return resp.status

        started = 0
        with ThreadPoolExecutor(8) as pool:  # at once, until both single-threaded workers took some
            for _ in range(12):
                assert list(pool.map(start, range(8))) == [201] * 8
                started += 8
                if len(list(shared.glob("counter_*.db"))) == 2:
                    break
        for _ in range(4):  # whichever worker answers, it sums both
            with urllib.request.urlopen(f"{serve.base}/api/v1/metrics", timeout=30) as resp:
                got = scrape(resp.read().decode())
            assert value(got, "jiebang_instances_started_total", process_key="claim_evaluate") == started
        counted_in = {f.name.rsplit("_", 1)[-1] for f in shared.glob("counter_*.db")}
        assert len(counted_in) == 2, counted_in  # both workers counted some of them
