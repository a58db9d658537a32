"""The task inbox: items, detail with form, completion, comments."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from marshmallow import fields, pre_dump, validate

from engine import TaskStatus

from .base import Schema
from .common import PageArgsSchema

SCOPES = ("mine", "candidate", "involved", "cc")
# The statuses of a task as its inbox shows it (a signer's superseded/skipped/removed part never is one).
STATUSES = tuple(
    s.value for s in TaskStatus if s not in (TaskStatus.SUPERSEDED, TaskStatus.SKIPPED, TaskStatus.REMOVED)
)


class TaskSchema(Schema):
    id = fields.String()
    name = fields.String()
    title = fields.String(
        allow_none=True, metadata={"description": "the instance's title (its data field ``title``)"}
    )
    element_id = fields.String()
    instance_id = fields.String()
    process_key = fields.String()
    business_key = fields.String(allow_none=True)
    lane = fields.String(allow_none=True)
    candidate_groups = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    status = fields.String()
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    kind = fields.String(
        metadata={"description": "task, or sign: one signer's part of the task parent_id (加签/会签)"}
    )
    parent_id = fields.String(allow_none=True)
    owner = fields.String(
        allow_none=True, metadata={"description": "set while delegated (委派): who confirms"}
    )
    sign_mode = fields.String(
        allow_none=True, metadata={"description": "before, after, parallel, all, any, sequential, ratio:R"}
    )
    returned = fields.Boolean(metadata={"description": "this task was sent back to (退回)"})
    unresolved = fields.Dict(
        allow_none=True,
        metadata={
            "description": (
                "set while nobody could be given the task: {reason: vacant|no-unit|unknown-unit|no-parent|"
                "starter-no-unit, post, units…} (e.g. nobody holds the post 书记 in the filing unit); "
                "cleared when someone takes the post"
            )
        },
    )
    actions = fields.List(
        fields.String(),
        metadata={
            "description": (
                "what the caller may do with the task now, by action name (claim, unclaim, complete, transfer, delegate, add_signers, "
                "remove_signer, return, urge, cc, comment, view); filled when one task is read, empty in lists"
            )
        },
    )
    read_at = fields.DateTime(allow_none=True, metadata={"description": "scope=cc only"})
    copied_by = fields.String(allow_none=True, metadata={"description": "scope=cc only"})


class TaskDetailSchema(TaskSchema):
    form = fields.Dict(allow_none=True, metadata={"description": "JSON Schema of the task's form"})
    data = fields.Dict(metadata={"description": "the data the form starts from"})

    @pre_dump
    def flatten(self, detail: Any, **_: Any) -> dict[str, Any]:
        return {**asdict(detail.task), "form": detail.form, "data": detail.data}


class TaskQueryArgsSchema(PageArgsSchema):
    scope = fields.String(load_default="involved", validate=validate.OneOf(SCOPES))
    status = fields.String(load_default="open", validate=validate.OneOf(STATUSES))
    process_key = fields.String()
    business_key = fields.String()
    q = fields.String(
        validate=validate.Length(max=200),
        metadata={
            "description": "search: tasks whose instance title, name or business key contains this text (case-insensitive)"
        },
    )
    unit = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "a unit's code: only what belongs to it and to the units under it"},
    )


class TaskCompleteSchema(Schema):
    data = fields.Dict(
        load_default=dict,
        metadata={
            "description": "validated against the task's form; only the fields it declares (422 names the others)"
        },
    )


class CommentCreateSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=10_000))


class CommentSchema(Schema):
    id = fields.Integer()
    task_id = fields.String()
    instance_id = fields.String()
    author = fields.String()
    text = fields.String()
    kind = fields.String(
        metadata={
            "description": "comment, or the approval action that wrote it (approve, return, transfer, ...)"
        }
    )
    at = fields.DateTime()
