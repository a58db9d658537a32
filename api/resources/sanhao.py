"""三好创争 (the shipped process ``sanhao``): objections while a town's awards are in publicity,
and 躺平奖 nominations at any time of the year. Both reach the town's instance only through the
engine's checks (``POST /messages`` refuses them)."""

from __future__ import annotations

from typing import Any

from engine import InstanceRecord

from ..auth import require_user
from ..extension import get_engine
from ..schemas.sanhao import FiledSchema, NominationSchema, ObjectionFilingSchema
from .common import Blueprint, errors

blp = Blueprint(
    "Sanhao",
    __name__,
    url_prefix="/api/v1/sanhao",
    description="三好创争: objections during publicity (公示) and 躺平奖 nominations.",
)


@blp.route("/<instance_id>/objections", methods=["POST"])
@blp.arguments(ObjectionFilingSchema)
@blp.response(201, FiledSchema)
@errors(blp, 404, 409, 422)
def file_objection(body: dict[str, Any], instance_id: str) -> InstanceRecord:
    """Object to a town's proposed award while it is in publicity (anyone of the county); 409 after the window."""
    return get_engine().file_sanhao_objection(instance_id, require_user().username, body)


@blp.route("/<instance_id>/nominations", methods=["POST"])
@blp.arguments(NominationSchema)
@blp.response(201, FiledSchema)
@errors(blp, 403, 404, 409, 422)
def nominate(body: dict[str, Any], instance_id: str) -> InstanceRecord:
    """Nominate a cadre of the town for the 躺平奖; the town's committee reviews it."""
    return get_engine().nominate_lying_flat(instance_id, require_user().username, body)
