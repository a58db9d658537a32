"""Scores (积分): the month's leaderboard with a bar chart, the ledger rows, titles of the month,
and the same data as an .xlsx workbook."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from engine import InvalidInputError

from ..exports import XLSX_MIMETYPE, workbook
from .common import fmt_when, get_engine, login_required

bp = Blueprint("scores", __name__, url_prefix="/scores")


def _load(period: str | None):
    engine = get_engine()
    try:
        period, board, titles = engine.leaderboard(period)
    except InvalidInputError:
        period, board, titles = engine.leaderboard(None)
    _, rows = engine.scores(period)
    return period, board, titles, rows


@bp.get("")
@login_required
def index():
    """The leaderboard of ``?period=YYYY-MM`` (this month by default)."""
    period, board, titles, rows = _load(request.args.get("period"))
    names = {r["username"]: r["display_name"] for r in board}
    top = max((r["points"] for r in board), default=0) or 1
    return render_template("pages/scores/index.html", period=period, board=board, titles=titles, rows=rows, names=names, top=top)


@bp.get("/export.xlsx")
@login_required
def export():
    """The month's leaderboard and ledger as an Excel workbook."""
    period, board, titles, rows = _load(request.args.get("period"))
    leaders = [[r["rank"], r["username"], r["display_name"], r["points"]] for r in board]
    ledger = [[r["username"], r["points"], r["reason"], r["instance_id"], fmt_when(r["awarded_at"])] for r in rows]
    body = workbook([
        (_("排行榜"), [_("名次"), _("用户名"), _("姓名"), _("积分")], leaders),
        (_("积分明细"), [_("用户名"), _("积分"), _("事由"), _("实例"), _("记入时间")], ledger),
    ])
    return Response(body, mimetype=XLSX_MIMETYPE, headers={"Content-Disposition": f'attachment; filename="scores-{period}.xlsx"'})
