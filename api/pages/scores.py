"""Scores (积分): the month's leaderboard with a bar chart, the ledger rows, titles of the month,
and the same data as an .xlsx workbook."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from engine import InvalidInputError

from ..exports import scores_download
from .common import current_user, get_engine, know_people, login_required

bp = Blueprint("scores", __name__, url_prefix="/scores")


def _load(period: str | None):
    engine, me = get_engine(), current_user().username
    try:
        period, board, titles = engine.leaderboard(period, viewer=me)
    except InvalidInputError:
        period, board, titles = engine.leaderboard(None, viewer=me)
    _, rows = engine.scores(period, viewer=me)
    return period, board, titles, rows


@bp.get("")
@login_required
def index():
    """The leaderboard of ``?period=YYYY-MM`` (this month by default)."""
    period, board, titles, rows = _load(request.args.get("period"))
    know_people(r["username"] for r in rows)
    top = max((r["points"] for r in board), default=0) or 1
    return render_template(
        "pages/scores/index.html", period=period, board=board, titles=titles, rows=rows, top=top
    )


@bp.get("/export.xlsx")
@login_required
def export():
    """The month's ledger and leaderboard as an Excel workbook (the API's ``/scores/export``)."""
    period = request.args.get("period")
    try:
        return scores_download(period, viewer=current_user().username)
    except InvalidInputError:  # like the page itself, an unreadable month shows this month
        return scores_download(None, viewer=current_user().username)
