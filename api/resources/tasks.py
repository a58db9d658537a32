"""The task inbox and what a person does with a task: claim, unclaim, complete, comment."""

from __future__ import annotations

from typing import Any

from flask import Response

from engine import InstanceRecord, TaskDetail, TaskRecord

from ..auth import require_user
from ..extension import get_engine
from ..schemas.common import IdempotencyHeaderSchema, PageArgsSchema, offset_limit, page_schema, paged, sliced
from ..schemas.instances import InstanceSchema
from ..schemas.tasks import (
    CommentCreateSchema,
    CommentSchema,
    TaskCompleteSchema,
    TaskDetailSchema,
    TaskQueryArgsSchema,
    TaskSchema,
)
from .common import Blueprint, errors, idempotent

blp = Blueprint(
    "Tasks", __name__, url_prefix="/api/v1/tasks", description="The inbox: tasks to claim and complete."
)

TaskPageSchema = page_schema(TaskSchema, "TaskPage")
CommentPageSchema = page_schema(CommentSchema, "CommentPage")


@blp.route("", methods=["GET"])
@blp.arguments(TaskQueryArgsSchema, location="query")
@blp.response(200, TaskPageSchema)
@errors(blp, 422)
def list_tasks(args: dict[str, Any]) -> dict[str, Any]:
    """My inbox: ``scope=mine`` (assigned to me), ``candidate`` (my groups may take it), ``involved`` (both), ``cc`` (copied to me).

    CC items describe the copied instance: ``id`` and ``instance_id`` are the instance, ``name`` its
    title, ``status`` is ``unread`` or ``read``, ``created_at`` when it was copied, ``copied_by`` who did.
    """
    user = require_user()
    page = get_engine().list_tasks(
        user.username,
        scope=args["scope"],
        status=args["status"],
        process_key=args.get("process_key"),
        business_key=args.get("business_key"),
        groups=user.groups,
        q=args.get("q"),
        unit=args.get("unit"),
        **offset_limit(args),
    )
    items = [_cc_item(c, user.username) for c in page.items] if args["scope"] == "cc" else page.items
    return paged(items, page.total, args)


def _cc_item(cc: Any, username: str) -> dict[str, Any]:
    return {
        "id": cc.instance_id,
        "instance_id": cc.instance_id,
        "name": cc.title or cc.process_key,
        "title": cc.title,
        "element_id": cc.element_id,
        "process_key": cc.process_key,
        "business_key": cc.business_key,
        "lane": None,
        "candidate_groups": [],
        "assignee": username,
        "created_at": cc.at,
        "due_at": None,
        "status": "read" if cc.read_at else "unread",
        "read_at": cc.read_at,
        "copied_by": cc.by,
    }


@blp.route("/<task_id>", methods=["GET"])
@blp.response(200, TaskDetailSchema)
@errors(blp, 403, 404)
def get_task(task_id: str) -> TaskDetail:
    """A task with its form (JSON Schema) and the data the form starts from."""
    user = require_user()
    return get_engine().get_task(task_id, user.username)


@blp.route("/<task_id>/claim", methods=["POST"])
@blp.response(200, TaskSchema)
@errors(blp, 403, 404, 409)
def claim(task_id: str) -> TaskRecord:
    """Take a task from my group's queue; 409 when someone else holds it."""
    user = require_user()
    return get_engine().claim(task_id, user.username, groups=user.groups)


@blp.route("/<task_id>/unclaim", methods=["POST"])
@blp.response(200, TaskSchema)
@errors(blp, 404, 409)
def unclaim(task_id: str) -> TaskRecord:
    """Put a task I hold back in my group's queue."""
    return get_engine().unclaim(task_id, require_user().username)


@blp.route("/<task_id>/complete", methods=["POST"])
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.arguments(TaskCompleteSchema)
@blp.response(200, InstanceSchema)
@errors(blp, 403, 404, 409, 422)
def complete(headers: dict[str, Any], body: dict[str, Any], task_id: str) -> InstanceRecord | Response:
    """Complete a task with form data; returns the instance's new state (422 lists field errors)."""
    user = require_user()

    def work() -> InstanceRecord:
        return get_engine().complete(task_id, user.username, body["data"])

    return idempotent(headers.get("idempotency_key"), body, work, InstanceSchema(), 200)


@blp.route("/<task_id>/comments", methods=["POST"])
@blp.arguments(CommentCreateSchema)
@blp.response(201, CommentSchema)
@errors(blp, 403, 404, 422)
def add_comment(body: dict[str, Any], task_id: str) -> Any:
    """Add an approval remark to a task I am involved in."""
    return get_engine().add_comment(task_id, require_user().username, body["text"])


@blp.route("/<task_id>/comments", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CommentPageSchema)
@errors(blp, 403, 404, 422)
def list_comments(args: dict[str, Any], task_id: str) -> dict[str, Any]:
    """Approval remarks on a task, oldest first (whoever may see the task; 403 otherwise)."""
    return sliced(get_engine().list_comments(task_id, require_user().username), args)
