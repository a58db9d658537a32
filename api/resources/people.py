"""People's records (成长档案): everything a person did and was judged on, across campaigns."""

from __future__ import annotations

from typing import Any

from flask import Response

from ..auth import require_user
from ..exports import archive_download
from ..extension import get_engine
from ..schemas.campaigns import ArchiveArgsSchema, ArchiveSchema
from .common import Blueprint, errors

blp = Blueprint("People", __name__, url_prefix="/api/v1/people", description="People's records and awards.")


@blp.route("/<username>/archive", methods=["GET"])
@blp.arguments(ArchiveArgsSchema, location="query")
@blp.response(200, ArchiveSchema)
@errors(blp, 404, 422)
def archive(args: dict[str, Any], username: str) -> dict[str, Any] | Response:
    """A person's growth archive, oldest first: claims, reports, acceptances, verdicts, scores,
    recommendations and their front-line record (the person, their unit leaders and the
    organisation department; to anyone else the person is unknown, 404);
    ``?format=xlsx`` gives them as a workbook."""
    if args["format"] == "xlsx":  # the same lines as a workbook
        return archive_download(username, viewer=require_user().username)
    items = get_engine().person_archive(username, require_user().username)
    return {"username": username, "items": items}
