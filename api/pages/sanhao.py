"""三好创争: the organiser's page. The year's towns with where each stands and its awards, and
the form that starts the year for the chosen towns (one instance per town, its 班长 and 班副
taken from the town's posts by the engine). Each town's year then runs in the task pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import EngineError, InvalidInputError, SanhaoPublicity

from . import words
from .common import LOCAL_TZ, act, current_user, get_engine, login_required, one_language

bp = Blueprint("sanhao", __name__, url_prefix="/sanhao")

QUOTA_FIELDS = ("banzi", "banzhang", "banfu")
DEFAULT_QUOTAS = {"banzi": 4, "banzhang": 4, "banfu": 18}  # 姜堰's first batch


def award_words() -> dict[str, str]:
    return {"好班子": _("好班子"), "好班长": _("好班长"), "好班副": _("好班副"), "躺平奖": _("躺平奖")}


def phase_of(town: SanhaoPublicity) -> str:
    """Where a town stands, in words (the month's supervision names its month)."""
    if town.phase == "supervision" and town.current_month:
        return _("%(month)s 月度督导", month=town.current_month)
    return words.phases().get(town.phase, town.phase or "—")


def _year() -> int:
    value = request.args.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else datetime.now(LOCAL_TZ).year + 1


@bp.get("")
@login_required
def index():
    """The year's towns (those the viewer may see) and, for organisers, the start form."""
    return _page(_year(), {}, {})


def _page(year: int, form: dict[str, Any], errors: dict[str, str], status: int = 200):
    me = current_user().username
    engine = get_engine()
    towns = sorted(engine.sanhao_towns(year, me), key=lambda t: t.unit_name)
    organiser = bool(engine.campaign_organisers(me))
    return (
        render_template(
            "pages/sanhao/index.html",
            year=year,
            towns=towns,
            phase_of=phase_of,
            award_words=award_words(),
            organiser=organiser,
            units=engine.list_units(viewer=me, kind="town", limit=200).items if organiser else [],
            people=engine.list_users(limit=200, viewer=me) if organiser else [],
            form={"quotas": DEFAULT_QUOTAS, "towns": [], "panel": [], **form},
            errors=errors,
        ),
        status,
    )


@bp.post("/<instance_id>/objections")
@login_required
def object_to(instance_id: str):
    """An objection to a town's proposed award during publicity (anyone of the county)."""
    body = {"against": request.form.get("against", ""), "reason": request.form.get("reason", "")}
    act(
        lambda: get_engine().file_sanhao_objection(instance_id, current_user().username, body),
        _("异议已提交"),
    )
    return redirect(url_for("sanhao.index", year=request.form.get("year", "")))


@bp.post("/<instance_id>/nominations")
@login_required
def nominate(instance_id: str):
    """A 躺平奖 nomination of a cadre of the town (the organiser); the town's committee reviews it."""
    body = {"nominee": request.form.get("nominee", ""), "reason": request.form.get("reason", "")}
    act(lambda: get_engine().nominate_lying_flat(instance_id, current_user().username, body), _("提名已提交"))
    return redirect(url_for("sanhao.index", year=request.form.get("year", "")))


@bp.post("")
@login_required
def start():
    """Start the year for each chosen town; a town the engine refuses is named with the reason."""
    me = current_user().username
    if not get_engine().campaign_organisers(me):
        abort(403)  # administers no unit: the page offers no form either
    year_text = request.form.get("year", "")
    year = int(year_text) if year_text.isdigit() else 0
    form: dict[str, Any] = {
        "towns": request.form.getlist("towns"),
        "panel": request.form.getlist("panel"),
        "quotas": {k: request.form.get(f"quota_{k}", "") for k in QUOTA_FIELDS},
    }
    errors: dict[str, str] = {}
    if not 2000 <= year <= 2100:
        errors["year"] = _("年度须为 2000 至 2100 之间的年份")
    if not form["towns"]:
        errors["towns"] = _("请至少选择一个镇街")
    if not form["panel"]:
        errors["panel"] = _("请选择评审组成员")
    if not all(str(v).isdigit() for v in form["quotas"].values()):
        errors["quotas"] = _("名额须为整数")
    if errors:
        return _page(year or _year(), form, errors, 422)
    quotas = {k: int(v) for k, v in form["quotas"].items()}
    names = {u.code: u.name for u in get_engine().list_units(viewer=me, kind="town", limit=200).items}
    started, refused = [], []
    for town in form["towns"]:
        data = {
            "title": _("%(year)s年三好创争·%(town)s", year=year, town=names.get(town, town)),
            "year": year,
            "unit": town,
            "panel": form["panel"],
            "quotas": quotas,
        }
        try:
            get_engine().start("sanhao", actor=me, data=data)
            started.append(names.get(town, town))
        except InvalidInputError as exc:
            details = [one_language(m) for ms in (exc.errors or {}).values() for m in ms]
            refused.append(f"{names.get(town, town)}：{'；'.join(details) or one_language(exc.detail)}")
        except EngineError as exc:
            refused.append(f"{names.get(town, town)}：{one_language(exc.detail)}")
    if started:
        flash(_("已发起：%(towns)s", towns="、".join(started)))
    for line in refused:
        flash(line, "error")
    return redirect(url_for("sanhao.index", year=year))
