"""Notifications: channels (admins), each person's own preferences, the delivery log (admins)."""

from __future__ import annotations

from typing import Any

from ..auth import require_permission, require_user
from ..extension import get_engine
from ..schemas.common import PageArgsSchema, offset_limit, page_schema, paged, sliced
from ..schemas.notifications import (
    ChannelCreateSchema,
    ChannelSchema,
    ChannelTestSchema,
    ChannelUpdateSchema,
    DeliveryArgsSchema,
    NotificationDeliverySchema,
    PreferencesSchema,
)
from ..schemas.webhooks import AttemptSchema
from .common import Blueprint, errors

blp = Blueprint(
    "Notifications",
    __name__,
    url_prefix="/api/v1",
    description="任务待办, 催办, 即将到期, 已超期 by e-mail and 钉钉/企业微信 robots.",
)

ChannelPageSchema = page_schema(ChannelSchema, "NotificationChannelPage")
NotificationDeliveryPageSchema = page_schema(NotificationDeliverySchema, "NotificationDeliveryPage")


@blp.route("/notification-channels", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ChannelPageSchema)
@errors(blp, 403, 422)
def list_channels(args: dict[str, Any]) -> dict[str, Any]:
    """Channels of your county (secrets are never shown)."""
    user = require_permission("manage_notifications")
    return sliced(get_engine().list_notification_channels(user.username), args)


@blp.route("/notification-channels", methods=["POST"])
@blp.arguments(ChannelCreateSchema)
@blp.response(201, ChannelSchema)
@errors(blp, 403, 422)
def create_channel(body: dict[str, Any]) -> Any:
    """Configure an e-mail server or a group robot; robot URLs on the private network are refused unless allowed."""
    user = require_permission("manage_notifications")
    return get_engine().create_notification_channel(user.username, body)


@blp.route("/notification-channels/<channel_id>", methods=["PATCH"])
@blp.arguments(ChannelUpdateSchema)
@blp.response(200, ChannelSchema)
@errors(blp, 403, 404, 422)
def update_channel(body: dict[str, Any], channel_id: str) -> Any:
    """Change a channel; a secret left out stays as it was."""
    user = require_permission("manage_notifications")
    return get_engine().update_notification_channel(channel_id, user.username, body)


@blp.route("/notification-channels/<channel_id>", methods=["DELETE"])
@blp.response(204)
@errors(blp, 403, 404)
def delete_channel(channel_id: str) -> None:
    """Remove a channel and its delivery log."""
    user = require_permission("manage_notifications")
    get_engine().delete_notification_channel(channel_id, user.username)


@blp.route("/notification-channels/<channel_id>/test", methods=["POST"])
@blp.arguments(ChannelTestSchema)
@blp.response(200, AttemptSchema)
@errors(blp, 403, 404, 422)
def test_channel(body: dict[str, Any], channel_id: str) -> Any:
    """Send a sample message now and answer how it went."""
    user = require_permission("manage_notifications")
    return get_engine().test_notification_channel(channel_id, user.username, body.get("to"))


@blp.route("/me/notification-preferences", methods=["GET"])
@blp.response(200, PreferencesSchema)
@errors(blp)
def my_preferences() -> Any:
    """What you are told of, through which channels, and your quiet hours."""
    return get_engine().notification_preferences(require_user().username)


@blp.route("/me/notification-preferences", methods=["PUT"])
@blp.arguments(PreferencesSchema)
@blp.response(200, PreferencesSchema)
@errors(blp, 422)
def set_my_preferences(body: dict[str, Any]) -> Any:
    """Replace your preferences."""
    return get_engine().set_notification_preferences(require_user().username, body)


@blp.route("/notification-deliveries", methods=["GET"])
@blp.arguments(DeliveryArgsSchema, location="query")
@blp.response(200, NotificationDeliveryPageSchema)
@errors(blp, 403, 422)
def list_deliveries(args: dict[str, Any]) -> dict[str, Any]:
    """Notifications sent, waiting or given up in your county, newest first, each with its attempts."""
    user = require_permission("manage_notifications")
    items, total = get_engine().list_notification_deliveries(
        user.username, status=args.get("status"), **offset_limit(args)
    )
    return paged(items, total, args)
