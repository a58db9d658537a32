"""The Engine as a Flask extension: built once per app, read through ``get_engine()``."""

from __future__ import annotations

from flask import Flask, current_app

from engine import Engine

from .config import database_url

EXTENSION_KEY = "jiebang"


def init_app(app: Flask) -> Engine:
    """Build the Engine from the app's config (or take the injected ``ENGINE``) and keep it."""
    engine = app.config.get("ENGINE")
    if engine is None:
        engine = Engine(database_url(app.config), lane_groups=app.config.get("LANE_GROUPS"))
    engine.configure_integration(
        allow_private_webhooks=bool(app.config.get("WEBHOOK_ALLOW_LOOPBACK")),
        job_lease_seconds=app.config.get("JOB_LEASE_SECONDS"),
    )
    engine.configure_notifications(
        base_url=app.config.get("BASE_URL"), due_soon_hours=app.config.get("NOTIFY_DUE_SOON_HOURS")
    )
    if "TOKEN_EXPIRES_IN" in app.config:
        engine.configure_identity(token_lifetime=app.config["TOKEN_EXPIRES_IN"])
    app.extensions[EXTENSION_KEY] = engine
    return engine


def get_engine() -> Engine:
    """The current app's Engine (the one object handlers talk to)."""
    return current_app.extensions[EXTENSION_KEY]
