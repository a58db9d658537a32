"""Every error leaves as ``application/problem+json``; engine errors map to a status in ONE table.

Flask's and werkzeug's own errors (400, 404, 405, 413, 500) and flask-smorest's webargs 422
take the same shape, so the OA system parses a single format.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, has_request_context, json, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from engine import (
    ConflictError,
    DefinitionInvalidError,
    EngineError,
    InvalidInputError,
    NotAllowedError,
    NotFoundError,
    ScriptError,
    TooLargeError,
    TooManyAttemptsError,
)

from .schemas.common import ProblemSchema

log = logging.getLogger("jiebang.api")

PROBLEM_MIMETYPE = "application/problem+json"

# The one table: first match by isinstance wins, so subclasses sit above their bases.
STATUS_BY_ERROR: list[tuple[type[EngineError], int]] = [
    (NotFoundError, 404),
    (NotAllowedError, 403),
    (ConflictError, 409),
    (TooLargeError, 413),
    (TooManyAttemptsError, 429),
    (InvalidInputError, 422),
    (ScriptError, 422),
]


def status_of(error: EngineError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def problem(
    status: int,
    detail: str = "",
    *,
    title: str | None = None,
    errors: Mapping[str, list[str]] | list[Any] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response; ``errors`` maps field paths to messages (an import lists cells instead)."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": f"urn:jiebang:problem:{phrase.lower().replace(' ', '-')}",
        "title": title or phrase,
        "status": status,
        "detail": detail or title or phrase,
    }
    if isinstance(errors, list):
        body["errors"] = errors
    elif errors:
        body["errors"] = {k: list(v) for k, v in errors.items()}
    body.update(extra)
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIMETYPE)


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nested messages → ``{"data.items.0.name": [...]}`` (location dropped)."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_messages(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_body"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            for k, v in flatten_messages(item, prefix).items():
                out.setdefault(k, []).extend(v)
    else:
        out[prefix or "_body"] = [str(messages)]
    return out


def _webargs_errors(error: HTTPException) -> dict[str, list[str]] | None:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if not messages:
        return None
    if isinstance(messages, Mapping) and set(messages) <= {
        "json",
        "query",
        "files",
        "form",
        "headers",
        "path",
        "json_or_form",
    }:
        merged: dict[str, list[str]] = {}
        for inner in messages.values():
            merged.update(flatten_messages(inner))
        return merged
    return flatten_messages(messages)


def handle_http_exception(error: HTTPException) -> Response:
    code = error.code or 500
    if _wants_html():
        return error.get_response()  # a browser on the web pages gets werkzeug's HTML page
    errors = _webargs_errors(error)
    detail = (getattr(error, "data", None) or {}).get("message") or error.description or ""
    if code == 422 and errors:
        detail = "request content is invalid: " + "; ".join(
            f"{k}: {' '.join(v)}" for k, v in sorted(errors.items())
        )
    resp = problem(code, detail, errors=errors)
    for name, value in error.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            resp.headers[name] = value
    return resp


def _wants_html() -> bool:
    if not has_request_context() or request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["application/json", PROBLEM_MIMETYPE, "text/html"])
    return best == "text/html"


def handle_engine_error(error: EngineError) -> Response:
    status = status_of(error)
    extra: dict[str, Any] = {}
    if isinstance(error, DefinitionInvalidError):
        extra["problems"] = [p.as_dict() for p in error.problems]
    errors = error.errors if isinstance(error, InvalidInputError) else None
    if status == 500:
        log.error("unmapped engine error: %r", error)
    resp = problem(status, error.detail, title=error.title, errors=errors, **extra)
    if isinstance(error, TooManyAttemptsError):
        resp.headers["Retry-After"] = str(error.retry_after)
    return resp


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error", exc_info=error)
    return problem(500, InternalServerError.description)


class JiebangApi(Api):
    """flask-smorest's Api, documenting and rendering errors as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        return handle_http_exception(error)

    def _register_responses(self) -> None:
        saved = self.DEFAULT_RESPONSE_CONTENT_TYPE
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_MIMETYPE  # error components only
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = saved


def init_app(app: Flask) -> None:
    """Engine errors and anything unexpected; HTTP errors go through ``JiebangApi``."""
    app.register_error_handler(EngineError, handle_engine_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
