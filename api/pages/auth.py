"""Logging in to the web pages: password form, one-time login links from the OA system, log out.

Logins are throttled per username and per client address (``Engine.log_in``); an unknown user, a
wrong password and a deactivated user get the same answer in the same time.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import TooManyAttemptsError

from ..auth import end_web_session
from .common import get_engine, log_in, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the password form; on a good password start the session and go where the user was heading."""
    next_url = safe_next(request.values.get("next"), url_for("inbox.index"))
    error, status, headers = None, 200, {}
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            user = get_engine().log_in(username, request.form.get("password", ""), client=request.remote_addr)
        except TooManyAttemptsError as exc:
            error, status, headers = (
                _("登录失败次数过多，请 %(seconds)s 秒后再试", seconds=exc.retry_after),
                429,
                {"Retry-After": str(exc.retry_after)},
            )
        else:
            if user is not None:
                log_in(user.username)
                return redirect(next_url)
            error, status = _("用户名或密码错误"), 401
    return render_template("pages/auth/login.html", next_url=next_url, error=error), status, headers


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
    """End the session: its server-side record is revoked, so a copied cookie is worthless too."""
    end_web_session()
    flash(_("已退出登录"))
    return redirect(url_for("auth.login"))
