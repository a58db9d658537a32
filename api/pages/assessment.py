"""The 考评组's page of a campaign (年终考评): every item with who works it, how far it got and its
history, and one form to give each open item its verdict (破题 / 未破题 / 结转) in one sitting.

Each verdict completes that item's ``year_end_assessment`` task through the Engine, one by one: a
refused row keeps what was typed and says why beside it, the others are done. The organiser opens
the assessment here, carries unsolved items into another campaign, and reads the report.
Only the 考评组 (group ``evaluator``) and admins see the page (the rulebook's ``assess_campaign``).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import AssessmentRow, EngineError, FormInvalidError, NotAllowedError, NotFoundError

from . import words
from .campaigns import statuses
from .common import current_user, get_engine, login_required, one_language

bp = Blueprint("assessment", __name__, url_prefix="/campaigns")


def verdicts() -> dict[str, str]:
    return {"solved": _("破题"), "unsolved": _("未破题"), "carry_over": _("结转")}


def rags() -> dict[str, str]:
    return {"green": _("绿灯"), "yellow": _("黄灯"), "red": _("红灯")}


@bp.get("/<int:campaign_id>/assessment")
@login_required
def show(campaign_id: int):
    """The campaign's items for the 考评组, with a verdict form for each item still open."""
    return _page(campaign_id, {}, {})


def _page(campaign_id: int, typed: dict[str, dict[str, str]], errors: dict[str, str], status: int = 200):
    engine, me = get_engine(), current_user().username
    try:
        campaign = engine.get_campaign(campaign_id, me)
        rows = engine.assessment_sheet(campaign_id, me)
    except NotFoundError:
        abort(404)
    except NotAllowedError:
        return render_template("pages/assessment/forbidden.html", campaign=campaign), 403
    may_manage = engine.may_manage_campaign(campaign_id, me)
    others = [c for c in engine.list_campaigns(me) if c.id != campaign_id] if may_manage else []
    return (
        render_template(
            "pages/assessment/show.html",
            campaign=campaign,
            rows=rows,
            statuses={**statuses(), **words.phases()},
            verdicts=verdicts(),
            rags=rags(),
            typed=typed,
            errors=errors,
            open_count=sum(1 for r in rows if r.task_id),
            may_manage=may_manage,
            others=others,
            report=engine.campaign_report(campaign_id, me),
        ),
        status,
    )


@bp.post("/<int:campaign_id>/assessment")
@login_required
def assess(campaign_id: int):
    """Give every row with a verdict chosen its verdict; rows refused keep their input and reason."""
    engine, me = get_engine(), current_user().username
    rows = _rows(campaign_id)
    typed: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    done = 0
    for row in rows:
        if row.task_id is None:
            continue
        verdict = request.form.get(f"verdict-{row.task_id}", "").strip()
        comment = request.form.get(f"comment-{row.task_id}", "").strip()
        if not verdict:
            if comment:
                typed[row.task_id] = {"verdict": "", "comment": comment}
                errors[row.task_id] = _("请选择考评结论")
            continue
        try:
            engine.complete(row.task_id, me, {"verdict": verdict, "comment": comment})
        except FormInvalidError as exc:
            typed[row.task_id] = {"verdict": verdict, "comment": comment}
            errors[row.task_id] = _comment_error(exc)
        except EngineError as exc:
            typed[row.task_id] = {"verdict": verdict, "comment": comment}
            errors[row.task_id] = one_language(exc.detail)
        else:
            done += 1
    if done:
        flash(_("已提交 %(n)s 项考评结论", n=done))
    if errors:
        return _page(campaign_id, typed, errors, 422)
    if not done:
        flash(_("没有选择任何考评结论"), "error")
    return redirect(url_for("assessment.show", campaign_id=campaign_id))


def _rows(campaign_id: int) -> list[AssessmentRow]:
    try:
        return get_engine().assessment_sheet(campaign_id, current_user().username)
    except NotFoundError:
        abort(404)
    except NotAllowedError:
        abort(403)


def _comment_error(exc: FormInvalidError) -> str:
    if "comment" in (exc.errors or {}):
        return _("未破题或结转须填写考评意见")
    if "verdict" in (exc.errors or {}):
        return _("请选择考评结论")
    return one_language(exc.detail)


@bp.post("/<int:campaign_id>/assessment/open")
@login_required
def open_assessment(campaign_id: int):
    """The organiser opens the year-end assessment on every running item."""
    try:
        done = get_engine().open_assessment(campaign_id, current_user().username)
    except NotFoundError:
        abort(404)
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
    else:
        flash(
            _("已为 %(n)s 个事项开启年终考评", n=done.opened) if done.opened else _("没有需要开启考评的事项")
        )
    return redirect(url_for("assessment.show", campaign_id=campaign_id))


@bp.post("/<int:campaign_id>/assessment/carry-over")
@login_required
def carry_over(campaign_id: int):
    """The organiser carries the unsolved items into the campaign chosen (结转)."""
    target = request.form.get("to_campaign", "")
    if not target.isdigit():
        flash(_("请选择结转到的榜单"), "error")
        return redirect(url_for("assessment.show", campaign_id=campaign_id))
    try:
        done = get_engine().carry_over(campaign_id, current_user().username, int(target))
    except NotFoundError:
        abort(404)
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
    else:
        flash(_("已结转 %(n)s 个事项", n=done.carried) if done.carried else _("没有需要结转的事项"))
    return redirect(url_for("assessment.show", campaign_id=campaign_id))
