"""Identity sync from the OA system: users, groups, API tokens, login links."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import request

from engine import (
    Actor,
    ConflictError,
    NotAllowedError,
    NotFoundError,
    UserRecord,
    allowed,
    outranks,
    refused_grants,
)

from ..auth import require_permission, require_user
from ..extension import get_engine
from ..schemas.common import PageArgsSchema, page_schema, sliced
from ..schemas.users import (
    GroupSchema,
    LoginLinkCreateSchema,
    LoginLinkSchema,
    TokenCreateSchema,
    TokenSchema,
    UserSchema,
    UserUpsertSchema,
)
from .common import Blueprint, errors

blp = Blueprint(
    "Identity", __name__, url_prefix="/api/v1", description="People and groups, synced from the OA system."
)

GroupPageSchema = page_schema(GroupSchema, "GroupPage")


@blp.route("/users/me", methods=["GET"])
@blp.response(200, UserSchema)
@errors(blp)
def me() -> dict[str, Any]:
    """The acting user, with groups, roles and the posts they hold (``units``)."""
    return _with_posts(require_user())


@blp.route("/users/<username>", methods=["GET"])
@blp.response(200, UserSchema)
@errors(blp, 404)
def get_user(username: str) -> dict[str, Any]:
    """A user, with groups, roles and the posts they hold (``units``)."""
    return _with_posts(get_engine().get_user(username, viewer=require_user().username))


def _with_posts(user: UserRecord) -> dict[str, Any]:
    return {**dataclasses.asdict(user), "units": get_engine().posts_of(user.username)}


@blp.route("/users/<username>", methods=["PUT"])
@blp.arguments(UserUpsertSchema)
@blp.response(200, UserSchema)
@errors(blp, 403, 409, 422)
def put_user(body: dict[str, Any], username: str) -> dict[str, Any]:
    """Create or update a user (org sync); only admins grant or withdraw admin and oa-service.

    A tenant's admin manages its own people (another tenant's are not found); ``admin@<unit>``
    manages the people holding posts in that unit's subtree and grants roles scoped within it.
    ``active: false`` deactivates: nobody deactivates themselves, and only an admin an admin.
    ``units: [{unit, post, rank?}]`` replaces the posts the user holds, all in one tenant.
    """
    me = require_user()
    engine = get_engine()
    if not allowed("manage_users", Actor.of(me)) and not Actor.of(me).scopes("admin"):
        raise NotAllowedError("requires permission to manage_users")
    try:
        current = engine.get_user(username, viewer=me.username).roles
    except NotFoundError:
        if engine.user_exists(username):
            raise  # another tenant's person: not found, as everything of theirs
        current = []
    if not engine.manages_user(me.username, username):
        raise NotAllowedError(f"{username} holds posts outside the units you administer / 超出管理范围")
    if "roles" in body:

        def covers(role: str, unit: str) -> bool:
            return engine.manages_unit(me.username, unit, role=role) or engine.manages_unit(me.username, unit)

        refused = refused_grants(me.roles, current, body["roles"], covers=covers)
        if refused:
            raise NotAllowedError(f"you may not grant or withdraw: {', '.join(refused)}")
    if "active" in body:
        if body["active"] is False and username == me.username:
            raise ConflictError("you cannot deactivate yourself")
        if "admin" in current and not allowed("manage_admins", Actor.of(me)):
            raise NotAllowedError("only an admin may deactivate or activate an admin")
    return _with_posts(
        get_engine().upsert_user(
            username,
            display_name=body.get("display_name"),
            groups=body.get("groups"),
            roles=body.get("roles"),
            active=body.get("active"),
            posts=body.get("units"),
            actor=me.username,
        )
    )


@blp.route("/users/<username>/tokens", methods=["POST"])
@blp.arguments(TokenCreateSchema, required=False)
@blp.response(201, TokenSchema)
@errors(blp, 403, 404, 409, 422)
def create_token(body: dict[str, Any] | None, username: str) -> dict[str, Any]:
    """Issue an API token for a user (admins); the secret is shown only in this response."""
    _require_not_outranked(require_permission("manage_tokens"), username)
    token, record = get_engine().issue_token(username, lifetime=(body or {}).get("expires_in"))
    return {"id": record.id, "username": username, "token": token, "expires_at": record.expires_at}


def _require_not_outranked(me: UserRecord, username: str) -> None:
    """Nobody mints credentials for someone holding a privilege they lack (404 for an unknown user)."""
    target = get_engine().get_user(username, viewer=me.username)
    if outranks(target.roles, me.roles):
        raise NotAllowedError(f"{username} holds privileges you do not hold")


@blp.route("/groups", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, GroupPageSchema)
@errors(blp, 422)
def list_groups(args: dict[str, Any]) -> dict[str, Any]:
    """Groups with their members."""
    viewer = require_user().username
    groups = [
        {"name": name, "members": members}
        for name, members in get_engine().list_groups(viewer=viewer).items()
    ]
    return sliced(groups, args)


@blp.route("/login-links", methods=["POST"])
@blp.arguments(LoginLinkCreateSchema)
@blp.response(201, LoginLinkSchema)
@errors(blp, 403, 404, 422)
def create_login_link(body: dict[str, Any]) -> dict[str, Any]:
    """A one-time link, valid five minutes, that opens the web pages as a user (oa-service)."""
    _require_not_outranked(require_permission("issue_login_link"), body["username"])
    token, expires_at = get_engine().create_login_link(body["username"], body.get("next"))
    return {"url": f"{request.host_url}login/link/{token}", "expires_at": expires_at}
