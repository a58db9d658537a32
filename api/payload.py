"""Where a request's content enters: one JSON provider and one guard before every view.

Every JSON body (REST or page) is parsed once by the app's JSON provider, which applies the
engine's rule (``strict_json_loads``: no NaN/Infinity, lone surrogates, NUL or deep nesting), and
webargs reads that parsed body instead of parsing its own copy. Path segments, query arguments and
form fields are plain text and must hold no NUL either (PostgreSQL refuses it). A refused
request answers 422 problem+json before any view runs, so nothing changes.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest

from engine import check_text, strict_json_loads


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's provider, refusing in bodies and never writing what JSON has no form for."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:  # any JSON value
        return strict_json_loads(s)

    def dumps(self, obj: Any, **kwargs: Any) -> str:  # any JSON value
        kwargs.setdefault("allow_nan", False)  # invalid JSON must fail here, not in the OA's parser
        return super().dumps(obj, **kwargs)


class JiebangRequest(Request):
    """Flask's request, saying where a malformed JSON body breaks (Flask only does in debug)."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:  # never returns
        if e is None:
            return super().on_json_loading_failed(e)  # not a JSON content type: 415
        raise BadRequest(f"the body is not valid JSON: {e} / 请求体不是合法的 JSON") from e


class StrictParser(FlaskParser):
    """webargs' Flask parser reading the body the app's provider already parsed and vetted."""

    def _raw_load_json(self, req: Any) -> Any:  # webargs hook
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing
        return req.get_json()


ARGUMENTS_PARSER = StrictParser()


def check_request() -> None:
    """Refuse text no store can hold anywhere in the request, before the view runs."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_text(value, name)
    for name, value in request.args.items(multi=True):
        check_text(name, name)
        check_text(value, name)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            check_text(name, name)
            check_text(value, name)
    if request.is_json and request.get_data(cache=True):
        request.get_json()  # parsed by StrictJSONProvider; cached for the view


def init_app(app: Flask) -> None:
    """Install the strict JSON provider, its request class and the request guard."""
    app.json = StrictJSONProvider(app)
    app.request_class = JiebangRequest
    app.before_request(check_request)
