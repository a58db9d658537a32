"""Front-line dispatch (五个一线): the post catalogue, who is on which post, list entries for a
cadre on post, and the dashboard (JSON and .xlsx). Nominations, assessment and dispatch are the
``frontline`` process's own start and tasks (``/process-instances``, ``/tasks``)."""

from __future__ import annotations

from typing import Any

from flask import Response

from engine import FrontlineEntryRecord, FrontlinePostRecord

from ..auth import require_user
from ..exports import frontline_dashboard_download
from ..extension import get_engine
from ..schemas.common import page_schema, sliced
from ..schemas.frontline import (
    DashboardArgsSchema,
    DashboardSchema,
    FrontlineEntrySchema,
    FrontlinePostArgsSchema,
    FrontlinePostCreateSchema,
    FrontlinePostSchema,
    FrontlinePostUpdateSchema,
    ListEntryCreateSchema,
    StintArgsSchema,
    StintSchema,
)
from .common import Blueprint, errors

blp = Blueprint(
    "Frontline",
    __name__,
    url_prefix="/api/v1/frontline",
    description="五个一线: posts on the five front lines, cadres dispatched to them, list entries, the dashboard.",
)

PostPageSchema = page_schema(FrontlinePostSchema, "FrontlinePostPage")
StintPageSchema = page_schema(StintSchema, "StintPage")


@blp.route("/posts", methods=["GET"])
@blp.arguments(FrontlinePostArgsSchema, location="query")
@blp.response(200, PostPageSchema)
@errors(blp, 422)
def list_posts(args: dict[str, Any]) -> dict[str, Any]:
    """The county's posts by front line, with places filled and who holds them."""
    posts = get_engine().frontline_posts(require_user().username, front_line=args.get("front_line"))
    return sliced(posts, args)


@blp.route("/posts", methods=["POST"])
@blp.arguments(FrontlinePostCreateSchema)
@blp.response(201, FrontlinePostSchema)
@errors(blp, 403, 422)
def create_post(body: dict[str, Any]) -> FrontlinePostRecord:
    """Add a post to fill (the organisation department)."""
    return get_engine().create_frontline_post(require_user().username, body)


@blp.route("/posts/<int:post_id>", methods=["GET"])
@blp.response(200, FrontlinePostSchema)
@errors(blp, 404)
def get_post(post_id: int) -> FrontlinePostRecord:
    """One post with its places filled."""
    return get_engine().frontline_post(post_id, require_user().username)


@blp.route("/posts/<int:post_id>", methods=["PATCH"])
@blp.arguments(FrontlinePostUpdateSchema)
@blp.response(200, FrontlinePostSchema)
@errors(blp, 403, 404, 422)
def update_post(body: dict[str, Any], post_id: int) -> FrontlinePostRecord:
    """Change a post (the organisation department); its capacity never below the cadres on it."""
    return get_engine().update_frontline_post(post_id, require_user().username, body)


@blp.route("/stints", methods=["GET"])
@blp.arguments(StintArgsSchema, location="query")
@blp.response(200, StintPageSchema)
@errors(blp, 403, 422)
def list_stints(args: dict[str, Any]) -> dict[str, Any]:
    """Cadres on post now (``all=true``: every stint), by front line and post (the organisation department)."""
    return sliced(get_engine().frontline_stints(require_user().username, current_only=not args["all"]), args)


@blp.route("/instances/<instance_id>/list-entries", methods=["POST"])
@blp.arguments(ListEntryCreateSchema)
@blp.response(201, FrontlineEntrySchema)
@errors(blp, 403, 404, 409, 422)
def add_list_entry(body: dict[str, Any], instance_id: str) -> FrontlineEntryRecord:
    """A positive or negative list entry for the cadre of a front-line instance, by the post's
    supervisor or the organisation department; 409 when the cadre is not on a post now."""
    return get_engine().add_list_entry(instance_id, require_user().username, body)


@blp.route("/dashboard", methods=["GET"])
@blp.arguments(DashboardArgsSchema, location="query")
@blp.response(200, DashboardSchema)
@errors(blp, 403, 422)
def dashboard(args: dict[str, Any]) -> dict[str, Any] | Response:
    """Per post: filled and vacant, cadres by rank and origin unit, reviews overdue, list entries
    (the organisation department); ``?format=xlsx`` gives them as a workbook."""
    if args["format"] == "xlsx":
        return frontline_dashboard_download(viewer=require_user().username)
    return {"items": get_engine().frontline_dashboard(require_user().username)}
