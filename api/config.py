"""Jiebang's configuration without the web framework: defaults, ``JIEBANG_*`` variables, and where the
data lives. The ``jiebang`` command reads it before it knows whether it needs Flask or the engine, so
``jiebang --help`` loads neither.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["DEFAULTS", "config_from_env", "data_dir", "database_url"]

PROJECT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: jiebang.sqlite3 in data_dir()
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,  # a 军令状 or evidence file; larger uploads answer 413
    "WEBHOOK_ALLOW_LOOPBACK": False,  # also lets notification robots post to the private network
    "BASE_URL": None,  # where people open the pages; the links in notifications (https://oa.example.cn/jiebang)
    "NOTIFY_DUE_SOON_HOURS": 24.0,  # how long before a task's due time 即将到期 is sent
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
    "ATTACHMENT_MAX_BYTES": int,
    "PROXY_HOPS": int,
    "JOB_LEASE_SECONDS": float,
    "WORKER_INTERVAL": float,
    "NOTIFY_DUE_SOON_HOURS": float,
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


def data_dir(environ: dict[str, str] | None = None) -> Path:
    """Where Jiebang keeps its SQLite database: ``$JIEBANG_DATA_DIR``; else ``var/`` of a source checkout
    (the folder holding pyproject.toml); else ``$XDG_DATA_HOME/jiebang`` (``~/.local/share/jiebang``).
    Never the current directory, so every command finds the same database wherever it is run."""
    env = environ if environ is not None else os.environ
    if env.get("JIEBANG_DATA_DIR"):
        return Path(env["JIEBANG_DATA_DIR"]).expanduser().resolve()
    if (PROJECT / "pyproject.toml").is_file() and (PROJECT / "api").is_dir():
        return PROJECT / "var"
    xdg = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser().resolve() / "jiebang"


def database_url(config: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> str:
    """The database to use: config ``DATABASE_URL`` (``$JIEBANG_DATABASE_URL``), else ``jiebang.sqlite3``
    in ``data_dir()``, whose folder is made on first use."""
    url = (config or {}).get("DATABASE_URL")
    if url:
        return str(url)
    folder = data_dir(environ)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'jiebang.sqlite3'}"
