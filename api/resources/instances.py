"""Process instances (start, read, history, cancel) and messages to waiting instances."""

from __future__ import annotations

from typing import Any

from flask import Response

from engine import InstanceRecord

from ..auth import require_permission, require_user
from ..extension import get_engine
from ..schemas.common import IdempotencyHeaderSchema, PageArgsSchema, offset_limit, page_schema, paged, sliced
from ..schemas.instances import (
    HistoryEventSchema,
    InstanceCancelSchema,
    InstanceQueryArgsSchema,
    InstanceSchema,
    InstanceStartSchema,
    MessageResultSchema,
    MessageSchema,
)
from .common import Blueprint, errors, idempotent

blp = Blueprint(
    "Process instances",
    __name__,
    url_prefix="/api/v1",
    description="Running and finished process instances; messages.",
)

InstancePageSchema = page_schema(InstanceSchema, "InstancePage")
HistoryPageSchema = page_schema(HistoryEventSchema, "HistoryPage")


@blp.route("/process-instances", methods=["POST"])
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.arguments(InstanceStartSchema)
@blp.response(201, InstanceSchema)
@errors(blp, 404, 409, 422)
def start(headers: dict[str, Any], body: dict[str, Any]) -> InstanceRecord | Response:
    """Start an instance of a process definition (latest version unless ``version``)."""
    user = require_user()

    def work() -> InstanceRecord:
        return get_engine().start(
            body["process_key"],
            actor=user.username,
            version=body.get("version"),
            business_key=body.get("business_key"),
            data=body["data"],
        )

    return idempotent(headers.get("idempotency_key"), body, work, InstanceSchema(), 201)


@blp.route("/process-instances", methods=["GET"])
@blp.arguments(InstanceQueryArgsSchema, location="query")
@blp.response(200, InstancePageSchema)
@errors(blp, 422)
def list_instances(args: dict[str, Any]) -> dict[str, Any]:
    """Instances I may see (admins and the OA service: all), newest first; filters ``process_key``, ``status``, ``business_key``."""
    page = get_engine().list_instances(
        process_key=args.get("process_key"),
        status=args.get("status"),
        business_key=args.get("business_key"),
        unit=args.get("unit"),
        viewer=require_user().username,
        **offset_limit(args),
    )
    return paged(page.items, page.total, args)


@blp.route("/process-instances/<instance_id>", methods=["GET"])
@blp.response(200, InstanceSchema)
@errors(blp, 403, 404)
def get_instance(instance_id: str) -> InstanceRecord:
    """An instance: status, data, open tasks and active element ids (403 unless involved)."""
    return get_engine().get_instance(instance_id, viewer=require_user().username)


@blp.route("/process-instances/<instance_id>/history", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, HistoryPageSchema)
@errors(blp, 403, 404, 422)
def history(args: dict[str, Any], instance_id: str) -> dict[str, Any]:
    """Audit events of an instance, oldest first (403 unless involved)."""
    return sliced(get_engine().history(instance_id, viewer=require_user().username), args)


@blp.route("/process-instances/<instance_id>/cancel", methods=["POST"])
@blp.arguments(InstanceCancelSchema)
@blp.response(200, InstanceSchema)
@errors(blp, 403, 404, 409, 422)
def cancel(body: dict[str, Any], instance_id: str) -> InstanceRecord:
    """Cancel a running instance (its starter or an admin)."""
    return get_engine().cancel(instance_id, actor=require_user().username, reason=body["reason"])


@blp.route("/messages", methods=["POST"])
@blp.arguments(MessageSchema)
@blp.response(200, MessageResultSchema)
@errors(blp, 403, 404, 409, 422)
def send_message(body: dict[str, Any]) -> dict[str, list[str]]:
    """Deliver a message to the instances waiting for it (by business key or instance id)."""
    user = require_permission("send_message")
    ids = get_engine().send_message(
        body["name"],
        actor=user.username,
        payload=body["payload"],
        business_key=body.get("business_key"),
        instance_id=body.get("instance_id"),
    )
    return {"instance_ids": ids}
