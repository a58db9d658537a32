"""Webhooks: subscribe a URL to engine events; read its deliveries (admins)."""

from __future__ import annotations

from typing import Any

from ..auth import require_permission
from ..extension import get_engine
from ..schemas.common import PageArgsSchema, offset_limit, page_schema, paged, sliced
from ..schemas.webhooks import DeliverySchema, WebhookCreateSchema, WebhookSchema
from .common import Blueprint, errors

blp = Blueprint(
    "Webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Signed event deliveries to the OA system (admins).",
)

WebhookPageSchema = page_schema(WebhookSchema, "WebhookPage")
DeliveryPageSchema = page_schema(DeliverySchema, "DeliveryPage")


@blp.route("", methods=["POST"])
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookSchema)
@errors(blp, 403, 422)
def create_webhook(body: dict[str, Any]) -> Any:
    """Subscribe a URL to events; loopback and private targets are refused unless allowed."""
    user = require_permission("manage_webhooks")
    return get_engine().create_webhook(body["url"], body["events"], body["secret"], actor=user.username)


@blp.route("", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, WebhookPageSchema)
@errors(blp, 403, 422)
def list_webhooks(args: dict[str, Any]) -> dict[str, Any]:
    """Webhooks (secrets are never shown)."""
    user = require_permission("manage_webhooks")
    return sliced(get_engine().list_webhooks(viewer=user.username), args)


@blp.route("/<webhook_id>", methods=["DELETE"])
@blp.response(204)
@errors(blp, 403, 404)
def delete_webhook(webhook_id: str) -> None:
    """Stop a webhook; its deliveries stay readable."""
    user = require_permission("manage_webhooks")
    get_engine().delete_webhook(webhook_id, viewer=user.username)


@blp.route("/<webhook_id>/deliveries", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, DeliveryPageSchema)
@errors(blp, 403, 404, 422)
def list_deliveries(args: dict[str, Any], webhook_id: str) -> dict[str, Any]:
    """Deliveries of a webhook, newest first, each with its attempts."""
    user = require_permission("manage_webhooks")
    items, total = get_engine().list_deliveries(webhook_id, viewer=user.username, **offset_limit(args))
    return paged(items, total, args)
