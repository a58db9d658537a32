"""API tokens: list your own (admins: anyone's) and revoke one. Issuing is ``POST /users/{username}/tokens``."""

from __future__ import annotations

from typing import Any

from engine import Actor, NotAllowedError, TokenRecord, allowed

from ..auth import require_user
from ..extension import get_engine
from ..schemas.common import page_schema, sliced
from ..schemas.users import TokenInfoSchema, TokenListArgsSchema
from .common import Blueprint, errors

blp = Blueprint(
    "Tokens",
    __name__,
    url_prefix="/api/v1",
    description="API tokens: list and revoke (the secret is never shown again).",
)

TokenPageSchema = page_schema(TokenInfoSchema, "TokenPage")


@blp.route("/tokens", methods=["GET"])
@blp.arguments(TokenListArgsSchema, location="query")
@blp.response(200, TokenPageSchema)
@errors(blp, 403, 404, 422)
def list_tokens(args: dict[str, Any]) -> dict[str, Any]:
    """The acting user's tokens, revoked and expired ones included; an admin may ask for ``?username=``."""
    me = require_user()
    username = args.get("username") or me.username
    if username != me.username:
        if not allowed("manage_tokens", Actor.of(me)):
            raise NotAllowedError("only an admin may list another user's tokens")
        get_engine().get_user(username, viewer=me.username)  # another tenant's person is not found
    return sliced(get_engine().list_tokens(username), args)


@blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(200, TokenInfoSchema)
@errors(blp, 404)
def revoke_token(token_id: int) -> TokenRecord:
    """Revoke a token (your own; admins any): it answers 401 from the next request on, in every server process."""
    return get_engine().revoke_token(str(token_id), actor=require_user())
