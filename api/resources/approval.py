"""The Chinese approval operations on tasks and instances: 转办, 委派, 加签/减签, 退回, 催办, 撤回, 抄送."""

from __future__ import annotations

from typing import Any

from engine import InstanceRecord, TaskRecord

from ..auth import require_user
from ..extension import get_engine
from ..schemas.approval import (
    AddSignersSchema,
    CommentOnlySchema,
    CopyResultSchema,
    CopySchema,
    HandOverSchema,
    ReturnSchema,
    ReturnTargetListSchema,
    SignerListSchema,
)
from ..schemas.instances import InstanceSchema
from ..schemas.tasks import TaskSchema
from .common import Blueprint, errors

blp = Blueprint(
    "Approval",
    __name__,
    url_prefix="/api/v1",
    description="Approval operations: transfer, delegate, signers, return, urge, withdraw, CC.",
)


@blp.route("/tasks/<task_id>/transfer", methods=["POST"])
@blp.arguments(HandOverSchema)
@blp.response(200, TaskSchema)
@errors(blp, 403, 404, 409, 422)
def transfer(body: dict[str, Any], task_id: str) -> TaskRecord:
    """转办: hand the task to another user for good."""
    return get_engine().transfer(task_id, require_user().username, body["to"], body.get("comment"))


@blp.route("/tasks/<task_id>/delegate", methods=["POST"])
@blp.arguments(HandOverSchema)
@blp.response(200, TaskSchema)
@errors(blp, 403, 404, 409, 422)
def delegate(body: dict[str, Any], task_id: str) -> TaskRecord:
    """委派: let another user work the task; their completion comes back to me to confirm."""
    return get_engine().delegate(task_id, require_user().username, body["to"], body.get("comment"))


@blp.route("/tasks/<task_id>/add-signers", methods=["POST"])
@blp.arguments(AddSignersSchema)
@blp.response(201, SignerListSchema)
@errors(blp, 403, 404, 409, 422)
def add_signers(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    """加签: add approvers before, after or in parallel with me on this step."""
    rows = get_engine().add_signers(
        task_id, require_user().username, body["usernames"], body["mode"], body.get("comment")
    )
    return {"items": rows}


@blp.route("/tasks/<task_id>/signers", methods=["GET"])
@blp.response(200, SignerListSchema)
@errors(blp, 403, 404)
def list_signers(task_id: str) -> dict[str, Any]:
    """Everyone signing this step, with where each stands (403 unless involved)."""
    return {"items": get_engine().signers(task_id, viewer=require_user().username)}


@blp.route("/tasks/<task_id>/signers/<username>", methods=["DELETE"])
@blp.arguments(CommentOnlySchema, location="query")
@blp.response(204)
@errors(blp, 403, 404, 409)
def remove_signer(args: dict[str, Any], task_id: str, username: str) -> None:
    """减签: remove an added signer who has not acted yet."""
    get_engine().remove_signer(task_id, require_user().username, username, args.get("comment"))


@blp.route("/tasks/<task_id>/return-targets", methods=["GET"])
@blp.response(200, ReturnTargetListSchema)
@errors(blp, 403, 404)
def return_targets(task_id: str) -> dict[str, Any]:
    """Earlier user tasks this task may be sent back to (newest first; the first is the default; 403 unless involved)."""
    return {"items": get_engine().return_targets(task_id, viewer=require_user().username)}


@blp.route("/tasks/<task_id>/return", methods=["POST"])
@blp.arguments(ReturnSchema)
@blp.response(200, InstanceSchema)
@errors(blp, 403, 404, 409, 422)
def return_task(body: dict[str, Any], task_id: str) -> InstanceRecord:
    """退回: send the instance back to an earlier user task; the redo starts from its data."""
    return get_engine().return_task(
        task_id, require_user().username, body.get("to_element_id"), body["comment"]
    )


@blp.route("/tasks/<task_id>/urge", methods=["POST"])
@blp.arguments(CommentOnlySchema)
@blp.response(202)
@errors(blp, 403, 404, 409, 422)
def urge(body: dict[str, Any], task_id: str) -> None:
    """催办: remind the assignee or candidates (a ``task.urged`` event); at most once per ten minutes."""
    get_engine().urge(task_id, require_user().username, body.get("comment"))


@blp.route("/process-instances/<instance_id>/withdraw", methods=["POST"])
@blp.arguments(CommentOnlySchema)
@blp.response(200, InstanceSchema)
@errors(blp, 403, 404, 409, 422)
def withdraw(body: dict[str, Any], instance_id: str) -> InstanceRecord:
    """撤回: take back my last completion while the next task is untouched; 409 once someone acted."""
    return get_engine().withdraw(instance_id, require_user().username, body.get("comment") or "")


@blp.route("/process-instances/<instance_id>/cc", methods=["POST"])
@blp.arguments(CopySchema)
@blp.response(200, CopyResultSchema)
@errors(blp, 403, 404, 422)
def copy_to(body: dict[str, Any], instance_id: str) -> dict[str, Any]:
    """抄送: copy the instance to people; they see it with ``GET /tasks?scope=cc``."""
    return {"added": get_engine().copy_to(instance_id, require_user().username, body["usernames"])}


@blp.route("/process-instances/<instance_id>/cc/read", methods=["POST"])
@blp.response(204)
@errors(blp, 404)
def mark_read(instance_id: str) -> None:
    """Mark a copied instance as read."""
    get_engine().mark_cc_read(instance_id, require_user().username)
