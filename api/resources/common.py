"""Helpers every resource shares: the blueprint, documenting error statuses, idempotent POSTs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import flask_smorest
from flask import Response, jsonify, request
from marshmallow import Schema

from ..auth import require_user
from ..extension import get_engine
from ..payload import ARGUMENTS_PARSER

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint, parsing arguments with one schema instance per route.

    Given a schema class, webargs builds a new instance on every request, which costs more than
    parsing the arguments; a marshmallow schema holds no per-request state, so one is shared.
    JSON bodies come from the app's strict JSON provider (see ``api.payload``).
    """

    ARGUMENTS_PARSER = ARGUMENTS_PARSER

    def arguments(self, schema: type[Schema] | Schema, **kwargs: Any) -> Callable[[F], F]:
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)


def errors(blp: Blueprint, *codes: int) -> Callable[[F], F]:
    """Document each error status with the shared problem+json response component."""

    def decorate(view: F) -> F:
        for code in (401, *codes):
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorate


def idempotent(
    key: str | None, body: Any, work: Callable[[], T], schema: Schema, status: int
) -> T | Response:
    """Run ``work`` once per ``Idempotency-Key`` (when sent); a retry gets the stored first result."""
    if not key:
        return work()
    user = require_user()
    digest = hashlib.sha256(
        json.dumps([request.path, body], sort_keys=True, default=str).encode()
    ).hexdigest()
    rendered, replayed = get_engine().run_once(user.username, key, digest, work, schema.dump)
    resp = jsonify(rendered)
    resp.status_code = status
    if replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp
