"""Who is asking: bearer tokens for /api, the pages' server-side web session elsewhere.

The pages' own scripts (the designer) call /api with the session cookie instead of a token; such a
call counts only with the session's CSRF token in ``X-CSRF-Token``, which another site cannot read,
so a cookie alone never authenticates an API request.

Tokens and web sessions are checked against the database on every request, so a revoked or
expired token, a logged-out session and a deactivated user are refused at once.

A token whose user has the ``oa-service`` role may send ``X-Acting-User`` to act as that user
(the OA system relays its people); anyone else sending it gets 403. Acting never raises
privileges: the acted user's roles count only as far as the service holds them, in this module's
role checks and in the engine's (``engine.acting_with``, reset after every request). Permissions
on tasks and instances are the engine's business; routes on the installation itself (deploy, jobs,
webhooks, the org sync) ask the same rulebook through ``require_permission``.
"""

from __future__ import annotations

import dataclasses
import hmac
import os
import secrets

from flask import Flask, current_app, g, request, session
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from engine import (
    Actor,
    NotAllowedError,
    NotFoundError,
    UserRecord,
    acting_with,
    allowed,
    asking,
    effective_roles,
    require,
)

from .extension import get_engine

ACTING_HEADER = "X-Acting-User"
SESSION_KEY = "sid"  # the cookie holds the id of a server-side session record, never the user
CSRF_FIELD = "csrf_token"  # the session's CSRF token: a form field, or this header on script calls
CSRF_HEADER = "X-CSRF-Token"


def web_session_user() -> UserRecord | None:
    """The user of this request's web session, if its server-side record is live (once per request).

    A cookie whose record was revoked (logout, deactivation, password change) is cleared.
    """
    if "jiebang_web_user" not in g:
        session_id = session.get(SESSION_KEY)
        user = None
        if isinstance(session_id, str) and session_id:
            user = get_engine().session_user(session_id, max_age=current_app.permanent_session_lifetime)
        if user is None and session_id:
            session.clear()
        g.jiebang_web_user = user
    return g.jiebang_web_user


def start_web_session(username: str) -> None:
    """Log a browser in: a fresh cookie (new CSRF token too) carrying a new server-side session id."""
    end_web_session()
    session[SESSION_KEY] = get_engine().open_session(username)
    session.permanent = True
    g.pop("jiebang_web_user", None)


def end_web_session() -> None:
    """Revoke this browser's server-side session (if any) and empty its cookie."""
    session_id = session.get(SESSION_KEY)
    if isinstance(session_id, str) and session_id:
        get_engine().end_session(session_id)
    session.clear()
    g.pop("jiebang_web_user", None)


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_matches(sent: str | None) -> bool:
    """Whether ``sent`` is this session's CSRF token (compared in constant time)."""
    expected = session.get(CSRF_FIELD)
    return bool(expected) and hmac.compare_digest(str(expected), str(sent or ""))


def _unauthorized(detail: str) -> Unauthorized:
    return Unauthorized(detail, www_authenticate=WWWAuthenticate("bearer", {"realm": "jiebang"}))


def _load_user() -> UserRecord | None:
    engine = get_engine()
    acting_with(None)
    asking(None)
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("use 'Authorization: Bearer <token>'")
        user = engine.authenticate(token.strip())
        if user is None:
            raise _unauthorized("token unknown, revoked or expired, or its user deactivated")
        acting = request.headers.get(ACTING_HEADER)
        if acting is not None:
            if not allowed("act_as", Actor.of(user)):
                raise NotAllowedError(f"only an oa-service token may send {ACTING_HEADER}")
            try:
                person = engine.get_user(acting, viewer=user.username)  # a county's service: its people only
            except NotFoundError:
                raise NotFoundError(f"{ACTING_HEADER}: no user '{acting}'") from None
            if not person.active:
                raise NotAllowedError(f"{ACTING_HEADER}: user '{acting}' is deactivated")
            acting_with(user.roles)  # the engine's own role checks are capped for the rest of the request
            return dataclasses.replace(person, roles=sorted(effective_roles(person.roles)))
        return user
    if request.headers.get(ACTING_HEADER) is not None:
        raise _unauthorized(f"{ACTING_HEADER} needs an oa-service bearer token")
    if not request.path.startswith("/api/"):
        return web_session_user()
    if CSRF_HEADER in request.headers:  # a page's script calling the API with the session cookie
        user = web_session_user()
        if user is not None and not csrf_matches(request.headers[CSRF_HEADER]):
            raise NotAllowedError(
                f"{CSRF_HEADER} does not match this session / 页面令牌无效，请刷新页面后重试"
            )
        return user
    return None


def current_user() -> UserRecord | None:
    """The acting user of this request, or ``None`` when nobody authenticated."""
    if "jiebang_user" not in g:
        g.jiebang_user = _load_user()
        # The engine's rules take this request's person (roles, groups, tenant) from here.
        asking(Actor.of(g.jiebang_user) if g.jiebang_user is not None else None)
    return g.jiebang_user


def require_user() -> UserRecord:
    """The acting user; 401 when the request carries no valid credentials."""
    user = current_user()
    if user is None:
        raise _unauthorized("authentication required")
    return user


def require_permission(action: str) -> UserRecord:
    """The acting user if the engine's rulebook lets them do ``action`` (deploy, manage_users, ...); 401 or 403 otherwise."""
    user = require_user()
    require(action, Actor.of(user))
    return user


def _authenticate_api() -> None:
    """Every /api/v1 route needs a user; checked before arguments are parsed, so 401 comes first.
    The one exception: the metrics when the operator made them public for a scraper without a token."""
    if request.path.startswith("/api/v1/") and request.method != "OPTIONS":
        if request.path == "/api/v1/metrics" and os.environ.get("JIEBANG_METRICS_PUBLIC") == "1":
            return
        require_user()


def _stop_acting(_exc: BaseException | None = None) -> None:
    acting_with(None)
    asking(None)


def init_app(app: Flask) -> None:
    app.before_request(_authenticate_api)
    app.teardown_request(_stop_acting)  # a pooled thread never carries a request's cap into the next
