"""The challenge board (榜单): published challenges as cards, and the 揭榜 claim form."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import EngineError, InvalidInputError

from .common import current_user, get_engine, login_required

bp = Blueprint("board", __name__, url_prefix="/board")

CATEGORIES = ("经济建设", "社会治理", "民生保障", "乡村振兴", "基层党建", "生态环保", "安全稳定", "其他")


@bp.get("")
@login_required
def index():
    """The board, optionally one category; every card lists its claims."""
    category = request.args.get("category") or None
    engine, me = get_engine(), current_user().username
    users = engine.list_users(limit=1000, viewer=me)
    return render_template(
        "pages/board/index.html",
        items=engine.board(category=category, viewer=me),
        category=category,
        categories=CATEGORIES,
        users=users,
        names={u.username: u.display_name for u in users},
        claim_errors={},
        claim_for=None,
        claim_form={},
    )


def _share(raw: str | None) -> Any:
    """A share as a number when it is a finite one (60, 33.5); otherwise the text as sent, which
    the engine refuses at its field ("须为 0 到 100 的数字") so ``inf``/``nan``/``abc`` file nothing."""
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return raw
    if not math.isfinite(value):
        return raw
    return int(value) if value.is_integer() else value


def _members(form: Any, leader: str) -> list[dict[str, Any]]:
    """Team members from the form's parallel lists; the leader's own share comes first."""
    out: list[dict[str, Any]] = []
    for username, share in zip(form.getlist("member"), form.getlist("share"), strict=False):
        username = username.strip()
        if not username:
            continue
        out.append({"username": username, "share": _share(share)})
    leader_share = form.get("leader_share")
    if leader_share not in (None, ""):
        out = [
            {"username": leader, "share": _share(leader_share)},
            *[m for m in out if m["username"] != leader],
        ]
    return out


def _share(text: str) -> Any:  # a number, or the text for validation to refuse
    """A share as typed: a finite number when it is one, else the text itself (``inf`` is not a share)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    if not math.isfinite(value):
        return text
    return int(value) if value.is_integer() else value


@bp.post("/<instance_id>/claims")
@login_required
def file_claim(instance_id: str):
    """File a claim (揭榜) as the acting user, alone or leading a team; shares must sum to 100."""
    me = current_user()
    kind = request.form.get("kind", "individual")
    claim = {"kind": kind, "plan": request.form.get("plan", ""), "pledge": request.form.get("pledge", "")}
    if kind == "team":
        claim["members"] = _members(request.form, me.username)
    engine = get_engine()
    try:
        engine.file_claim(instance_id, me.username, claim)
    except InvalidInputError as exc:
        users = engine.list_users(limit=1000, viewer=me.username)
        return render_template(
            "pages/board/index.html",
            items=engine.board(viewer=me.username),
            category=None,
            categories=CATEGORIES,
            users=users,
            names={u.username: u.display_name for u in users},
            claim_errors=exc.errors or {"": [exc.detail]},
            claim_for=instance_id,
            claim_form=claim,
        ), 422
    except EngineError as exc:
        flash(exc.detail, "error")
        return redirect(url_for("board.index"))
    flash(_("揭榜申请已提交"))
    return redirect(url_for("board.index"))
