"""One task: the instance's key facts, its form rendered from JSON Schema, and the task actions
(claim, unclaim, complete, comment). Server-side form errors come back at their fields."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import (
    EngineError,
    FormInvalidError,
    InvalidInputError,
    NotAllowedError,
    NotFoundError,
    strict_json_loads,
)

from . import attachments
from .common import act, current_user, get_engine, login_required, one_language
from .decision import decision_context
from .forms import client_messages, field_label, initial_data, localize, plain_errors

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

# Keywords the browser-side form renderer does not need (the form's title is the panel's heading).
_CLIENT_DROP = ("$schema", "$id", "title")


def client_schema(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The form schema as the browser gets it, in the page's language. Its ``allOf``/``if``-``then``
    rules stay: the browser uses the simple ones (a comment required when returning) to mark and
    check fields before sending, and the server checks them all again."""
    if not schema:
        return None
    return {k: v for k, v in (localize(schema) or {}).items() if k not in _CLIENT_DROP}


def _names() -> dict[str, str]:
    """username → display name, for every person the page may mention."""
    return {u.username: u.display_name or u.username for u in get_engine().list_users(limit=5000)}


def _unit_names(instance: Any, viewer: str) -> dict[str, str]:
    """code → name of the units an annual list collects from (its pages name units, not codes)."""
    if not isinstance(instance.data.get("units"), list):
        return {}
    page = get_engine().list_units(viewer=viewer, limit=5000)
    return {u.code: u.name for u in page.items}


def _comments(task_id: str, username: str) -> list[Any]:
    try:
        return list(get_engine().list_comments(task_id, username))
    except EngineError:  # not involved in the task: no remarks to show
        return []


def _render(
    task_id: str,
    *,
    data: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
):
    """The task page; after a refused submit, ``data`` is what was sent and ``errors`` the engine's."""
    engine = get_engine()
    try:
        detail = engine.get_task(task_id, current_user().username)
    except NotFoundError:
        return render_template("pages/error.html", message=_("任务不存在")), 404
    except NotAllowedError:
        return render_template("pages/error.html", message=_("无权查看该任务")), 403
    instance = engine.get_instance(detail.task.instance_id)
    me = current_user()
    task = detail.task
    names = _names()
    localized = localize(detail.form)
    messages = plain_errors(detail.form, data, errors) if errors else {}
    files = attachments.visible(instance.id)
    return render_template(
        "pages/tasks/show.html",
        task=task,
        instance=instance,
        names=names,
        context=decision_context(instance, task.element_id, me.username, names),
        schema=client_schema(detail.form),
        form_title=(localized or {}).get("title"),
        form_data=data if data is not None else initial_data(detail.form, detail.data, instance.data),
        errors=messages,
        error_labels={path: field_label(localized, path) for path in messages},
        form_messages=client_messages(),
        actions=task.actions,
        comments=_comments(task_id, me.username),
        ops=[op for op in OPS if op in task.actions],
        return_targets=_return_targets(task_id) if "return" in task.actions else [],
        signers=engine.signers(task_id) if task.kind == "task" else [],
        me=me.username,
        attachments=files,
        attachment_ids={a.id for a in files},
        upload_kind="evidence" if task.status == "open" and task.element_id in EVIDENCE_TASKS else None,
        units=_unit_names(instance, me.username),
    ), status


@bp.get("/<task_id>")
@login_required
def show(task_id: str):
    """The task page."""
    return _render(task_id)


@bp.post("/<task_id>/complete")
@login_required
def complete(task_id: str):
    """Complete the task with the form's data; on invalid data show the form again with the errors."""
    try:
        data = strict_json_loads(request.form.get("data") or "{}", where="data")
    except InvalidInputError as exc:  # a value JSON has no form for (NaN, a lone surrogate…): name its field
        fields = {path.removeprefix("data."): messages for path, messages in (exc.errors or {}).items()}
        fields = {path: messages for path, messages in fields.items() if path != "data"}
        return _render(task_id, errors=fields or {"": [_("表单数据无法解析")]}, status=422)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _render(task_id, data={}, errors={"": [_("表单数据无法解析")]}, status=400)
    try:
        get_engine().complete(task_id, current_user().username, data)
    except FormInvalidError as exc:
        return _render(task_id, data=data, errors=exc.errors, status=422)
    except InvalidInputError as exc:
        return _render(task_id, data=data, errors=exc.errors or {"": [one_language(exc.detail)]}, status=422)
    except EngineError as exc:
        flash(exc.detail, "error")
        return redirect(url_for("tasks.show", task_id=task_id))
    flash(_("任务已完成"))
    return redirect(url_for("inbox.index"))


