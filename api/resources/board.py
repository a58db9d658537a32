"""The claim-and-evaluate read models: the board, claims filed on it, scores and leaderboard."""

from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import fields

from ..auth import require_user
from ..exports import XLSX_MIMETYPE as XLSX
from ..exports import scores_download
from ..extension import get_engine
from ..schemas.board import (
    BoardArgsSchema,
    BoardItemSchema,
    ClaimCreateSchema,
    ExportArgsSchema,
    FiledClaimSchema,
    LeaderRowSchema,
    PeriodArgsSchema,
    ScoreRowSchema,
)
from ..schemas.common import page_schema, sliced
from .common import Blueprint, errors

blp = Blueprint(
    "Board", __name__, url_prefix="/api/v1", description="揭榜挂帅: challenges on the board, claims, scores."
)

BoardPageSchema = page_schema(BoardItemSchema, "BoardPage")
ScorePageSchema = page_schema(ScoreRowSchema, "ScorePage", period=fields.String())
LeaderboardPageSchema = page_schema(
    LeaderRowSchema, "LeaderboardPage", period=fields.String(), titles=fields.Dict()
)


@blp.route("/board", methods=["GET"])
@blp.arguments(BoardArgsSchema, location="query")
@blp.response(200, BoardPageSchema)
@errors(blp, 422)
def board(args: dict[str, Any]) -> dict[str, Any]:
    """Published and running challenges with their claims and red/yellow/green status."""
    viewer = require_user().username
    return sliced(
        get_engine().board(category=args.get("category"), unit=args.get("unit"), viewer=viewer), args
    )


@blp.route("/board/<instance_id>/claims", methods=["POST"])
@blp.arguments(ClaimCreateSchema)
@blp.response(201, FiledClaimSchema)
@errors(blp, 403, 404, 409, 422)
def file_claim(body: dict[str, Any], instance_id: str) -> dict[str, Any]:
    """File a claim (揭榜) on a published challenge; the acting user leads it (挂帅). Answers the claim and the board item."""
    return get_engine().file_claim(instance_id, require_user().username, body)


@blp.route("/scores", methods=["GET"])
@blp.arguments(PeriodArgsSchema, location="query")
@blp.response(200, ScorePageSchema)
@errors(blp, 422)
def scores(args: dict[str, Any]) -> dict[str, Any]:
    """The score ledger of a month (default: this month)."""
    period, rows = get_engine().scores(args.get("period"), viewer=require_user().username)
    return sliced(rows, args, period=period)


@blp.route("/leaderboard", methods=["GET"])
@blp.arguments(PeriodArgsSchema, location="query")
@blp.response(200, LeaderboardPageSchema)
@errors(blp, 422)
def leaderboard(args: dict[str, Any]) -> dict[str, Any]:
    """People ranked by points in a month, with the month's titles (破解难题之星, 明显进步之星)."""
    period, rows, titles = get_engine().leaderboard(args.get("period"), viewer=require_user().username)
    return sliced(rows, args, period=period, titles=titles)


@blp.route("/scores/export", methods=["GET"])
@blp.arguments(ExportArgsSchema, location="query")
@blp.response(
    200,
    content_type=XLSX,
    description="the month's ledger (first sheet) and leaderboard as an .xlsx workbook",
)
@errors(blp, 422)
def export_scores(args: dict[str, Any]) -> Response:
    """The score ledger and leaderboard of a month as an .xlsx workbook."""
    return scores_download(args.get("period"), viewer=require_user().username)
