"""通知设置: each person chooses what they are told, where, and their quiet hours; 通知通道
(admins): the county's e-mail server and 钉钉/企业微信 group robots, a test message, and the log of
what was sent. The same engine methods as ``/api/v1/notification-*``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import EngineError, InvalidInputError, NotifyEvent

from .common import (
    current_user,
    fmt_when,
    get_engine,
    know_people,
    login_required,
    one_language,
    permission_required,
    person,
)

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def event_words() -> dict[str, str]:
    return {
        NotifyEvent.TASK_CREATED: _("任务待办：有新任务交给我"),
        NotifyEvent.TASK_URGED: _("催办：有人催我办理"),
        NotifyEvent.TASK_DUE_SOON: _("即将到期：离办理期限不到一天"),
        NotifyEvent.TASK_OVERDUE: _("已超期：过了办理期限仍未办完"),
    }


def kind_words() -> dict[str, str]:
    return {"email": _("电子邮件"), "dingtalk": _("钉钉群机器人"), "wecom": _("企业微信群机器人")}


def status_words() -> dict[str, str]:
    return {"pending": _("等待发送"), "delivered": _("已送达"), "failed": _("发送失败")}


def _errors(exc: InvalidInputError) -> dict[str, str]:
    return {field: one_language(" ".join(messages)) for field, messages in exc.errors.items()}


# ---- 通知设置 (each person) ----------------------------------------------------------------------
@bp.get("")
@login_required
def settings():
    """The logged-in person's preferences, with the channels their county has."""
    prefs = get_engine().notification_preferences(current_user().username)
    return _settings_page(vars(prefs) | {"available": prefs.available}, {})


def _settings_page(form: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    return (
        render_template(
            "pages/notifications/settings.html",
            form=form,
            errors=errors,
            events=event_words(),
            kinds=kind_words(),
        ),
        status,
    )


@bp.post("")
@login_required
def save_settings():
    """Replace the person's preferences; a refusal keeps what they typed, each field marked."""
    me = current_user().username
    body = {
        "events": request.form.getlist("events"),
        "channels": request.form.getlist("channels"),
        "email": request.form.get("email") or None,
        "language": request.form.get("language") or "zh_CN",
        "quiet_start": request.form.get("quiet_start") or None,
        "quiet_end": request.form.get("quiet_end") or None,
    }
    try:
        get_engine().set_notification_preferences(me, body)
    except InvalidInputError as exc:
        available = get_engine().notification_preferences(me).available
        return _settings_page(body | {"available": available}, _errors(exc), 422)
    flash(_("通知设置已保存"))
    return redirect(url_for("notifications.settings"))


# ---- 通知通道 (admins) ---------------------------------------------------------------------------
@bp.get("/channels")
@permission_required("manage_notifications")
def channels():
    """The county's channels and the latest deliveries."""
    return _channels_page({"kind": "email", "security": "starttls", "format": "markdown"}, {})


def _channels_page(form: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    engine, me = get_engine(), current_user().username
    found = engine.list_notification_channels(me)
    log, total = engine.list_notification_deliveries(me, limit=50)
    know_people(u for d in log for u in d.recipients)
    rows = [
        {
            "record": d,
            "when": fmt_when(d.delivered_at or d.created_at),
            "later": fmt_when(d.not_before)
            if d.status == "pending" and d.not_before > d.created_at
            else None,
            "people": "、".join(person(u) for u in d.recipients),
            "error": next((a.get("error") for a in reversed(d.attempts) if a.get("error")), None),
        }
        for d in log
    ]
    return (
        render_template(
            "pages/notifications/channels.html",
            channels=found,
            log=rows,
            total=total,
            form=form,
            errors=errors,
            kinds=kind_words(),
            events={k.value: v.split("：")[0] for k, v in event_words().items()},
            statuses=status_words(),
        ),
        status,
    )


@bp.post("/channels")
@permission_required("manage_notifications")
def create_channel():
    """Add a channel; a refusal keeps what the admin typed (never the secret), each field marked."""
    form = {
        k: (request.form.get(k) or "").strip() for k in request.form if k not in ("password", "sign_secret")
    }
    kind = form.get("kind", "")
    if kind == "email":
        settings = {
            "host": form.get("host"),
            "port": int(form["port"]) if form.get("port", "").isdigit() else form.get("port") or None,
            "security": form.get("security"),
            "username": form.get("username"),
            "from_address": form.get("from_address"),
            "from_name": form.get("from_name"),
        }
    else:
        settings = {"url": form.get("url"), "format": form.get("format")}
    secret = request.form.get("password" if kind == "email" else "sign_secret") or None
    body = {"kind": kind, "name": form.get("name"), "settings": settings, "secret": secret}
    try:
        get_engine().create_notification_channel(current_user().username, body)
    except InvalidInputError as exc:
        errors = {k.removeprefix("settings."): v for k, v in _errors(exc).items()}
        return _channels_page(form, errors, 422)
    flash(_("已添加通知通道“%(name)s”", name=form.get("name")))
    return redirect(url_for("notifications.channels"))


@bp.post("/channels/<channel_id>/test")
@permission_required("manage_notifications")
def test_channel(channel_id: str):
    """Send a sample now and say how it went."""
    try:
        attempt = get_engine().test_notification_channel(
            channel_id, current_user().username, request.form.get("to") or None
        )
    except InvalidInputError:
        flash(_("请填写收件地址，或先在“通知设置”里填写自己的邮箱"), "error")
        return redirect(url_for("notifications.channels"))
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
        return redirect(url_for("notifications.channels"))
    if attempt.get("error"):
        flash(_("测试消息发送失败：%(error)s", error=attempt["error"]), "error")
    else:
        flash(_("测试消息已发出，请到邮箱或群里查看"))
    return redirect(url_for("notifications.channels"))


@bp.post("/channels/<channel_id>/active")
@permission_required("manage_notifications")
def set_active(channel_id: str):
    """启用 or 停用 a channel."""
    active = request.form.get("active") == "1"
    try:
        get_engine().update_notification_channel(channel_id, current_user().username, {"active": active})
        flash(_("通道已启用") if active else _("通道已停用，不再发送"))
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
    return redirect(url_for("notifications.channels"))


@bp.post("/channels/<channel_id>/delete")
@permission_required("manage_notifications")
def delete_channel(channel_id: str):
    """删除 a channel with its log."""
    try:
        get_engine().delete_notification_channel(channel_id, current_user().username)
        flash(_("通道已删除"))
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
    return redirect(url_for("notifications.channels"))
