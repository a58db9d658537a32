"""The organisation page (组织机构): the tenant's unit tree with search, a unit's attributes,
children and members, and for admins forms to add or edit a unit and to give a person a post.

Every change goes through the same Engine methods as the REST API, with the logged-in user as the
actor, so the rulebook decides here too; a refusal comes back as a flash message.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import EngineError, NotFoundError, UnitRecord

from .common import current_user, get_engine, login_required, may

bp = Blueprint("org", __name__, url_prefix="/org")


def kind_labels() -> dict[str, str]:
    """Unit kinds as the page names them, in the request's language."""
    return {
        "county": _("县"),
        "town": _("乡镇"),
        "department": _("部门"),
        "village": _("村"),
        "community": _("社区"),
        "office": _("科室"),
        "company": _("企业"),
        "team": _("专班"),
    }


TREE_LIMIT = 5_000  # a county has ~2,000 units; beyond this the page asks for a search
OPEN_LEVELS = 2  # the county and its towns start unfolded


@bp.get("")
@login_required
def index():
    """The unit tree of the viewer's tenant, or the units matching ``q``."""
    me = current_user()
    engine = get_engine()
    q = (request.args.get("q") or "").strip()[:100]
    page = engine.list_units(viewer=me.username, q=q or None, limit=TREE_LIMIT)
    children: dict[str | None, list[UnitRecord]] = {}
    codes = {u.code for u in page.items}
    for u in page.items:
        children.setdefault(u.parent if u.parent in codes else None, []).append(u)
    return render_template(
        "pages/org/index.html",
        q=q,
        units=page.items,
        total=page.total,
        children=children,
        kinds=kind_labels(),
        open_levels=OPEN_LEVELS,
        may_create_tenant=engine.may_manage_org(me.username, None),
    )


@bp.get("/units/<code>")
@login_required
def show(code: str):
    """A unit: attributes, the units under it, and who holds which post there."""
    me = current_user()
    engine = get_engine()
    try:
        detail = engine.get_unit(code, viewer=me.username)
    except NotFoundError:
        abort(404)
    parent = engine.get_unit(detail.unit.parent).unit if detail.unit.parent else None
    return render_template(
        "pages/org/show.html",
        unit=detail.unit,
        parent=parent,
        children=detail.children,
        members=detail.members,
        kinds=kind_labels(),
        may_manage=engine.may_manage_org(me.username, detail.unit.tenant),
        may_read_archive=may("read_archives"),
    )


def _attributes(text: str) -> dict[str, str] | None:
    """``村类别=深度贫困村`` lines as a dict; ``None`` (keep) when the field was not sent."""
    if text is None:
        return None
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


@bp.post("/units")
@login_required
def save():
    """Add or edit a unit (admins of its tenant; a unit without a parent is a new county)."""
    me = current_user()
    form = request.form
    code = form.get("code", "").strip()
    parent = form.get("parent", "").strip() or None
    try:
        get_engine().put_unit(
            code,
            name=form.get("name", "").strip(),
            kind=form.get("kind", ""),
            parent=parent,
            attributes=_attributes(form.get("attributes")),
            actor=me.username,
        )
    except EngineError as exc:
        flash(_problem(exc), "error")
        back = parent or (code if code and form.get("editing") else None)
        return redirect(url_for("org.show", code=back) if back else url_for("org.index"))
    flash(_("单位已保存"))
    return redirect(url_for("org.show", code=code))


def _problem(exc: EngineError) -> str:
    """The refusal in one line: the field messages when there are some, else the detail."""
    errors: dict[str, list[str]] = getattr(exc, "errors", None) or {}
    return "；".join(m for messages in errors.values() for m in messages) or exc.detail


@bp.post("/units/<code>/posts")
@login_required
def add_post(code: str):
    """Put a person in a post of this unit, keeping the posts they hold elsewhere."""
    engine = get_engine()
    username = request.form.get("username", "").strip()
    post = request.form.get("post", "").strip()
    rank = request.form.get("rank", "").strip() or None
    try:
        engine.get_user(username)
    except NotFoundError:
        flash(_("用户 %(name)s 不存在", name=username or "—"), "error")
        return redirect(url_for("org.show", code=code))
    held = [_as_post(p) for p in engine.posts_of(username) if (p.unit, p.post) != (code, post)]
    _change_posts(username, [*held, {"unit": code, "post": post, "rank": rank}], _("已任命"))
    return redirect(url_for("org.show", code=code))


@bp.post("/units/<code>/posts/remove")
@login_required
def remove_post(code: str):
    """Take a person out of one post of this unit."""
    engine = get_engine()
    username, post = request.form.get("username", ""), request.form.get("post", "")
    try:
        held = engine.posts_of(username)
    except NotFoundError:
        abort(404)
    kept = [_as_post(p) for p in held if (p.unit, p.post) != (code, post)]
    _change_posts(username, kept, _("已免去该职务"))
    return redirect(url_for("org.show", code=code))


@bp.post("/units/<code>/delete")
@login_required
def delete(code: str):
    """Remove an empty unit (no units under it, nobody in a post, no instances)."""
    me = current_user()
    engine = get_engine()
    try:
        parent = engine.get_unit(code, viewer=me.username).unit.parent
        engine.delete_unit(code, actor=me.username)
    except EngineError as exc:
        flash(_problem(exc), "error")
        return redirect(
            url_for("org.show", code=code) if not isinstance(exc, NotFoundError) else url_for("org.index")
        )
    flash(_("单位已删除"))
    return redirect(url_for("org.show", code=parent) if parent else url_for("org.index"))


def _change_posts(username: str, posts: list[dict[str, Any]], done: str) -> None:
    """Replace a person's posts as the logged-in user; the refusal's own words when refused."""
    try:
        get_engine().upsert_user(username, posts=posts, actor=current_user().username)
        flash(done)
    except EngineError as exc:
        flash(_problem(exc), "error")


def _as_post(p: Any) -> dict[str, Any]:
    return {"unit": p.unit, "post": p.post, "rank": p.rank}