@bp.post("/<task_id>/claim")
@login_required
def claim(task_id: str):
    """Take a group task for myself (签收)."""
    act(lambda: get_engine().claim(task_id, current_user().username), _("已签收"))
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    """Give a claimed task back to the group."""
    act(lambda: get_engine().unclaim(task_id, current_user().username), _("已退回组任务"))
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<task_id>/comments")
@login_required
def comment(task_id: str):
    """Add an approval remark to the task."""
    text = (request.form.get("text") or "").strip()
    if not text:
        flash(_("意见不能为空"), "error")
    else:
        act(lambda: get_engine().add_comment(task_id, current_user().username, text), _("意见已保存"))
    return redirect(url_for("tasks.show", task_id=task_id))


# ---- approval operations (转办, 委派, 加签, 退回, 催办, 抄送) ---------------------------------------
# The operations the page offers, each shown only when the task's ``actions`` (the rulebook) allow it.
EVIDENCE_TASKS = ("progress_report", "completion_report")  # their forms cite evidence uploaded here
OPS = ("transfer", "delegate", "add_signers", "remove_signer", "return", "urge", "cc")


def _return_targets(task_id: str) -> list[Any]:
    try:
        return list(get_engine().return_targets(task_id))
    except EngineError:
        return []


def _usernames(raw: str) -> list[str]:
    return [u for u in (x.strip() for x in raw.replace("，", ",").replace(" ", ",").split(",")) if u]


@bp.get("/people")
@login_required
def people():
    """Name search for the person pickers (转办, 委派, 加签, team members): username and display name
    of active users whose name or username contains ``q``; nothing for an empty query."""
    q = (request.args.get("q") or "").strip()[:50]
    if not q:
        return jsonify([])
    found = [u for u in get_engine().list_users(q, limit=20, viewer=current_user().username) if u.active]
    return jsonify([{"username": u.username, "display_name": u.display_name or u.username} for u in found])


@bp.post("/<task_id>/ops/<op>")
@login_required
def operate(task_id: str, op: str):
    """One approval operation on the task; the engine decides whether this user may do it."""
    if op not in OPS:
        return render_template("pages/error.html", message=_("不支持的操作")), 404
    engine, me, form = get_engine(), current_user().username, request.form
    comment = (form.get("comment") or "").strip() or None
    try:
        if op == "transfer":
            engine.transfer(task_id, me, form.get("to", "").strip(), comment)
            message = _("已转办")
        elif op == "delegate":
            engine.delegate(task_id, me, form.get("to", "").strip(), comment)
            message = _("已委派")
        elif op == "add_signers":
            engine.add_signers(
                task_id, me, _usernames(form.get("usernames", "")), form.get("mode", "after"), comment
            )
            message = _("已加签")
        elif op == "remove_signer":
            engine.remove_signer(task_id, me, form.get("username", "").strip(), comment)
            message = _("已减签")
        elif op == "return":
            engine.return_task(task_id, me, form.get("to_element_id") or None, comment or "")
            message = _("已退回")
        elif op == "urge":
            engine.urge(task_id, me, comment)
            message = _("已催办")
        else:
            instance_id = engine.get_task(task_id).task.instance_id
            engine.copy_to(instance_id, me, _usernames(form.get("usernames", "")))
            message = _("已抄送")
    except InvalidInputError as exc:
        flash("；".join(f"{k}: {'；'.join(v)}" for k, v in exc.errors.items()) or exc.detail, "error")
        return redirect(url_for("tasks.show", task_id=task_id))
    except EngineError as exc:
        flash(exc.detail, "error")
        return redirect(url_for("tasks.show", task_id=task_id))
    flash(message)
    if op in ("transfer", "delegate", "return"):
        return redirect(url_for("inbox.index"))
    return redirect(url_for("tasks.show", task_id=task_id))
