"""Jobs waiting to run (timers, webhook deliveries); admins only."""

from __future__ import annotations

from typing import Any

from ..auth import require_permission
from ..extension import get_engine
from ..schemas.common import offset_limit, page_schema, paged
from ..schemas.jobs import JobQueryArgsSchema, JobSchema
from .common import Blueprint, errors

blp = Blueprint(
    "Jobs", __name__, url_prefix="/api/v1/jobs", description="Timers and deliveries waiting to run (admins)."
)

JobPageSchema = page_schema(JobSchema, "JobPage")


@blp.route("", methods=["GET"])
@blp.arguments(JobQueryArgsSchema, location="query")
@blp.response(200, JobPageSchema)
@errors(blp, 403, 422)
def list_jobs(args: dict[str, Any]) -> dict[str, Any]:
    """Jobs by due time; filters ``instance_id``, ``kind``."""
    user = require_permission("view_jobs")
    page = get_engine().list_jobs(
        instance_id=args.get("instance_id"), kind=args.get("kind"), viewer=user.username, **offset_limit(args)
    )
    return paged(page.items, page.total, args)


@blp.route("/<job_id>/execute", methods=["POST"])
@blp.response(204)
@errors(blp, 403, 404)
def execute_job(job_id: str) -> None:
    """Run a job now, whatever its due time (close a claim window early, retry a delivery)."""
    user = require_permission("execute_job")
    get_engine().execute_job(job_id, actor=user.username)
