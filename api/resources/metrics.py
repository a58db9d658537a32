"""The installation's metrics in Prometheus text (operators)."""

from __future__ import annotations

import os

from flask import Response

from .. import metrics
from ..auth import require_permission
from .common import Blueprint, errors

blp = Blueprint(
    "Metrics",
    __name__,
    url_prefix="/api/v1/metrics",
    description="Prometheus metrics (the installation's admins).",
)


@blp.route("", methods=["GET"])
@blp.response(200, content_type="text/plain", description="Prometheus text format, `jiebang_` metrics")
@errors(blp, 403)
def get_metrics() -> Response:
    """Instances started and ended, tasks offered and completed (by process and element), write-step
    durations, webhook deliveries given up; and, read at the scrape, jobs due, late and failing,
    instances stopped by an error and each group's queue. The installation's admins only, unless
    the server runs with ``JIEBANG_METRICS_PUBLIC=1``."""
    if os.environ.get("JIEBANG_METRICS_PUBLIC") != "1":
        require_permission("read_metrics")
    return Response(metrics.scrape(), content_type=metrics.CONTENT_TYPE)
