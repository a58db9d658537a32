"""Incidents and the repairs of stopped instances (admins)."""

from __future__ import annotations

from typing import Any

from engine import IncidentRecord, InstanceRecord

from ..auth import require_user
from ..extension import get_engine
from ..schemas.common import offset_limit, page_schema, paged
from ..schemas.incidents import IncidentQueryArgsSchema, IncidentSchema, VariablesSchema
from ..schemas.instances import InstanceSchema
from .common import Blueprint, errors

blp = Blueprint(
    "Incidents",
    __name__,
    url_prefix="/api/v1",
    description="What stopped an instance or a job, and running it again (admins).",
)

IncidentPageSchema = page_schema(IncidentSchema, "IncidentPage")


@blp.route("/incidents", methods=["GET"])
@blp.arguments(IncidentQueryArgsSchema, location="query")
@blp.response(200, IncidentPageSchema)
@errors(blp, 403, 422)
def list_incidents(args: dict[str, Any]) -> dict[str, Any]:
    """Incidents, newest first: open ones unless ``open=false``; filters ``instance_id``, ``process_key``."""
    viewer, engine = require_user().username, get_engine()
    where = dict(
        open_only=args["open"], instance_id=args.get("instance_id"), process_key=args.get("process_key")
    )
    found = engine.list_incidents(viewer, **where, **offset_limit(args))
    return paged(found, engine.count_incidents(viewer, **where), args)


@blp.route("/incidents/<incident_id>", methods=["GET"])
@blp.response(200, IncidentSchema)
@errors(blp, 403, 404)
def get_incident(incident_id: str) -> IncidentRecord:
    """One incident: the element, the error and the instance's data when it failed."""
    return get_engine().get_incident(incident_id, require_user().username)


@blp.route("/incidents/<incident_id>/retry", methods=["POST"])
@blp.response(200, IncidentSchema)
@errors(blp, 403, 404, 409, 422)
def retry_incident(incident_id: str) -> IncidentRecord:
    """Run again what stopped: the instance from its last good state, or the parked job. A retry
    that fails again answers 422 with the error and counts another attempt on the incident."""
    return get_engine().retry_incident(incident_id, require_user().username)


@blp.route("/process-instances/<instance_id>/resume", methods=["POST"])
@blp.response(200, InstanceSchema)
@errors(blp, 403, 404, 409, 422)
def resume_instance(instance_id: str) -> InstanceRecord:
    """Run an instance stopped by an error again from its last good state (409 if it is not stopped)."""
    return get_engine().resume_instance(instance_id, require_user().username)


@blp.route("/process-instances/<instance_id>/variables", methods=["PATCH"])
@blp.arguments(VariablesSchema)
@blp.response(200, InstanceSchema)
@errors(blp, 403, 404, 409, 422)
def set_variables(body: dict[str, Any], instance_id: str) -> InstanceRecord:
    """Change a running or stopped instance's data to repair it; the old values and the comment
    are kept in its history (``instance.variables_set``)."""
    return get_engine().set_instance_variables(
        instance_id, require_user().username, body["set"], body["comment"]
    )
