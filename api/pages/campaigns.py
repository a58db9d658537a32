"""The campaign pages (年度榜单): the county's campaigns and, for admins, a form to start one; a
campaign's problems, its counts drawn as bars and its statistics; the import of its list from Excel
with a preview (a dry run) before the real import; publication of the whole list; and the start
of the shipped collection process (年度问题清单征集, ``annual_list``) for the campaign.

Every change goes through the Engine methods the REST API uses, as the logged-in user, so the
rulebook decides; the downloads (the template, the statistics) are the REST API's own routes.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from engine import (
    CAMPAIGN_LIST_MAX_BYTES,
    CampaignRecord,
    ConflictError,
    EngineError,
    ImportResult,
    InvalidInputError,
    NotFoundError,
    RowError,
    TooLargeError,
)

from ..exports import campaign_stats_download, campaign_template_download
from . import words
from .common import LOCAL_TZ, current_user, get_engine, login_required, one_language

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

GROUPINGS = ("category", "unit", "rank", "status", "month")
XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive


def statuses() -> dict[str, str]:
    """A campaign problem's status in words: before publication, the challenge's phases, the instance's end."""
    return {
        "filed": _("待初审"),
        "approved": _("待发布"),
        **words.phases(),
        "cancelled": _("已撤销"),
        "error": _("出错"),
    }


def groupings() -> dict[str, str]:
    return {
        "category": _("类别"),
        "unit": _("单位"),
        "rank": _("职级"),
        "status": _("状态"),
        "month": _("月份"),
    }


def _campaign(campaign_id: int) -> CampaignRecord:
    """The campaign if the viewer's county runs it; 404 for another county's (or none)."""
    try:
        return get_engine().get_campaign(campaign_id, current_user().username)
    except NotFoundError:
        abort(404)


# ---- the list and the creation form --------------------------------------------------------------
@bp.get("")
@login_required
def index():
    """The campaigns of the viewer's county, newest first; a form to start one for those who may."""
    return _index({}, {})


def _index(form: dict[str, str], errors: dict[str, str], status: int = 200):
    me = current_user().username
    engine = get_engine()
    return (
        render_template(
            "pages/campaigns/index.html",
            campaigns=engine.list_campaigns(me),
            organisers=engine.campaign_organisers(me),
            statuses=statuses(),
            form=form,
            errors=errors,
            this_year=datetime.now(LOCAL_TZ).year,
        ),
        status,
    )


@bp.post("")
@login_required
def create():
    """Start a campaign from the form; nothing is created while a field is wrong."""
    if not get_engine().campaign_organisers(current_user().username):
        abort(403)  # runs no unit's campaigns: the page offers no form either
    form = {
        k: request.form.get(k, "").strip()
        for k in ("title", "year", "organiser_unit", "categories", "deadline", "key_prefix", "list_approved")
    }
    body, errors = _campaign_body(form)
    if not errors:
        try:
            created = get_engine().create_campaign(current_user().username, body)
        except InvalidInputError as exc:
            errors = {f: "；".join(one_language(m) for m in ms) for f, ms in (exc.errors or {}).items()}
            errors = errors or {"title": _refusal(exc)}
        except ConflictError:
            errors = {"key_prefix": _("编号前缀已被其他榜单使用，请另填一个")}
        except EngineError as exc:
            errors = {"organiser_unit": one_language(exc.detail)}
        else:
            flash(_("已创建榜单「%(title)s」", title=created.title))
            return redirect(url_for("campaigns.show", campaign_id=created.id))
    return _index(form, errors, 422)


