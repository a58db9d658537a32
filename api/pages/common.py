"""What every page blueprint shares: the logged-in user, login and permission guards, the CSRF token,
acting on a form post and small formatting helpers. No views live here."""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import get_locale, gettext

from engine import Actor, DefinitionRecord, EngineError, UserRecord, allowed

from ..auth import CSRF_FIELD, CSRF_HEADER, csrf_matches, start_web_session, web_session_user
from ..extension import get_engine  # the page modules take it from here too

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def act(call: Callable[[], Any], done_message: str) -> None:
    """Run one engine call for a form post and flash how it went (its problem detail when refused)."""
    try:
        call()
        flash(done_message)
    except EngineError as exc:
        flash(one_language(exc.detail), "error")


def one_language(text: str) -> str:
    """The page's half of an engine message written "English / 中文" (a page never mixes the two)."""
    if " / " not in text:
        return text
    english, _sep, chinese = text.rpartition(" / ")
    if not any("\u4e00" <= ch <= "\u9fff" for ch in chinese):
        return text
    return english if str(get_locale() or "zh_CN").startswith("en") else chinese


def current_user() -> UserRecord | None:
    """The user of this request's web session, loaded once per request."""
    return web_session_user()


def may(action: str) -> bool:
    """Whether the logged-in user may do ``action`` on the installation (the engine's rulebook decides)."""
    user = current_user()
    return user is not None and allowed(action, Actor.of(user))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the login page, remembering where they were going."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def permission_required(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Logged in and allowed ``action`` by the rulebook (``deploy`` for the designer); 403 otherwise."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not may(action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def log_in(username: str) -> None:
    """Start a fresh server-side session (a new CSRF token too, so a planted session id is worthless)."""
    start_web_session(username)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a same-site path: a login link or ``?next=`` must not send a user to another site.

    Refused (``default`` instead): absolute and scheme-relative URLs (``//host``), backslashes
    (browsers read ``/\\host`` as ``//host``) and control or format characters (a CR/LF would
    split the ``Location`` header; a tab or zero-width space hides a ``//``).
    """
    if not target or not isinstance(target, str):
        return default
    if "\\" in target or any(unicodedata.category(ch)[0] == "C" for ch in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# ---- CSRF: one random token per session (api/auth.py), sent back in every form or as a header ----
def csrf_ok() -> bool:
    return csrf_matches(request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER))


# ---- people by name ----------------------------------------------------------------------------
def know_people(usernames: Iterable[str | None]) -> None:
    """Load the display names of everyone a page is about to name, in one query."""
    cache: dict[str, str] = g.setdefault("jiebang_names", {})
    missing = {u for u in usernames if u and u not in cache}
    if missing:
        cache.update(get_engine().display_names(missing))
        cache.update({u: u for u in missing if u not in cache})  # a departed account keeps its login


def person(username: str | None) -> str:
    """A person as pages show them: their display name, never their login (— for nobody)."""
    if not username:
        return "—"
    know_people([username])
    return g.jiebang_names[username]


# ---- names in the page's language -------------------------------------------------------------
def named(record: Any, element_id: str | None = None) -> str:
    """The name to show for a process, task or element, in the page's language, never both.

    ``{{ d | named }}`` (a definition: the process), ``{{ t | named }}`` (a task: its element),
    ``{{ instance | named(h.element_id) }}`` (an element of an instance's version). Diagrams name
    elements in Chinese with an optional ``name_en`` property; whatever a version lacks falls back
    to the diagram's name (the record's own ``name``, else the element id).
    """
    key = getattr(record, "process_key", None) or getattr(record, "key", "")
    element = element_id or getattr(record, "element_id", None) or key
    fallback = getattr(record, "name", None) if element_id is None else None
    definition = (
        record if isinstance(record, DefinitionRecord) else _definition(key, getattr(record, "version", None))
    )
    names = definition.names.get(element, {}) if definition is not None else {}
    locale = str(get_locale() or "zh_CN")
    return names.get(locale) or names.get("zh_CN") or fallback or element


def _definition(key: str, version: int | None) -> DefinitionRecord | None:
    """A version's definition (the latest for a task, which does not carry its version), once per request."""
    cache = g.setdefault("definitions_by_version", {})
    if (key, version) not in cache:
        try:
            cache[key, version] = get_engine().get_definition(key, version)
        except EngineError:  # a process deleted or never deployed: show the record's own name
            cache[key, version] = None
    return cache[key, version]


# ---- formatting -------------------------------------------------------------------------------
def parse_when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def size_text(size: int) -> str:
    """A file's size as people read it, in the page's language: 820 字节, 12.5K, 3.2M."""
    if size < 1024:
        return gettext("%(n)s 字节", n=size)
    if size < 1024 * 1024:
        return gettext("%(n)sK", n=_decimal(size / 1024))
    return gettext("%(n)sM", n=_decimal(size / (1024 * 1024)))


def _decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def fmt_when(value: Any, with_time: bool = True) -> str:
    """A timestamp in Beijing time, short: 2026-06-30 08:00."""
    moment = parse_when(value)
    if moment is None:
        return str(value) if value else "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ)
    return moment.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def to_json(value: Any) -> str:
    """JSON for a <script type="application/json"> block (safe against </script>)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def pretty_json(value: Any) -> str:
    """Indented JSON that keeps Chinese readable (an instance's data as an administrator downloads it)."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=str, sort_keys=True)
