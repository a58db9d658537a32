"""The front-line pages (五个一线): the dispatch page (posts filled and vacant drawn as bars, the
pool, the cadres on post, the .xlsx export), the post catalogue with its forms, the nomination
form (self-nomination, a unit's recommendation, the organisation's selection) and a person's
growth archive. Every change goes through the Engine methods the REST API uses, as the logged-in
user, so the rulebook decides.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import FRONT_LINES, ConflictError, EngineError, InvalidInputError, NotAllowedError, NotFoundError

from ..exports import archive_download, frontline_dashboard_download
from .common import current_user, get_engine, login_required, one_language

bp = Blueprint("frontline", __name__, url_prefix="/frontline")

POST_FIELDS = (
    "front_line",
    "unit",
    "title",
    "duties",
    "capacity",
    "supervisor",
    "ranks",
    "field",
    "rotation_months",
)


def front_lines() -> dict[str, str]:
    return {
        "project": _("重大项目建设"),
        "investment": _("招商引资"),
        "rural": _("乡村振兴"),
        "petition": _("信访维稳"),
        "community": _("社区服务"),
    }


def intakes() -> dict[str, str]:
    return {"self": _("个人自荐"), "unit": _("单位推荐"), "organisation": _("组织选派")}


def phases() -> dict[str, str]:
    return {
        "pool": _("人选库（待审查研判）"),
        "assessed": _("已研判，待选派"),
        "on_post": _("在岗锻炼"),
        "appraising": _("期满鉴定"),
        "not_selected": _("未选派"),
        "closed": _("锻炼结束"),
    }


def entry_kinds() -> dict[str, str]:
    """The growth archive's kinds of line in the page's language."""
    return {
        "claim": _("揭榜"),
        "report": _("汇报"),
        "acceptance": _("验收"),
        "assessment": _("年终考评"),
        "score": _("加分"),
        "recommendation": _("推荐使用"),
        "award": _("奖项"),
        "ranking": _("测评排名"),
        "bundled": _("捆绑考核"),
        "frontline_nomination": _("提名"),
        "frontline_screening": _("资格审查"),
        "frontline_assessment": _("研判"),
        "frontline_not_selected": _("未选派"),
        "frontline_dispatch": _("选派"),
        "frontline_onboarding": _("报到"),
        "frontline_report": _("周报告"),
        "frontline_bulletin": _("月通报"),
        "frontline_review": _("季度点评"),
        "frontline_rotation": _("轮岗"),
        "frontline_list_positive": _("正面清单"),
        "frontline_list_negative": _("负面清单"),
        "frontline_stint_end": _("离岗"),
        "frontline_appraisal": _("鉴定"),
    }


def _errors(exc: InvalidInputError) -> dict[str, str]:
    return {f: "；".join(one_language(m) for m in ms) for f, ms in (exc.errors or {}).items()} or {
        "_": one_language(exc.detail)
    }


# ---- the dispatch page ----------------------------------------------------------------------------
@bp.get("")
@login_required
def index():
    """Posts filled and vacant per front line, the pool and the cadres on post (the organisation department)."""
    me = current_user().username
    engine = get_engine()
    if not engine.may_manage_frontline(me):
        abort(403)
    rows = engine.frontline_dashboard(me)
    filled: Counter[str] = Counter()
    capacity: Counter[str] = Counter()
    ranks: Counter[str] = Counter()
    for r in rows:
        filled[r.front_line] += r.filled
        capacity[r.front_line] += r.capacity
        ranks.update(r.by_rank)
    names = front_lines()
    lines = [(key, names[key], filled[key], capacity[key]) for key in FRONT_LINES if capacity[key]]
    return render_template(
        "pages/frontline/index.html",
        rows=rows,
        lines=lines,
        top=max([c for *_, c in lines] or [1]),
        ranks=sorted(ranks.items()),
        top_rank=max(ranks.values() or [1]),
        pool=engine.frontline_pool(me),
        stints=engine.frontline_stints(me),
        front_lines=names,
        intakes=intakes(),
        phases=phases(),
    )


@bp.get("/dashboard.xlsx")
@login_required
def dashboard_xlsx():
    """The dashboard as a workbook (the REST API's own export)."""
    try:
        return frontline_dashboard_download(viewer=current_user().username)
    except NotAllowedError:
        abort(403)


# ---- the post catalogue ---------------------------------------------------------------------------
@bp.get("/posts")
@login_required
def posts():
    """The county's posts; forms to add and change them for the organisation department."""
    return _posts({}, {})


def _posts(form: dict[str, str], errors: dict[str, str], status: int = 200):
    me = current_user().username
    engine = get_engine()
    return (
        render_template(
            "pages/frontline/posts.html",
            posts=engine.frontline_posts(me),
            may_manage=engine.may_manage_frontline(me),
            units={u.code: u.name for u in engine.list_units(viewer=me, limit=500).items},
            people=engine.frontline_nominees(me)["organisation"],  # the county's people with a post
            front_lines=front_lines(),
            form=form,
            errors=errors,
        ),
        status,
    )


def _post_body(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    body: dict[str, Any] = {
        k: form[k] for k in ("front_line", "unit", "title", "duties", "supervisor") if form.get(k)
    }
    errors: dict[str, str] = {}
    for name in ("capacity", "rotation_months"):
        if form.get(name):
            try:
                body[name] = int(form[name])
            except ValueError:
                errors[name] = _("请填写整数")
    body["ranks"] = [r.strip() for r in form.get("ranks", "").replace("，", ",").split(",") if r.strip()]
    body["field"] = form.get("field") or None
    return body, errors


@bp.post("/posts")
@login_required
def create_post():
    """Add a post from the form; nothing is created while a field is wrong."""
    form = {k: request.form.get(k, "").strip() for k in POST_FIELDS}
    body, errors = _post_body(form)
    if not errors:
        try:
            created = get_engine().create_frontline_post(current_user().username, body)
        except NotAllowedError:
            abort(403)
        except InvalidInputError as exc:
            errors = _errors(exc)
        else:
            flash(_("已添加岗位「%(title)s」", title=created.title))
            return redirect(url_for("frontline.posts"))
    return _posts(form, errors, 422)


@bp.post("/posts/<int:post_id>")
@login_required
def update_post(post_id: int):
    """Change a post's places or close it to new dispatches."""
    body: dict[str, Any] = {"active": request.form.get("active") == "1"}
    try:
        body["capacity"] = int(request.form.get("capacity", ""))
    except ValueError:
        flash(_("容量须为整数"), "error")
        return redirect(url_for("frontline.posts"))
    try:
        changed = get_engine().update_frontline_post(post_id, current_user().username, body)
    except NotAllowedError:
        abort(403)
    except NotFoundError:
        abort(404)
    except InvalidInputError as exc:
        flash("；".join(_errors(exc).values()), "error")
    else:
        flash(_("已更新岗位「%(title)s」", title=changed.title))
    return redirect(url_for("frontline.posts"))


# ---- the nomination form --------------------------------------------------------------------------
@bp.get("/nominate")
@login_required
def nominate():
    """Put a cadre into the pool: oneself, a cadre of a unit one leads, or anyone for the organisation department."""
    return _nominate({"intake": "self"}, {})


def _nominate(form: dict[str, str], errors: dict[str, str], status: int = 200):
    return (
        render_template(
            "pages/frontline/nominate.html",
            nominees=get_engine().frontline_nominees(current_user().username),
            front_lines=front_lines(),
            intakes=intakes(),
            form=form,
            errors=errors,
        ),
        status,
    )


@bp.post("/nominate")
@login_required
def file_nomination():
    me = current_user()
    form = {k: request.form.get(k, "").strip() for k in ("intake", "cadre", "front_line", "fields", "reason")}
    cadre = me.username if form["intake"] == "self" else form["cadre"]
    names = dict(get_engine().frontline_nominees(me.username).get(form["intake"], []))
    data = {
        "intake": form["intake"],
        "cadre": cadre,
        "front_line": form["front_line"],
        "fields": [f.strip() for f in form["fields"].replace("，", ",").split(",") if f.strip()],
        "reason": form["reason"],
        "title": _("五个一线：%(name)s", name=names.get(cadre, cadre)),
    }
    try:
        started = get_engine().start("frontline", actor=me.username, data=data)
    except InvalidInputError as exc:
        return _nominate(form, _errors(exc), 422)
    except ConflictError as exc:
        return _nominate(form, {"cadre": one_language(exc.detail)}, 409)
    flash(_("已提名，进入人选库"))
    return redirect(url_for("instances.show", instance_id=started.id))


# ---- a person's growth archive --------------------------------------------------------------------
@bp.get("/people/<username>")
@login_required
def archive(username: str):
    """Everything the person did and was judged on, oldest first, each line linked to its instance."""
    me = current_user().username
    try:
        entries = get_engine().person_archive(username, me)
    except EngineError:
        abort(404)
    name = get_engine().display_names([username]).get(username, username)
    return render_template(
        "pages/frontline/archive.html",
        entries=entries,
        name=name,
        username=username,
        kinds=entry_kinds(),
        may_list=get_engine().frontline_list_target(username, me) is not None,
    )


@bp.post("/people/<username>/list-entries")
@login_required
def add_list_entry(username: str):
    """A positive or negative list entry for a cadre on post, by the post's manager or the organisation department."""
    me = current_user().username
    instance_id = get_engine().frontline_list_target(username, me)
    if instance_id is None:
        abort(404)
    body = {"kind": request.form.get("kind", ""), "text": request.form.get("text", "").strip()}
    try:
        get_engine().add_list_entry(instance_id, me, body)
    except InvalidInputError as exc:
        flash("；".join(_errors(exc).values()), "error")
    except (ConflictError, NotAllowedError) as exc:
        flash(one_language(exc.detail), "error")
    else:
        flash(_("已登记"))
    return redirect(url_for("frontline.archive", username=username))


@bp.get("/people/<username>/archive.xlsx")
@login_required
def archive_xlsx(username: str):
    try:
        return archive_download(username, viewer=current_user().username)
    except EngineError:
        abort(404)
