"""总队长制 pages: the county's villages and their leaders (with the proposal form for admins),
the appointment letter (任命书) to print, the red/yellow/green problem list with its .xlsx, and
presence in the village (visits and nights) with a chart and the form to log a stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import COLOURS, ConflictError, EngineError, InvalidInputError, NotAllowedError, NotFoundError

from ..exports import problem_list_download
from .common import LOCAL_TZ, current_user, get_engine, login_required, one_language

bp = Blueprint("villages", __name__, url_prefix="/villages")

FILTERS = ("village", "town", "colour", "department")


def _refusal(exc: EngineError) -> str:
    errors = getattr(exc, "errors", None) or {}
    messages = [one_language(m) for ms in errors.values() for m in ms]
    return "；".join(messages) or one_language(exc.detail)


@bp.get("")
@login_required
def index():
    """The county's villages by town: class, 总队长 and letter, or vacant, or a proposal pending."""
    engine, me = get_engine(), current_user().username
    rows = engine.village_board(me)
    may_propose = engine.may_appoint_leaders(me)
    candidates = engine.village_leader_candidates(me) if may_propose else []
    return render_template(
        "pages/villages/index.html",
        rows=rows,
        may_propose=may_propose,
        candidates=candidates,
        year=engine.clock.now().astimezone(LOCAL_TZ).year,
    )


@bp.post("/propose")
@login_required
def propose():
    """Propose a 总队长 from the form; a refusal (the rule, one per village, one village per leader) is shown."""
    village, leader = request.form.get("village", "").strip(), request.form.get("leader", "").strip()
    reason = request.form.get("reason", "").strip()[:2000]
    try:
        get_engine().propose_village_leader(current_user().username, village, leader, reason)
    except (InvalidInputError, ConflictError, NotAllowedError, NotFoundError) as exc:
        flash(_refusal(exc), "error")
    else:
        flash(_("已提交常委会审定"))
    return redirect(url_for("villages.index"))


@bp.post("/assessment")
@login_required
def assess():
    """年度考核捆绑 from the form: the village's grade and what it gave each one answerable for it."""
    village = request.form.get("village", "").strip()
    try:
        year = int(request.form.get("year", ""))
        satisfaction = float(request.form.get("satisfaction", ""))
    except ValueError:
        flash(_("请填写年度和满意度（0 到 100）"), "error")
        return redirect(url_for("villages.index"))
    try:
        done = get_engine().assess_village(current_user().username, village, year, satisfaction)
    except (InvalidInputError, ConflictError, NotAllowedError, NotFoundError) as exc:
        flash(_refusal(exc), "error")
    else:
        shares = "、".join(f"{s.name} {s.points:g}" for s in done.shares) or _("无")
        flash(
            _(
                "%(village)s %(year)s 年度考核%(grade)s（%(score)s 分），捆绑计入：%(shares)s",
                village=done.village_name,
                year=done.year,
                grade=done.grade,
                score=f"{done.score:g}",
                shares=shares,
            )
        )
    return redirect(url_for("villages.index"))


@bp.get("/letters/<int:appointment_id>")
@login_required
def letter(appointment_id: int):
    """The appointment letter as issued, laid out to print (A4)."""
    try:
        found = get_engine().appointment_letter(appointment_id, current_user().username)
    except NotFoundError:
        abort(404)
    return render_template("pages/villages/letter.html", a=found, letter=found.letter)


def _filters() -> dict[str, Any]:
    args = {k: request.args.get(k, "").strip() for k in FILTERS}
    if args["colour"] not in (*COLOURS, "untriaged"):
        args["colour"] = ""
    return {k: v for k, v in args.items() if v}


@bp.get("/problems")
@login_required
def problems():
    """The red/yellow/green list of open problems: the county's, a town's or a village's."""
    engine, me = get_engine(), current_user().username
    chosen = _filters()
    rows = engine.problem_list(me, **chosen)
    counts = {c: 0 for c in (*COLOURS, "untriaged")}
    for r in rows:
        counts[r.colour or "untriaged"] += 1
    board = engine.village_board(me)
    return render_template(
        "pages/villages/problems.html",
        rows=rows,
        counts=counts,
        chosen=chosen,
        villages=[(v.village, v.village_name, v.town_name) for v in board],
        towns=engine.village_towns(me),
    )


@bp.get("/problems.xlsx")
@login_required
def problems_export():
    """The list with the page's filters as an Excel workbook (the API's ``/village-problems/export``)."""
    return problem_list_download(current_user().username, _filters())


@bp.get("/presence")
@login_required
def presence():
    """Visits and nights per person and village over the last ``days`` (90 by default), charted."""
    engine, me = get_engine(), current_user().username
    try:
        days = max(1, min(int(request.args.get("days", "90")), 3660))
    except ValueError:
        days = 90
    today = engine.clock.now().astimezone(LOCAL_TZ).date()  # the engine's clock: tests move it
    since = (today - timedelta(days=days)).isoformat()
    rows = engine.village_presence(me, since=since)
    top = max((r.visits + r.nights for r in rows), default=0) or 1
    villages = [(v.village, v.village_name) for v in engine.village_board(me)]
    return render_template(
        "pages/villages/presence.html",
        rows=rows,
        top=top,
        days=days,
        villages=villages,
        today=today.isoformat(),
    )


@bp.post("/presence")
@login_required
def log_visit():
    """Log one's own stay from the form."""
    try:
        nights = int(request.form.get("nights") or 0)
    except ValueError:
        nights = -1
    body = {
        "village": request.form.get("village", "").strip(),
        "day": request.form.get("day", "").strip(),
        "nights": nights,
        "note": request.form.get("note", "").strip()[:2000] or None,
    }
    try:
        get_engine().log_visit(current_user().username, {k: v for k, v in body.items() if v is not None})
    except (InvalidInputError, NotAllowedError) as exc:
        flash(_refusal(exc), "error")
    else:
        flash(_("已登记"))
    return redirect(url_for("villages.presence"))
