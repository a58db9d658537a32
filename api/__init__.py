"""The Flask app: REST API under /api/v1 (flask-smorest), the web pages, one Engine per app.

``create_app()`` reads as the app's table of contents: config, security headers and proxy trust,
Engine, API, errors, pages.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from .config import DEFAULTS, config_from_env

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app", "get_engine"]


def __getattr__(name: str) -> Any:
    """``get_engine`` on first use: importing the package (as ``jiebang --help`` does) loads no Flask."""
    if name == "get_engine":
        from .extension import get_engine

        return get_engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment (``ENGINE`` injects a built Engine)."""
    from flask import Flask

    from . import auth, errors, extension, metrics, pages, payload, security
    from .resources import BLUEPRINTS

    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config_from_env())
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        # Sessions then last one process; set JIEBANG_SECRET_KEY when running several.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    security.init_app(app)
    payload.init_app(app)
    metrics.init_app(app, extension.init_app(app))
    auth.init_app(app)
    api = errors.JiebangApi(app)
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    errors.init_app(app)
    pages.init_app(app)
    return app