def _campaign_body(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The REST body of a new campaign from the form's fields, or the errors by field (in words)."""
    errors: dict[str, str] = {}
    if not form["title"]:
        errors["title"] = _("请填写榜单名称")
    elif len(form["title"]) > 300:
        errors["title"] = _("榜单名称不超过 300 字")
    year = int(form["year"]) if form["year"].isdigit() else 0
    if not 2000 <= year <= 2100:
        errors["year"] = _("年度须为 2000 至 2100 之间的年份")
    if not form["organiser_unit"]:
        errors["organiser_unit"] = _("请选择牵头组织单位")
    categories = [line.strip() for line in form["categories"].splitlines() if line.strip()]
    if not categories:
        errors["categories"] = _("请至少填写一个类别，每行一个")
    elif len(set(categories)) != len(categories):
        errors["categories"] = _("类别不能重复")
    elif len(categories) > 50 or any(len(c) > 100 for c in categories):
        errors["categories"] = _("最多 50 个类别，每个不超过 100 字")
    deadline = None
    if form["deadline"]:
        try:
            deadline = datetime.combine(date.fromisoformat(form["deadline"]), time(23, 59), LOCAL_TZ)
        except ValueError:
            errors["deadline"] = _("请填写有效日期")
    prefix = form["key_prefix"]
    if prefix and not (len(prefix) <= 39 and prefix[0].isascii() and prefix[0].isalnum()
                       and all(c.isascii() and (c.isalnum() or c in "-_") for c in prefix)):  # fmt: skip
        errors["key_prefix"] = _("编号前缀只能由字母、数字、“-”和“_”组成")
    body: dict[str, Any] = {
        "title": form["title"],
        "year": year,
        "organiser_unit": form["organiser_unit"],
        "categories": categories,
        "submission_deadline": deadline,
        "list_approved": form["list_approved"] == "1",
    }
    if prefix:
        body["key_prefix"] = prefix
    return body, errors


# ---- one campaign ------------------------------------------------------------------------------
@bp.get("/<int:campaign_id>")
@login_required
def show(campaign_id: int):
    """A campaign: facts, problems, counts by category and status as bars, statistics ``?by=``."""
    campaign = _campaign(campaign_id)
    me = current_user().username
    engine = get_engine()
    by = request.args.get("by") if request.args.get("by") in GROUPINGS else "category"
    problems = engine.campaign_problems(campaign_id, me)
    units = {p.lead_unit: p.lead_unit_name for p in problems}
    names = {"unit": units, "status": statuses()}.get(by, {})
    rows = engine.campaign_stats(campaign_id, me, by)
    words_ = statuses()
    stats = [(names.get(r.key, r.key), r) for r in rows]
    return render_template(
        "pages/campaigns/show.html",
        campaign=campaign,
        problems=problems,
        statuses=words_,
        by=by,
        groupings=groupings(),
        stats=stats,
        stat_items=[(r.key, name, r.problems) for name, r in stats],
        category_items=[(c, c, n) for c, n in campaign.by_category.items()],
        status_items=[
            (k, words_.get(k, k), n) for k, n in sorted(campaign.by_status.items(), key=_status_order)
        ],
        top_stat=max((r.problems for r in rows), default=0) or 1,
        top_category=max(campaign.by_category.values(), default=0) or 1,
        top_status=max(campaign.by_status.values(), default=0) or 1,
        may_manage=engine.may_manage_campaign(campaign_id, me),
        waiting=campaign.by_status.get("approved", 0),
        report=engine.campaign_report(campaign_id, me),
        may_assess=engine.may_assess_campaign(campaign_id, me),
    )


@bp.get("/<int:campaign_id>/stats.xlsx")
@login_required
def stats_export(campaign_id: int):
    """The campaign's statistics ``?by=`` as an Excel workbook (the API's ``…/stats/export``)."""
    by = request.args.get("by") if request.args.get("by") in GROUPINGS else "category"
    try:
        return campaign_stats_download(campaign_id, by, viewer=current_user().username)
    except NotFoundError:
        abort(404)


@bp.get("/<int:campaign_id>/template.xlsx")
@login_required
def template(campaign_id: int):
    """The campaign's list template (the API's ``…/problems/template``)."""
    try:
        return campaign_template_download(campaign_id, viewer=current_user().username)
    except NotFoundError:
        abort(404)


def _status_order(item: tuple[str, int]) -> int:
    """Statuses in the order a problem goes through them."""
    order = list(statuses())
    return order.index(item[0]) if item[0] in order else len(order)


@bp.post("/<int:campaign_id>/publish")
@login_required
def publish(campaign_id: int):
    """Publish every problem of the campaign that waits for publication, at once."""
    _campaign(campaign_id)
    try:
        done = get_engine().publish_campaign(campaign_id, current_user().username)
    except NotFoundError:
        abort(404)
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
    else:
        flash(_("已发布 %(n)s 个问题", n=done.published) if done.published else _("没有待发布的问题"))
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


# ---- importing the list ------------------------------------------------------------------------
def _managed(campaign_id: int) -> CampaignRecord:
    campaign = _campaign(campaign_id)
    if not get_engine().may_manage_campaign(campaign_id, current_user().username):
        abort(403)
    return campaign


@bp.get("/<int:campaign_id>/import")
@login_required
def import_page(campaign_id: int):
    """Upload a list: the template to download, the file field, nothing checked yet."""
    return _import(_managed(campaign_id), None, None, [])


def _import(campaign: CampaignRecord, result: ImportResult | None, content: str | None,
            errors: list[RowError], status: int = 200):  # fmt: skip
    return (
        render_template(
            "pages/campaigns/import.html",
            campaign=campaign,
            result=result,
            content=content,
            errors=errors,
            max_mib=CAMPAIGN_LIST_MAX_BYTES // (1024 * 1024),
        ),
        status,
    )


@bp.post("/<int:campaign_id>/import")
@login_required
def import_list(campaign_id: int):
    """First click: check the uploaded file and show what would be imported (a dry run). Second
    click (``confirm``): import the file the preview checked, which is checked again."""
    campaign = _managed(campaign_id)
    confirm = request.form.get("confirm") == "1"
    try:
        content = _content(confirm)
    except ValueError as exc:
        return _import(campaign, None, None, [RowError(0, "", str(exc))], 422)
    try:
        result = get_engine().import_problems(
            campaign_id, current_user().username, content, dry_run=not confirm
        )
    except TooLargeError:
        return _import(campaign, None, None, [RowError(0, "", _too_large())], 413)
    except InvalidInputError as exc:
        return _import(campaign, None, None, [RowError(0, "", _refusal(exc))], 422)
    if result.errors:
        return _import(campaign, result, None, result.errors, 422)
    if confirm:
        flash(_("已导入 %(n)s 个问题", n=result.imported) + (
            _("，跳过已导入的 %(n)s 个", n=len(result.skipped)) if result.skipped else ""))  # fmt: skip
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    return _import(campaign, result, base64.b64encode(content).decode("ascii"), [])


def _refusal(exc: EngineError) -> str:
    """A refusal in the page's language: its field messages when it has some, else its detail."""
    errors: dict[str, list[str]] = getattr(exc, "errors", None) or {}
    return "；".join(one_language(m) for ms in errors.values() for m in ms) or one_language(exc.detail)


def too_large_page(_exc: Exception):  # Flask hook
    """A request over the server's size limit, refused before the view: the import page says why."""
    campaign_id = (request.view_args or {}).get("campaign_id")
    if request.endpoint == "campaigns.import_list" and campaign_id is not None and current_user():
        return _import(_managed(campaign_id), None, None, [RowError(0, "", _too_large())], 413)
    return render_template("pages/error.html", message=_too_large(), code=413), 413


def _too_large() -> str:
    return _("文件过大：不能超过 %(n)sM", n=CAMPAIGN_LIST_MAX_BYTES // (1024 * 1024))


def _content(confirm: bool) -> bytes:
    """The uploaded .xlsx (first click) or the checked file the preview carried back (second click)."""
    try:
        if confirm:
            try:
                content = base64.b64decode(request.form.get("content", ""), validate=True)
            except binascii.Error:
                raise ValueError(_("文件已失效，请重新上传")) from None
        else:
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                raise ValueError(_("请选择要上传的 Excel 文件"))
            content = upload.read(CAMPAIGN_LIST_MAX_BYTES + 1)
    except RequestEntityTooLarge:
        raise ValueError(_too_large()) from None
    if len(content) > CAMPAIGN_LIST_MAX_BYTES:
        raise ValueError(_too_large())
    if not content.startswith(XLSX_MAGIC):
        raise ValueError(_("只接受 Excel 工作簿文件，请用本页的模板填写后上传"))
    return content


# ---- collecting the list from units (the shipped annual_list process) --------------------------
COLLECTION_PROCESS = "annual_list"
PICK_LIMIT = 2000  # units and people a collection form offers


def _collect(campaign: CampaignRecord, form: dict[str, Any], errors: dict[str, str], status: int = 200):
    engine, me = get_engine(), current_user().username
    units = [u for u in engine.list_units(viewer=me, limit=PICK_LIMIT).items if u.parent is not None]
    people = [u for u in engine.list_users(limit=PICK_LIMIT, viewer=me) if u.active and u.tenant]
    return render_template(
        "pages/campaigns/collect.html",
        campaign=campaign,
        units=units,
        people=sorted(people, key=lambda u: u.display_name or u.username),
        form=form,
        errors=errors,
    ), status


@bp.get("/<int:campaign_id>/collect")
@login_required
def collect_page(campaign_id: int):
    """The form that opens the collection: units that submit, the panel, the deadline."""
    return _collect(_managed(campaign_id), {"discussion_days": "7", "units": [], "panel": []}, {})


@bp.post("/<int:campaign_id>/collect")
@login_required
def collect(campaign_id: int):
    """Start the collection for the campaign; nothing starts while a field is wrong."""
    campaign = _managed(campaign_id)
    form: dict[str, Any] = {
        "units": request.form.getlist("units"),
        "panel": request.form.getlist("panel"),
        **{k: request.form.get(k, "").strip() for k in ("deadline", "reminder", "discussion_days")},
    }
    errors: dict[str, str] = {}
    if not form["units"]:
        errors["units"] = _("请至少选择一个报送单位")
    if not form["panel"]:
        errors["panel"] = _("请至少选择一名评审组成员")
    deadline, reminder = _day_end(form["deadline"]), _day_end(form["reminder"])
    if deadline is None:
        errors["deadline"] = _("请填写有效日期")
    if form["reminder"] and reminder is None:
        errors["reminder"] = _("请填写有效日期")
    days = form["discussion_days"]
    if not (days.isdigit() and int(days) <= 60):
        errors["discussion_days"] = _("公示讨论天数须为 0 至 60 的整数")
    if errors:
        return _collect(campaign, form, errors, 422)
    data: dict[str, Any] = {
        "campaign": campaign_id,
        "title": _("%(title)s问题征集", title=campaign.title),
        "unit": campaign.organiser_unit,
        "units": form["units"],
        "panel": form["panel"],
        "submission_deadline": deadline,
        "discussion_days": int(days),
    }
    if reminder:
        data["reminder_at"] = reminder
    try:
        started = get_engine().start(COLLECTION_PROCESS, actor=current_user().username, data=data)
    except EngineError as exc:
        return _collect(campaign, form, {"": one_language(exc.detail)}, 422)
    flash(_("已向 %(n)s 个单位发起问题征集", n=len(form["units"])))
    return redirect(url_for("instances.show", instance_id=started.id))


def _day_end(value: str) -> str | None:
    """A date typed on the form as the end of that day in Beijing time (ISO), or None."""
    try:
        return datetime.combine(date.fromisoformat(value), time(23, 59), LOCAL_TZ).isoformat()
    except ValueError:
        return None
