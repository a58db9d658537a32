"""Appraisal pages (三好创争): a scheme's ranking with each subject's dimension breakdown as an inline
SVG bar, the quota line and the awards; an award list under publicity (公示) where anyone of the
county files an objection and organisers handle them and finalise; a unit's archive; .xlsx exports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from engine import EngineError, InvalidInputError, NotAllowedError, NotFoundError

from ..exports import awards_download, ranking_download, unit_archive_download
from .common import LOCAL_TZ, act, current_user, get_engine, know_people, login_required, may, one_language

bp = Blueprint("appraisal", __name__, url_prefix="/appraisal")

COLOURS = ("#c0392b", "#2e86c1", "#28a745", "#d68910", "#7d3c98", "#17a589")  # one per dimension


def _scheme_choice(schemes: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    return next((d for d in schemes if d["name"] == wanted), schemes[0])


@bp.get("/rankings")
@login_required
def rankings():
    """A scheme's ranking of ``?period=`` (this year by default) with the dimension breakdown."""
    engine, me = get_engine(), current_user().username
    schemes = engine.list_schemes(me)
    chosen = _scheme_choice(schemes, request.args.get("scheme"))
    period = request.args.get("period") or None
    try:
        scheme, period, rows = engine.ranking(me, chosen["name"], period)
    except InvalidInputError:
        scheme, period, rows = engine.ranking(me, chosen["name"], None)
    dims = scheme["dimensions"]
    bars = [_bar(dims, r.dimensions) for r in rows]
    quota = (scheme.get("award") or {}).get("quota")
    lists = [lst for lst in engine.award_lists(me, period) if lst.scheme == scheme["name"]]
    return render_template(
        "pages/appraisal/rankings.html", schemes=schemes, scheme=scheme, period=period, rows=rows,
        bars=bars, dims=dims, colours=COLOURS, quota=quota, lists=lists, organiser=may("manage_appraisal"),
        en=str(get_locale() or "").startswith("en"),
    )  # fmt: skip


def _bar(dims: list[dict[str, Any]], scores: dict[str, float]) -> list[dict[str, Any]]:
    """Stacked segments of one subject: each dimension's weighted share of the best possible total."""
    best = sum(d["weight"] * d["max"] for d in dims) or 1
    x = 0.0
    out = []
    for i, d in enumerate(dims):
        width = round(100 * d["weight"] * scores.get(d["key"], 0) / best, 2)
        out.append({"x": x, "width": width, "colour": COLOURS[i % len(COLOURS)], "name": d["name"],
                    "name_en": d.get("name_en")})  # fmt: skip
        x = round(x + width, 2)
    return out


@bp.post("/rankings/propose")
@login_required
def propose():
    """Put the top of the ranking up for publicity (organisers), with the places given."""
    form = request.form
    body: dict[str, Any] = {"scheme": form.get("scheme", ""), "period": form.get("period", "")}
    if (form.get("quota") or "").isdigit():
        body["quota"] = int(form["quota"])
    try:
        listed = get_engine().propose_awards(current_user().username, body)
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
        return redirect(url_for("appraisal.rankings", scheme=body["scheme"], period=body["period"]))
    return redirect(url_for("appraisal.award_list", list_id=listed.id))


@bp.get("/rankings.xlsx")
@login_required
def ranking_export():
    """The ranking as an Excel workbook (the API's ``/rankings/export``)."""
    try:
        return ranking_download(request.args.get("scheme", "四强"), request.args.get("period"), None,
                                viewer=current_user().username)  # fmt: skip
    except (NotFoundError, InvalidInputError):
        abort(404)


@bp.get("/awards.xlsx")
@login_required
def awards_export():
    """The awards of a period as an Excel workbook (the API's ``/awards/export``)."""
    try:
        return awards_download(
            request.args.get("period"), request.args.get("kind"), viewer=current_user().username
        )
    except InvalidInputError:
        abort(404)


@bp.get("/lists/<int:list_id>")
@login_required
def award_list(list_id: int):
    """An award list under publicity: its entries, reserve, window and objections."""
    me = current_user().username
    try:
        listed = get_engine().award_list(list_id, me)
    except NotFoundError:
        abort(404)
    know_people(o.filed_by for o in listed.objections)
    last_day = (listed.window_ends.astimezone(LOCAL_TZ) - timedelta(days=1)).date().isoformat()
    return render_template(
        "pages/appraisal/list.html", listed=listed, last_day=last_day, organiser=may("manage_appraisal")
    )


@bp.post("/lists/<int:list_id>/objections")
@login_required
def object_to(list_id: int):
    """File an objection against an entry while the window is open."""
    form = request.form
    act(lambda: get_engine().file_objection(list_id, current_user().username, form.get("subject", ""),
                                            form.get("reason", "")), _("异议已提交"))  # fmt: skip
    return redirect(url_for("appraisal.award_list", list_id=list_id))


@bp.post("/lists/<int:list_id>/objections/<int:objection_id>")
@login_required
def handle(list_id: int, objection_id: int):
    """Uphold or dismiss an objection (organisers)."""
    form = request.form
    act(lambda: get_engine().handle_objection(list_id, objection_id, current_user().username,
                                              form.get("decision", ""), form.get("note", "")), _("异议已处理"))  # fmt: skip
    return redirect(url_for("appraisal.award_list", list_id=list_id))


@bp.post("/lists/<int:list_id>/finalise")
@login_required
def finalise(list_id: int):
    """Give the list's awards (after the window, every objection handled)."""
    act(lambda: get_engine().finalise_awards(list_id, current_user().username), _("名单已确定，奖项已授予"))
    return redirect(url_for("appraisal.award_list", list_id=list_id))


@bp.get("/units/<code>/archive")
@login_required
def unit_archive(code: str):
    """A unit's archive of rankings and awards (its leaders, organisers and admins)."""
    try:
        name, items = get_engine().unit_archive(code, current_user().username)
    except NotFoundError:
        abort(404)
    except NotAllowedError:
        abort(403)
    return render_template("pages/appraisal/unit.html", code=code, name=name, items=items)


@bp.get("/units/<code>/archive.xlsx")
@login_required
def unit_archive_export(code: str):
    """A unit's archive as an Excel workbook."""
    try:
        return unit_archive_download(code, viewer=current_user().username)
    except NotFoundError:
        abort(404)
    except NotAllowedError:
        abort(403)
