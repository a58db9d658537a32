"""``GET /api/v1/metrics``: Prometheus text for the installation's operators.

Counters and the step-duration histogram are fed by the engine's observers after each committed
write; the operational gauges (jobs due, late and failing, instances stopped by an error, each
group's queue) are read from the database when scraped, so every worker answers the same. Under
``jiebang serve`` the counters live in prometheus_client's multi-process files
(``PROMETHEUS_MULTIPROC_DIR``, set by the server before its workers start), summed over workers
at each scrape. prometheus_client is imported only here, after that variable is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app

from engine import Engine, Tally

STEP_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """One app's metric families, fed by ``engine.observe``."""

    def __init__(self, engine: Engine) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.engine = engine
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        made: dict[str, Any] = {"registry": self.registry}
        self.started = Counter(
            "jiebang_instances_started", "Process instances started", ["process_key"], **made
        )
        self.ended = Counter(
            "jiebang_instances_ended",
            "Process instances that ended, by how",
            ["process_key", "status"],
            **made,
        )
        self.tasks_created = Counter(
            "jiebang_tasks_created", "User tasks offered", ["process_key", "element_id"], **made
        )
        self.tasks_completed = Counter(
            "jiebang_tasks_completed", "User tasks completed", ["process_key", "element_id"], **made
        )
        self.deliveries_failed = Counter(
            "jiebang_webhook_deliveries_failed",
            "Webhook deliveries given up after their last attempt",
            ["event"],
            **made,
        )
        self.notifications_failed = Counter(
            "jiebang_notification_deliveries_failed",
            "Notifications (e-mail, 钉钉, 企业微信) given up after their last attempt",
            ["event"],
            **made,
        )
        self.step_seconds = Histogram(
            "jiebang_step_duration_seconds",
            "Write transactions that changed instances or tasks, from first write to commit",
            ["process_key"],
            buckets=STEP_BUCKETS,
            **made,
        )
        engine.observe(self.count)

    def count(self, tally: Tally) -> None:
        for key, n in tally.started.items():
            self.started.labels(key).inc(n)
        for (key, status), n in tally.ended.items():
            self.ended.labels(key, status).inc(n)
        for (key, element), n in tally.tasks_created.items():
            self.tasks_created.labels(key, element).inc(n)
        for (key, element), n in tally.tasks_completed.items():
            self.tasks_completed.labels(key, element).inc(n)
        for event, n in tally.deliveries_failed.items():
            self.deliveries_failed.labels(event).inc(n)
        for event, n in tally.notifications_failed.items():
            self.notifications_failed.labels(event).inc(n)
        self.step_seconds.labels(tally.process_key or "").observe(tally.seconds)

    def scrape(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = self.registry
        gauges = GaugeCollector(self.engine)
        registry.register(gauges)
        try:
            return generate_latest(registry)
        finally:
            registry.unregister(gauges)


class GaugeCollector:
    """The operational gauges, read from the database at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        now = self.engine.operational_gauges()
        for name, doc, values in (
            ("jiebang_jobs_due", "Jobs due now and not taken, by kind", now.jobs_due),
            ("jiebang_jobs_late", "Jobs due for more than a minute and not run, by kind", now.jobs_late),
            ("jiebang_jobs_failing", "Jobs whose last attempt failed, by kind", now.jobs_failing),
        ):
            family = GaugeMetricFamily(name, doc, labels=["kind"])
            for kind, n in sorted(values.items()):
                family.add_metric([kind], n)
            yield family
        errors = GaugeMetricFamily(
            "jiebang_incidents_open", "Instances stopped by an error, by process", labels=["process_key"]
        )
        for key, n in sorted(now.instances_in_error.items()):
            errors.add_metric([key], n)
        yield errors
        queues = GaugeMetricFamily(
            "jiebang_inbox_size", "Open tasks offered to a group and not taken", labels=["tenant", "group"]
        )
        for (tenant, group), n in sorted(now.queues.items()):
            queues.add_metric([tenant, group], n)
        yield queues


def scrape() -> bytes:
    """The current app's metrics as Prometheus text."""
    found: Metrics = current_app.extensions["jiebang_metrics"]
    return found.scrape()


def init_app(app: Flask, engine: Engine) -> None:
    app.extensions["jiebang_metrics"] = Metrics(engine)
