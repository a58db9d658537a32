"""People's records (成长档案): everything a person did and was judged on, across campaigns."""

from __future__ import annotations

from typing import Any

from ..auth import require_user
from ..extension import get_engine
from ..schemas.campaigns import ArchiveSchema
from .common import Blueprint, errors

blp = Blueprint("People", __name__, url_prefix="/api/v1/people", description="People's records and awards.")


@blp.route("/<username>/archive", methods=["GET"])
@blp.response(200, ArchiveSchema)
@errors(blp, 403, 404)
def archive(username: str) -> dict[str, Any]:
    """A person's growth archive, oldest first: claims, reports, acceptances, verdicts, scores and
    recommendations (the person, admins and organisers; another county's person is 404)."""
    items = get_engine().person_archive(username, require_user().username)
    return {"username": username, "items": items}
