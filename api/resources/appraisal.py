"""Appraisals (三好创争): schemes, scoring panels, rankings, award lists under publicity (公示) with
their objections, the awards given, and a unit's archive."""

from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import fields

from engine import AwardListRecord, AwardRecord, ObjectionRecord, PanelRecord, ScoreRecord

from ..auth import require_user
from ..exports import XLSX_MIMETYPE as XLSX
from ..exports import awards_download, ranking_download, unit_archive_download
from ..extension import get_engine
from ..schemas.appraisal import (
    AwardArgsSchema,
    AwardExportArgsSchema,
    AwardListArgsSchema,
    AwardListCreateSchema,
    AwardListSchema,
    AwardSchema,
    ObjectionCreateSchema,
    ObjectionDecisionSchema,
    ObjectionSchema,
    PanelCreateSchema,
    PanelSchema,
    RankingArgsSchema,
    RankingExportArgsSchema,
    RankingRowSchema,
    SchemeCreateSchema,
    SchemeSchema,
    ScoreSheetSchema,
    ScoreSubmitSchema,
    UnitArchiveArgsSchema,
    UnitArchiveSchema,
)
from ..schemas.common import page_schema, sliced
from .common import Blueprint, errors

blp = Blueprint(
    "Appraisal",
    __name__,
    url_prefix="/api/v1",
    description="三好创争: schemes, panel scoring, rankings, award lists with publicity, awards.",
)

RankingPageSchema = page_schema(
    RankingRowSchema, "RankingPage", period=fields.String(), scheme=fields.Nested(SchemeSchema)
)
AwardPageSchema = page_schema(AwardSchema, "AwardPage", period=fields.String(allow_none=True))
AwardListPageSchema = page_schema(AwardListSchema, "AwardListPage")


@blp.route("/appraisal/schemes", methods=["POST"])
@blp.arguments(SchemeCreateSchema)
@blp.response(201, SchemeSchema)
@errors(blp, 403, 409, 422)
def create_scheme(body: dict[str, Any]) -> dict[str, Any]:
    """Create a scheme of the caller's county (organisers and admins): dimensions with weights
    and scales, the scorers' aggregation and the award it selects for with its quota."""
    return get_engine().create_scheme(require_user().username, body)


@blp.route("/appraisal/schemes", methods=["GET"])
@blp.response(200, SchemeSchema(many=True))
def list_schemes() -> list[dict[str, Any]]:
    """The schemes the caller's county may use: the shipped 四强, 四高, 四优 and its own."""
    return get_engine().list_schemes(require_user().username)


@blp.route("/appraisal/panels", methods=["POST"])
@blp.arguments(PanelCreateSchema)
@blp.response(201, PanelSchema)
@errors(blp, 403, 404, 422)
def open_panel(body: dict[str, Any]) -> PanelRecord:
    """Open a scoring panel on a scheme for a period, its subjects and its scorers (organisers)."""
    return get_engine().open_panel(require_user().username, body)


@blp.route("/appraisal/panels/<int:panel_id>", methods=["GET"])
@blp.response(200, PanelSchema)
@errors(blp, 404)
def get_panel(panel_id: int) -> PanelRecord:
    """A panel of the caller's county."""
    return get_engine().get_panel(panel_id, require_user().username)


@blp.route("/appraisal/panels/<int:panel_id>/scores", methods=["POST"])
@blp.arguments(ScoreSubmitSchema)
@blp.response(201, ScoreSheetSchema)
@errors(blp, 403, 404, 409, 422)
def record_scores(body: dict[str, Any], panel_id: int) -> ScoreRecord:
    """Record the caller's scores of one subject, per dimension (a scorer on the panel); a second
    submission is refused (409) unless it says ``replace``."""
    return get_engine().record_scores(
        panel_id, require_user().username, body["subject"], body["scores"], replace=body["replace"]
    )


@blp.route("/appraisal/panels/<int:panel_id>/close", methods=["POST"])
@blp.response(200, PanelSchema)
@errors(blp, 403, 404, 409)
def close_panel(panel_id: int) -> PanelRecord:
    """Close the panel: aggregate, combine, and write each subject's dimensions and total to the ledger."""
    return get_engine().close_panel(panel_id, require_user().username)


@blp.route("/rankings", methods=["GET"])
@blp.arguments(RankingArgsSchema, location="query")
@blp.response(200, RankingPageSchema)
@errors(blp, 404, 422)
def rankings(args: dict[str, Any]) -> dict[str, Any]:
    """A scheme's ranking of a year, quarter or month: rank, total, each dimension, awards."""
    scheme, period, rows = get_engine().ranking(
        require_user().username, args["scheme"], args.get("period"), args.get("subject_kind")
    )
    return sliced(rows, args, period=period, scheme=scheme)


