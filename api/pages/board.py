"""The challenge board (榜单): published challenges as cards, each with its own page that any cadre
may read (details, goals, milestones, support, the countdown, the claims so far), and the 揭榜
claim form on both."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import EngineError, InvalidInputError, NotFoundError

from . import attachments, story, words
from .common import current_user, get_engine, know_people, login_required, one_language, parse_when, person

bp = Blueprint("board", __name__, url_prefix="/board")


@bp.get("")
@login_required
def index():
    """The board, optionally one category; every card lists its claims and opens its page."""
    category = request.args.get("category") or None
    return _render_board(category)


@bp.get("/<instance_id>")
@login_required
def show(instance_id: str):
    """A challenge's page: what is asked, by when, with what support, who claimed it, and the claim form."""
    return _render_challenge(instance_id)


def _render_board(category: str | None, **claim: Any) -> str:
    engine = get_engine()
    everything = engine.board(viewer=current_user().username)
    items = [i for i in everything if i.get("category") == category] if category else everything
    know_people(_people_of(items))
    return render_template(
        "pages/board/index.html",
        items=items,
        category=category,
        categories=_categories(everything, category),
        users=engine.list_users(limit=1000, viewer=current_user().username),
        phases=words.phases(),
        claims_line=lambda c: story.claims_line(c, person),
        claim_errors=claim.get("errors", {}),
        claim_for=claim.get("instance_id"),
        claim_form=claim.get("form", {}),
    )


def _categories(items: list[dict[str, Any]], chosen: str | None) -> list[str]:
    """The categories the board's challenges use, the most used first: each campaign and each
    deployed form names its own, so the filter follows the data, not a fixed list."""
    counts = Counter(str(i["category"]) for i in items if i.get("category"))
    if chosen:
        counts.setdefault(chosen, 0)  # the chosen one stays on the filter after its last card goes
    return [c for c, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _render_challenge(instance_id: str, **claim: Any) -> str:
    engine = get_engine()
    try:
        item = engine.challenge(instance_id, viewer=current_user().username)
    except NotFoundError:
        abort(404)
    know_people(_people_of([item]))
    return render_template(
        "pages/board/show.html",
        item=item,
        left=_time_left(
            item.get("claim_deadline") if item["open_for_claims"] else item.get("deadline"), item["now"]
        ),
        users=engine.list_users(limit=1000, viewer=current_user().username) if item["may_claim"] else [],
        units=engine.list_units(limit=1000, viewer=current_user().username).items
        if item["may_claim"]
        else [],
        attachments=attachments.visible(instance_id),
        phases=words.phases(),
        claims_line=lambda c: story.claims_line(c, person),
        claim_errors=claim.get("errors", {}),
        claim_for=instance_id if claim else None,
        claim_form=claim.get("form", {}),
    )


def _people_of(items: list[dict[str, Any]]) -> list[str]:
    return [
        *(i.get("leader") for i in items),
        *(c.get(role) for i in items for c in i["claims"] for role in ("leader", "principal")),
        *(m.get("username") for i in items for c in i["claims"] for m in c.get("members") or []),
    ]


def _time_left(deadline: Any, now: Any) -> dict[str, Any] | None:
    """Days and hours until ``deadline`` (``past`` once it has gone by), for the countdown."""
    due, at = parse_when(deadline), parse_when(now)
    if due is None or at is None:
        return None
    seconds = (due - at).total_seconds()
    hours = int(abs(seconds) // 3600)
    return {
        "past": seconds < 0,
        "days": hours // 24,
        "hours": hours % 24,
        "closing": 0 <= seconds < 3 * 86400,
    }


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
    for name, unit, phone, share in zip(
        form.getlist("guest_name"),
        form.getlist("guest_unit"),
        form.getlist("guest_phone"),
        form.getlist("guest_share"),
        strict=False,
    ):
        if name.strip() or unit.strip() or phone.strip():
            out.append(
                {"name": name, "unit": unit.strip(), "phone": phone.strip(), "share": _share(share or "0")}
            )
    leader_share = form.get("leader_share")
    if leader_share not in (None, ""):
        out = [
            {"username": leader, "share": _share(leader_share)},
            *[m for m in out if m.get("username") != leader],
        ]
    return out


@bp.post("/<instance_id>/claims")
@login_required
def file_claim(instance_id: str):
    """File a claim (揭榜) as the acting user, alone or leading a team; shares must sum to 100.

    Sent from the challenge's page (``from=challenge``) it answers there, otherwise on the board."""
    me = current_user()
    on_page = request.form.get("from") == "challenge"
    kind = request.form.get("kind", "individual")
    claim: dict[str, Any] = {
        "kind": kind,
        "plan": request.form.get("plan", ""),
        "pledge": request.form.get("pledge", ""),
    }
    for role in ("leader", "principal"):  # 挂帅领导, 主要负责人: the filer unless named
        if request.form.get(role, "").strip():
            claim[role] = request.form[role].strip()
    if kind == "team":
        claim["members"] = _members(request.form, me.username)
    back = url_for("board.show", instance_id=instance_id) if on_page else url_for("board.index")
    try:
        signed = request.files.get("pledge_file")
        if signed is not None and signed.filename:  # the signed 军令状 first; the claim cites it
            limit = current_app.config["ATTACHMENT_MAX_BYTES"]
            claim["pledge_file"] = (
                get_engine()
                .upload_attachment(
                    instance_id,
                    me.username,
                    kind="pledge",
                    filename=signed.filename,
                    content=signed.read(limit + 1),
                    max_bytes=limit,
                )
                .id
            )
        get_engine().file_claim(instance_id, me.username, claim)
    except InvalidInputError as exc:
        errors = exc.errors or {"": [exc.detail]}
        if on_page:
            return _render_challenge(instance_id, errors=errors, form=claim), 422
        return _render_board(None, instance_id=instance_id, errors=errors, form=claim), 422
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
        return redirect(back)
    flash(_("揭榜申请已提交"))
    return redirect(back)
