"""总队长制: one leader per village by rule, the red/yellow/green problem lists, presence in the village."""

from __future__ import annotations

from typing import Any

from flask import Response

from engine import (
    COLOURS,
    AppointmentRecord,
    InstanceRecord,
    PresenceRow,
    VillageAssessment,
    VillageRow,
    VisitRecord,
)

from ..auth import require_user
from ..exports import XLSX_MIMETYPE as XLSX
from ..exports import problem_list_download
from ..extension import get_engine
from ..schemas.instances import InstanceSchema
from ..schemas.villages import (
    AppointmentSchema,
    AssessmentArgsSchema,
    PresenceArgsSchema,
    PresenceRowSchema,
    ProblemListArgsSchema,
    ProblemListSchema,
    ProposalSchema,
    VillageAssessmentSchema,
    VillageSchema,
    VisitCreateSchema,
    VisitSchema,
)
from .common import Blueprint, errors

blp = Blueprint(
    "Villages",
    __name__,
    url_prefix="/api/v1",
    description="总队长制: one leader per village by rule, red/yellow/green problem lists, presence.",
)


@blp.route("/villages", methods=["GET"])
@blp.response(200, VillageSchema(many=True))
def villages() -> list[VillageRow]:
    """The caller's county's villages with their class, town and 总队长 (vacant, or a proposal pending)."""
    return get_engine().village_board(require_user().username)


@blp.route("/villages/<code>/leader", methods=["POST"])
@blp.arguments(ProposalSchema)
@blp.response(201, InstanceSchema)
@errors(blp, 403, 404, 409, 422)
def propose(body: dict[str, Any], code: str) -> InstanceRecord:
    """Propose a 总队长 for the village (admins of the village or a unit above): the rule (DMN), one
    proposal per village and the leader's load are checked now; the committee confirms."""
    return get_engine().propose_village_leader(require_user().username, code, body["leader"], body["reason"])


@blp.route("/villages/appointments/<int:appointment_id>", methods=["GET"])
@blp.response(200, AppointmentSchema)
@errors(blp, 404)
def appointment(appointment_id: int) -> AppointmentRecord:
    """An appointment with its letter (任命书) as issued."""
    return get_engine().appointment_letter(appointment_id, require_user().username)


@blp.route("/village-problems", methods=["GET"])
@blp.arguments(ProblemListArgsSchema, location="query")
@blp.response(200, ProblemListSchema)
@errors(blp, 422)
def problems(args: dict[str, Any]) -> dict[str, Any]:
    """The red/yellow/green list of the caller's county, a town's or a village's: age and owner."""
    rows = get_engine().problem_list(require_user().username, **args)
    counts = {colour: 0 for colour in (*COLOURS, "untriaged")}
    for row in rows:
        counts[row.colour or "untriaged"] += 1
    return {"counts": counts, "items": rows}


@blp.route("/village-problems/export", methods=["GET"])
@blp.arguments(ProblemListArgsSchema, location="query")
@blp.response(200, content_type=XLSX, description="the list as an .xlsx workbook, Chinese headers")
@errors(blp, 422)
def export(args: dict[str, Any]) -> Response:
    """The list as an .xlsx workbook (the same filters)."""
    return problem_list_download(require_user().username, args)


@blp.route("/village-visits", methods=["POST"])
@blp.arguments(VisitCreateSchema)
@blp.response(201, VisitSchema)
@errors(blp, 403, 422)
def log_visit(body: dict[str, Any]) -> VisitRecord:
    """Log a stay in a village (a visit, or nights there); the OA logs them for its people."""
    return get_engine().log_visit(require_user().username, body)


@blp.route("/village-presence", methods=["GET"])
@blp.arguments(PresenceArgsSchema, location="query")
@blp.response(200, PresenceRowSchema(many=True))
@errors(blp, 422)
def presence(args: dict[str, Any]) -> list[PresenceRow]:
    """Visits and nights per person and village of the caller's county, busiest first."""
    return get_engine().village_presence(require_user().username, **args)


@blp.route("/villages/<code>/assessment", methods=["POST"])
@blp.arguments(AssessmentArgsSchema)
@blp.response(201, VillageAssessmentSchema)
@errors(blp, 403, 404, 409, 422)
def assess(body: dict[str, Any], code: str) -> VillageAssessment:
    """考核捆绑 at year end (whoever appoints the village's 总队长): the village's score and grade
    from its year's problems and the survey's satisfaction, written to the ledger for the village
    and copied at a declared weight to its 总队长, its helping unit (unit attribute 帮扶单位) and
    each cadre holding a post in it. Once per village and year (409 after)."""
    return get_engine().assess_village(require_user().username, code, body["year"], body["satisfaction"])
