"""Logging in to the web pages: password form, one-time login links from the OA system, log out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .common import get_engine, log_in, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the password form; on a good password start the session and go where the user was heading."""
    next_url = safe_next(request.values.get("next"), url_for("inbox.index"))
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = get_engine().check_password(username, request.form.get("password", "")) if username else None
        if user is not None:
            log_in(user.username)
            return redirect(next_url)
        error = _("用户名或密码错误")
    return render_template("pages/auth/login.html", next_url=next_url, error=error), (401 if error else 200)


@bp.get("/login/link/<token>")
def login_link(token: str):
    """Open a one-time login link (valid 5 minutes, usable once) and land on its target page."""
    consumed = get_engine().consume_login_link(token)
    if consumed is None:
        return render_template("pages/auth/link_invalid.html"), 410
    username, next_url = consumed
    log_in(username)
    return redirect(safe_next(next_url, url_for("inbox.index")))


@bp.post("/logout")
def logout():
    """End the session."""
    session.clear()
    flash(_("已退出登录"))
    return redirect(url_for("auth.login"))
