"""The Flask app: REST API under /api/v1 (flask-smorest), the web pages, one Engine per app.

``create_app()`` reads as the app's table of contents: config, security headers and proxy trust,
Engine, API, errors, pages.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from flask import Flask

from . import auth, errors, extension, pages, payload, security
from .extension import get_engine
from .resources import BLUEPRINTS

__all__ = ["create_app", "get_engine"]

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: a SQLite file in the working directory
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "WEBHOOK_ALLOW_LOOPBACK": False,
    "JOB_LEASE_SECONDS": None,
    "LANE_GROUPS": None,
    "WORKER_INTERVAL": 1.0,
    "TOKEN_EXPIRES_IN": "365d",  # new API tokens' default lifetime (90d, 12h, never)
    "PROXY_HOPS": 0,  # reverse proxies in front whose X-Forwarded-* headers are trusted
    "API_TITLE": "Jiebang",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
        "info": {
            "description": "REST contract v1 of Jiebang (揭榜挂帅): what the OA system integrates against."
        },
    },
}
_BOOLEAN = {"WEBHOOK_ALLOW_LOOPBACK"}
_NUMERIC = {
    "MAX_CONTENT_LENGTH": int,
    "PROXY_HOPS": int,
    "JOB_LEASE_SECONDS": float,
    "WORKER_INTERVAL": float,
}
_JSON = {"LANE_GROUPS"}  # e.g. {"TaskForce": "zhuanban"}: lane name -> candidate group


def config_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Every ``JIEBANG_X`` variable becomes config ``X`` (typed for the known ones)."""
    out: dict[str, Any] = {}
    for name, raw in (environ if environ is not None else os.environ).items():
        if not name.startswith("JIEBANG_"):
            continue
        key = name.removeprefix("JIEBANG_")
        if key in _BOOLEAN:
            out[key] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif key in _NUMERIC:
            out[key] = _NUMERIC[key](raw)
        elif key in _JSON:
            out[key] = json.loads(raw)
        else:
            out[key] = raw
    return out


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment (``ENGINE`` injects a built Engine)."""
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config_from_env())
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        # Sessions then last one process; set JIEBANG_SECRET_KEY when running several.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    security.init_app(app)
    payload.init_app(app)
    extension.init_app(app)
    auth.init_app(app)
    api = errors.JiebangApi(app)
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    errors.init_app(app)
    pages.init_app(app)
    return app
