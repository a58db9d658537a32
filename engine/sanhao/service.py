"""Objections and 躺平奖 nominations: checked here, then delivered to the town's instance.

Both are the engine's own messages (``process.install``), so ``POST /messages`` cannot skip these
checks. An objection is taken only while the publicity window is open (``objections_until``, by
the engine's clock, whether or not the closing timer has run yet) and while no other objection
is being handled; a nomination names a person holding a post in the town, any time in the year.
"""

from __future__ import annotations

from typing import Any

from .. import rules
from ..errors import ConflictError, InvalidInputError
from ..records import InstanceRecord
from ..runtime.runner import message_event
from ..runtime.step import Step
from ..sandbox.helpers import parse_utc
from ..vocabulary import Event
from . import process

MAX_TEXT = 4000


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise InvalidInputError(
            f"{name} required", {name: [f"required, at most {MAX_TEXT} characters / 必填"]}
        )
    return value.strip()


def _deliver(step: Step, row: Any, name: str, payload: dict[str, Any]) -> InstanceRecord:
    ctx = step.advance(row, lambda wf: wf.send_event(message_event(name, payload)))
    if ctx.error is not None:
        raise ctx.error
    step.record(
        Event.MESSAGE_RECEIVED, actor=step.actor, instance_id=row.id, data={"name": name, "payload": payload}
    )
    return step.instance_record(row)


def file_objection(step: Step, instance_id: str, body: dict[str, Any]) -> InstanceRecord:
    """An objection to the town's proposed awards during publicity: ``{against, reason}``."""
    s = step.session
    row = step.lock_instance(instance_id)
    rules.require_tenant(rules.actor_of(s, step.actor or ""), row)
    data = row.data or {}
    until = data.get("objections_until")
    if row.process_key == process.PROCESS and until and step.now > parse_utc(until):
        raise ConflictError(f"the publicity window closed at {until} / 公示期已结束，不再受理异议")
    process.require_running(row)
    if data.get("phase") != "publicity" or not until:
        raise ConflictError("the awards are not in publicity / 当前不在公示期")
    if process.OBJECTION_WAIT not in (row.active_elements or []):
        raise ConflictError(
            "an objection is being handled; file yours once it is answered / 正在处理另一项异议，请稍后提出"
        )
    against = str(body.get("against") or "")
    named = {a.get("subject") for a in data.get("awards") or [] if isinstance(a, dict)}
    if against not in named:
        raise InvalidInputError(
            "not a proposed award", {"against": ["不是拟表彰对象 / not a proposed award"]}
        )
    payload = {
        "against": against,
        "reason": _text(body, "reason"),
        "filed_by": step.actor,
        "filed_at": step.now.isoformat(),
    }
    return _deliver(step, row, process.OBJECTION_MESSAGE, payload)


def nominate(step: Step, instance_id: str, body: dict[str, Any]) -> InstanceRecord:
    """A 躺平奖 nomination of a cadre of the town: ``{nominee, reason}``, by someone who sees the
    instance (the organiser, the town's leadership)."""
    s = step.session
    row = step.lock_instance(instance_id)
    rules.require("view", rules.actor_of(s, step.actor or ""), row)
    process.require_running(row)
    unit = str((row.data or {}).get("unit") or "")
    people = process.town_people(s, unit)
    nominee = str(body.get("nominee") or "")
    if nominee not in people:
        raise InvalidInputError(
            "not a cadre of the town", {"nominee": ["不是本镇街干部 / not a cadre of the town"]}
        )
    payload = {
        "nominee": nominee,
        "nominee_name": people[nominee],
        "reason": _text(body, "reason"),
        "nominated_by": step.actor,
        "nominated_at": step.now.isoformat(),
    }
    return _deliver(step, row, process.NOMINATION_MESSAGE, payload)
