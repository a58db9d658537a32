"""The web pages: server-rendered Jinja views over the same Engine methods the REST API uses.

``init_app(app)`` wires them in: Flask-Babel (zh_CN by default, ``?lang=en`` or the ``lang``
cookie for English), session cookie settings, a CSRF check on every page form POST, NUL characters
refused in page queries and forms, the shared
template helpers, and one blueprint per URL area (auth, inbox, board, instances, designer, scores,
org, campaigns).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..auth import CSRF_FIELD, csrf_token
from . import (
    appraisal,
    assessment,
    attachments,
    auth,
    board,
    campaigns,
    designer,
    frontline,
    inbox,
    incidents,
    instances,
    notifications,
    org,
    sanhao,
    scores,
    tasks,
    villages,
)
from .common import csrf_ok, current_user, fmt_when, may, named, one_language, person, size_text, to_json
from .compress import compress_static

HERE = Path(__file__).resolve().parent
LOCALES = ("zh_CN", "en")
SESSION_LIFETIME = timedelta(hours=12)  # a working day; a login link or password starts the next
BLUEPRINTS = (
    auth.bp,
    inbox.bp,
    tasks.bp,
    board.bp,
    instances.bp,
    designer.bp,
    scores.bp,
    org.bp,
    campaigns.bp,
    frontline.bp,
    villages.bp,
    assessment.bp,
    sanhao.bp,
    attachments.bp,
    incidents.bp,
    notifications.bp,
    appraisal.bp,
)
PAGE_ENDPOINT_PREFIXES = tuple(f"{bp.name}." for bp in BLUEPRINTS)

# Templates and static files of the pages, registered on their own so they work whatever
# template/static folders the app factory chose.
assets = Blueprint(
    "assets",
    __name__,
    static_folder=str(HERE.parent / "static"),
    static_url_path="/static/pages",
    template_folder=str(HERE.parent / "templates"),
)
assets.after_request(compress_static)


def select_locale() -> str:
    """``?lang=`` wins, then the ``lang`` cookie, then Chinese."""
    wanted = request.args.get("lang") or request.cookies.get("lang")
    return wanted if wanted in LOCALES else "zh_CN"


def init_app(app: Flask) -> None:
    # Flask's defaults exist as keys already (SameSite None, 31-day sessions): tighten unless configured.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("PERMANENT_SESSION_LIFETIME") == timedelta(days=31):
        app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(HERE.parent / "translations")
    if "babel" not in app.extensions:
        Babel(app, locale_selector=select_locale)
    app.register_blueprint(assets)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    app.add_url_rule("/", "pages_home", lambda: redirect(url_for("inbox.index")))
    app.before_request(_larger_uploads)  # before the CSRF check reads the form
    app.before_request(_check_csrf)
    app.after_request(_remember_lang)
    app.context_processor(_template_globals)
    app.jinja_env.filters.setdefault("when", fmt_when)
    app.jinja_env.filters.setdefault("tojson_script", to_json)
    app.jinja_env.filters.setdefault("named", named)
    app.jinja_env.filters.setdefault("person", person)
    app.jinja_env.filters.setdefault("one_language", one_language)
    app.jinja_env.filters.setdefault("size_text", size_text)


FILE_UPLOADS = ("attachments.upload", "board.file_claim")  # a signed 军令状 or evidence rides along
MULTIPART_OVERHEAD = 64 * 1024


def _larger_uploads() -> None:
    """Forms that carry a file may be as large as an attachment may (other pages keep MAX_CONTENT_LENGTH)."""
    if request.endpoint in FILE_UPLOADS:
        request.max_content_length = current_app.config["ATTACHMENT_MAX_BYTES"] + MULTIPART_OVERHEAD


def _check_csrf() -> None:
    """Every state-changing request to a page carries the session's CSRF token (form field or header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.endpoint and request.endpoint.startswith(PAGE_ENDPOINT_PREFIXES) and not csrf_ok():
        abort(400, description="CSRF token missing or invalid / 表单令牌无效，请刷新页面后重试")


def _error_page(exc: HTTPException):  # Flask hook
    """Pages answer errors with a page (the REST API keeps its problem+json)."""
    messages = {
        400: _("请求无效"),
        403: _("没有权限访问此页面"),
        404: _("页面不存在"),
        405: _("不支持的操作"),
        413: _("提交的内容过大"),
    }
    message = messages.get(exc.code, exc.name)
    if exc.code == 400 and exc.description:
        message = exc.description
    return render_template("pages/error.html", message=message, code=exc.code), exc.code


def _remember_lang(response):  # Flask hook
    lang = request.args.get("lang")
    if lang in LOCALES:
        response.set_cookie(
            "lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, secure=request.is_secure
        )
    return response


def _template_globals() -> dict:
    user = current_user() if request.endpoint and not request.endpoint.startswith("assets.") else None
    return {
        "me": user,
        "viewer": user,  # the header's own name for the logged-in user: views may pass their own ``me``
        "me_may_deploy": user is not None and may("deploy"),
        "me_may_dispatch": user is not None and may("manage_frontline"),
        "me_may_notify": user is not None and may("manage_notifications"),
        "csrf_token": csrf_token,
        "csrf_field": CSRF_FIELD,
        "locale": str(get_locale() or "zh_CN"),
    }


# Error pages belong to the blueprints themselves, registered once at import: Flask refuses
# blueprint setup after a blueprint's first registration, and tests build many apps.
for _bp in BLUEPRINTS:
    for _code in (400, 403, 404, 405, 413):
        _bp.register_error_handler(_code, _error_page)
campaigns.bp.register_error_handler(413, campaigns.too_large_page)  # the import page names the limit
