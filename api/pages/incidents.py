"""出错停止的流程 (admins): what stopped each instance or job, in words, with the instance's data at
that point; 修改数据 to repair a wrong value (audited) and 重试 to run it again from its last good
state. The instance page shows the same banner with the retry button."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import EngineError, IncidentRecord, NotFoundError, ScriptError

from .common import current_user, get_engine, may, named, one_language, permission_required

bp = Blueprint("incidents", __name__, url_prefix="/incidents")

NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")
VALUE_MAX = 2000


def error_words(message: str) -> str:
    """What went wrong, as an admin who does not read Python tracebacks would say it."""
    words = {
        "ZeroDivisionError": _("计算时除以了零（某个数为 0）"),
        "NameError": _("脚本用到了流程数据里没有的变量"),
        "KeyError": _("脚本读取了不存在的数据项"),
        "TypeError": _("数据类型不符合脚本的要求（例如把文字当作数字计算）"),
        "ValueError": _("数据的值不符合要求"),
        "IndexError": _("脚本读取的列表项不存在"),
        "ScriptTimeoutError": _("脚本运行超时，已被停止"),
        "SandboxViolationError": _("脚本试图做不允许的事，已被阻止"),
        "TaskDataError": _("流程数据无法保存（格式不对或过大）"),
    }
    for part in message.split(":")[:4]:  # "ScriptError: ZeroDivisionError: division by zero": the cause
        if part.strip() in words:
            return words[part.strip()]
    return _("执行出错")


def message_words(message: str) -> str:
    """Why a message the process sent went nowhere, and what the admin does about it."""
    found = re.search(r"message '([^']*)'", message)
    name = found.group(1) if found else ""
    if "instances wait for" in message:
        return _("有多个流程在等待消息「%(name)s」，无法确定交给哪一个", name=name)
    if "no instance waits for" in message:
        return _("发出的消息「%(name)s」没有流程在等待接收：先启动或修正接收它的流程，再重试", name=name)
    return _("发出的消息「%(name)s」未能送达", name=name)


def reason_words(incident: IncidentRecord) -> str:
    if incident.kind == "message":
        return message_words(incident.message)
    if incident.kind == "job":
        return _("定时任务多次执行失败")
    return error_words(incident.message)


def shown(value: Any) -> str:
    """A data value as text: numbers and words as they are, lists joined, the rest compact."""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, (int, float, str)):
        return str(value)
    if value is None:
        return "—"
    if isinstance(value, list) and all(isinstance(v, (int, float, str)) for v in value):
        return "、".join(str(v) for v in value)
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:200] + "…"


def typed(text: str) -> Any:
    """A value typed into the repair form: a number stays a number, 是/否 and true/false a yes or no."""
    text = text.strip()
    if NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    if text.lower() in ("true", "是"):
        return True
    if text.lower() in ("false", "否"):
        return False
    return text


@bp.get("")
@permission_required("view_incidents")
def index():
    """Open incidents of the admin's tenant, newest first."""
    found = get_engine().list_incidents(current_user().username)
    return render_template("pages/incidents/index.html", incidents=[_row(i) for i in found])


def of_instance(instance_id: str) -> list[dict[str, Any]]:
    """The open incidents of one instance as the instance page shows them (admins only)."""
    if not may("view_incidents"):
        return []
    return [_row(i) for i in get_engine().list_incidents(current_user().username, instance_id=instance_id)]


def _row(incident: IncidentRecord) -> dict[str, Any]:
    engine, me = get_engine(), current_user().username
    instance = None
    if incident.instance_id:
        try:
            instance = engine.get_instance(incident.instance_id, viewer=me)
        except EngineError:
            instance = None
    step = incident.element_id
    if instance is not None and incident.element_id:
        step = named(instance, incident.element_id)
    return {
        "instance": instance,
        "title": (instance.data.get("title") or instance.business_key) if instance is not None else None,
        "process": named(instance) if instance is not None else incident.process_key or "",
        "incident": incident,
        "step": step or "—",
        "reason": reason_words(incident),
        "data": {k: shown(v) for k, v in sorted(incident.data.items())},
    }


@bp.post("/<incident_id>/retry")
@permission_required("repair_instances")
def retry(incident_id: str):
    """重试: run it again; a retry that fails again says why, and the incident counts another attempt."""
    try:
        get_engine().retry_incident(incident_id, current_user().username)
        flash(_("已重试，流程继续办理"))
    except ScriptError as exc:
        flash(_("重试后仍然出错：%(reason)s", reason=error_words(exc.detail)), "error")
    except NotFoundError:
        flash(_("没有这个故障"), "error")
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
    return redirect(_back())


@bp.post("/instances/<instance_id>/variables")
@permission_required("repair_instances")
def set_variable(instance_id: str):
    """修改数据: one variable, with the reason (kept in the history beside the old value)."""
    name = (request.form.get("name") or "").strip()
    value = (request.form.get("value") or "")[:VALUE_MAX]
    try:
        get_engine().set_instance_variables(
            instance_id,
            current_user().username,
            {name: typed(value)} if name else {},
            request.form.get("comment") or "",
        )
        flash(_("已修改“%(name)s”，可以重试了", name=name))
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
    return redirect(_back())


def _back() -> str:
    """Back to the page the form was on: the instance's, or the list."""
    instance_id = request.form.get("back_instance")
    return url_for("instances.show", instance_id=instance_id) if instance_id else url_for("incidents.index")