@blp.route("/rankings/export", methods=["GET"])
@blp.arguments(RankingExportArgsSchema, location="query")
@blp.response(200, content_type=XLSX, description="the ranking as an .xlsx workbook, Chinese headers")
@errors(blp, 404, 422)
def export_ranking(args: dict[str, Any]) -> Response:
    """A scheme's ranking as an .xlsx workbook."""
    return ranking_download(
        args["scheme"], args.get("period"), args.get("subject_kind"), viewer=require_user().username
    )


@blp.route("/awards", methods=["GET"])
@blp.arguments(AwardArgsSchema, location="query")
@blp.response(200, AwardPageSchema)
@errors(blp, 422)
def list_awards(args: dict[str, Any]) -> dict[str, Any]:
    """Awards given in the caller's county (好班子, 好班长, 好班副, 躺平奖...) with their reasons."""
    given: list[AwardRecord] = get_engine().awards(
        require_user().username, args.get("period"), args.get("kind")
    )
    return sliced(given, args, period=args.get("period"))


@blp.route("/awards/export", methods=["GET"])
@blp.arguments(AwardExportArgsSchema, location="query")
@blp.response(200, content_type=XLSX, description="the awards as an .xlsx workbook, Chinese headers")
@errors(blp, 422)
def export_awards(args: dict[str, Any]) -> Response:
    """The awards given as an .xlsx workbook."""
    return awards_download(args.get("period"), args.get("kind"), viewer=require_user().username)


@blp.route("/award-lists", methods=["POST"])
@blp.arguments(AwardListCreateSchema)
@blp.response(201, AwardListSchema)
@errors(blp, 403, 404, 409, 422)
def propose(body: dict[str, Any]) -> AwardListRecord:
    """Put an award list up for publicity (organisers): the top of a scheme's ranking within the
    kind's quota, or nominated subjects each with a reason (躺平奖)."""
    return get_engine().propose_awards(require_user().username, body)


@blp.route("/award-lists", methods=["GET"])
@blp.arguments(AwardListArgsSchema, location="query")
@blp.response(200, AwardListPageSchema)
@errors(blp, 422)
def award_lists(args: dict[str, Any]) -> dict[str, Any]:
    """The county's award lists, newest first, with their objections."""
    return sliced(get_engine().award_lists(require_user().username, args.get("period")), args)


@blp.route("/award-lists/<int:list_id>", methods=["GET"])
@blp.response(200, AwardListSchema)
@errors(blp, 404)
def award_list(list_id: int) -> AwardListRecord:
    """One award list with its entries, reserve and objections."""
    return get_engine().award_list(list_id, require_user().username)


@blp.route("/award-lists/<int:list_id>/objections", methods=["POST"])
@blp.arguments(ObjectionCreateSchema)
@blp.response(201, ObjectionSchema)
@errors(blp, 404, 409, 422)
def file_objection(body: dict[str, Any], list_id: int) -> ObjectionRecord:
    """Object to an entry while the list is under publicity (anyone of the county); 409 after it."""
    return get_engine().file_objection(list_id, require_user().username, body["subject"], body["reason"])


@blp.route("/award-lists/<int:list_id>/objections/<int:objection_id>/decision", methods=["POST"])
@blp.arguments(ObjectionDecisionSchema)
@blp.response(200, AwardListSchema)
@errors(blp, 403, 404, 409, 422)
def handle_objection(body: dict[str, Any], list_id: int, objection_id: int) -> AwardListRecord:
    """Uphold an objection (its subject leaves, the next in rank moves up) or dismiss it (organisers)."""
    return get_engine().handle_objection(
        list_id, objection_id, require_user().username, body["decision"], body["note"]
    )


@blp.route("/award-lists/<int:list_id>/finalise", methods=["POST"])
@blp.response(200, AwardListSchema)
@errors(blp, 403, 404, 409)
def finalise(list_id: int) -> AwardListRecord:
    """Give the awards: after the window, with every objection handled (409 otherwise)."""
    return get_engine().finalise_awards(list_id, require_user().username)


@blp.route("/units/<code>/archive", methods=["GET"])
@blp.arguments(UnitArchiveArgsSchema, location="query")
@blp.response(200, UnitArchiveSchema)
@errors(blp, 403, 404, 422)
def unit_archive(args: dict[str, Any], code: str) -> dict[str, Any] | Response:
    """A unit's archive of rankings and awards with their reasons (its leaders, organisers and
    admins; another county's unit is 404); ``?format=xlsx`` gives a workbook."""
    viewer = require_user().username
    if args["format"] == "xlsx":
        return unit_archive_download(code, viewer=viewer)
    name, items = get_engine().unit_archive(code, viewer)
    return {"code": code, "name": name, "items": items}
