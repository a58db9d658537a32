"""What a decision is about, gathered for the task page: the application, earlier opinions with who
and when, the claims, every progress report, the completion report and a short timeline.

Everything comes from the instance's data and its audit trail (each completed task records the
form it was completed with), read as the viewer, so nobody sees more than the instance shows them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from engine import EngineError, Event
from forms import PATH as FORMS

from . import story
from .common import get_engine, named

__all__ = ["Context", "Entry", "decision_context"]

# Steps whose pages show the whole picture (the others show the application and the timeline).
DECISIONS = {"preliminary_review", "committee_approval", "select_claim", "acceptance", "deadline_escalation"}


def _option_labels() -> dict[str, dict[str, dict[str, str]]]:
    """Option labels of the shipped forms by step and field (the step id is the form's file name)."""
    labels: dict[str, dict[str, dict[str, str]]] = {}
    for path in FORMS.glob("*.schema.json"):
        props = json.loads(path.read_text(encoding="utf-8")).get("properties") or {}
        step = path.name.split(".")[0]
        for key, prop in props.items():
            if isinstance(prop.get("x-enumTitles"), dict):
                labels.setdefault(step, {})[key] = prop["x-enumTitles"]
    return labels


_LABELS = _option_labels()


def option_label(step: str, key: str, value: Any) -> str:
    """An option's label (``pass`` → 通过) in the page's language; an unknown value as it is."""
    text = (_LABELS.get(step, {}).get(key) or {}).get(str(value))
    return _(text) if text else str(value)


@dataclass
class Entry:
    """One thing that happened: who (display name), when, what, and the words they left."""

    at: datetime
    who: str
    what: str
    step: str | None = None
    decision: str | None = None
    comment: str | None = None
    form: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    opinions: list[Entry]
    reports: list[Entry]
    completion: Entry | None
    claims: list[dict[str, Any]]
    timeline: list[Entry]
    full: bool


def decision_context(instance: Any, element_id: str, viewer: str, names: dict[str, str]) -> Context:
    """The context for ``element_id``'s page on ``instance`` as ``viewer`` may see it."""
    engine = get_engine()
    try:
        history = engine.history(instance.id, viewer=viewer)
    except EngineError:
        history = []
    task_names: dict[str, str] = {}

    def step_name(task_id: str | None, step: str | None) -> str:
        if not task_id:
            return step or ""
        if task_id not in task_names:
            try:
                task_names[task_id] = named(engine.get_task(task_id).task)
            except EngineError:
                task_names[task_id] = step or ""
        return task_names[task_id]

    def who(username: str | None) -> str:
        return names.get(username or "", username or _("系统"))

    opinions: list[Entry] = []
    reports: list[Entry] = []
    completion: Entry | None = None
    timeline: list[Entry] = []
    for row in history:
        if row.event == Event.INSTANCE_START:
            timeline.append(Entry(row.at, who(row.actor), _("发起申报")))
        elif row.event == Event.TASK_COMMENTED:
            text = str(row.data.get("text") or "")
            if text:
                opinions.append(Entry(row.at, who(row.actor), _("审批意见"), comment=text))
        elif row.event == Event.TASK_COMPLETE:
            form = row.data.get("form") if isinstance(row.data.get("form"), dict) else {}
            step = row.element_id or ""
            entry = Entry(
                row.at,
                who(row.actor),
                step_name(row.task_id, step),
                step=step,
                decision=option_label(step, "decision", form["decision"]) if form.get("decision") else None,
                comment=str(form.get("comment") or "") or None,
                form=form,
            )
            timeline.append(entry)
            if step == "progress_report":
                reports.append(entry)
            elif step == "completion_report":
                completion = entry
            elif entry.decision or entry.comment:
                opinions.append(entry)
        elif row.event == Event.INSTANCE_COMPLETED:
            timeline.append(Entry(row.at, _("系统"), _("办结")))
    opinions.sort(key=lambda e: e.at)
    claims = [_claim_view(c, names) for c in (instance.data.get("claims") or []) if isinstance(c, dict)]
    return Context(opinions, reports, completion, claims, timeline[-12:], element_id in DECISIONS)


def _claim_view(claim: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    members = [m for m in claim.get("members") or [] if isinstance(m, dict)]
    leader = str(claim.get("leader") or "")
    return {
        "leader": leader,
        "leader_name": names.get(leader, leader),
        "team": claim.get("kind") == "team",
        "members": [
            {
                "username": m.get("username"),
                "name": names.get(str(m.get("username")), m.get("username"))
                if m.get("username")
                else story.guest_name(m),
                "share": m.get("share"),
            }
            for m in members
        ],
        "principal_name": names.get(str(claim.get("principal")), claim.get("principal") or ""),
        "pledge_file": claim.get("pledge_file") or "",
        "plan": claim.get("plan") or "",
        "pledge": claim.get("pledge") or "",
    }
