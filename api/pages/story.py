"""An instance told for people: the history as "who did what, when, with what opinion", and the
instance's data as a labelled summary. Raw element ids, usernames and JSON stay out of both;
admins get the raw data beside them on the page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from engine import AuditRecord

from . import words
from .common import fmt_when

# Rows that say nothing to a person reading the history (the task's arrival says it all).
QUIET_EVENTS = frozenset({"task.claim", "task.unclaim"})


@dataclass(frozen=True)
class Entry:
    """One line of the human history."""

    at: datetime
    event: str
    who: str
    what: str
    step: str = ""
    target: str = ""  # to whom it went (a task's arrival, a transfer, a copy)
    decision: str = ""
    opinion: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)


def tell(
    history: Iterable[AuditRecord],
    *,
    step_label: Callable[[str], str],
    person: Callable[[str | None], str],
) -> list[Entry]:
    """The history as entries, oldest first; ``step_label`` names an element in the page's language,
    ``person`` turns a username into a display name."""
    events, decisions, group_names = words.events(), words.decisions(), words.groups()
    messages = words.messages()
    out = []
    for h in history:
        if h.event in QUIET_EVENTS:
            continue
        data = h.data or {}
        form = data.get("form") if isinstance(data.get("form"), dict) else {}
        step = step_label(h.element_id) if h.element_id else ""
        decision = form.get("decision")
        out.append(
            Entry(
                at=h.at,
                event=h.event,
                who=_who(h, person),
                what=messages.get(data.get("name"), events.get(h.event, h.event))
                if h.event == "message.received"
                else events.get(h.event, h.event),
                step=step if h.event != "message.received" else "",
                target=_target(h.event, data, person, group_names),
                decision=decisions.get(decision, str(decision)) if isinstance(decision, str) else "",
                opinion=_opinion(h.event, data, form),
                details=_details(h.event, data, person),
            )
        )
    return out


def _who(h: AuditRecord, person: Callable[[str | None], str]) -> str:
    """Who acted; a task's arrival is told by where it went (``target``), not by who sent it on."""
    if h.event == "task.created":
        return ""
    return person(h.actor) if h.actor and h.actor != "system" else _("系统")


def _target(
    event: str, data: dict[str, Any], person: Callable[[str | None], str], groups: Mapping[str, str]
) -> str:
    if event == "task.created":
        if data.get("assignee"):
            return person(data["assignee"])
        return "、".join(groups.get(g, g) for g in data.get("candidate_groups") or [])
    if event == "task.remove_signer" and data.get("username"):
        return person(str(data["username"]))
    if event in ("task.transfer", "task.delegate") and data.get("to"):
        return person(str(data["to"]))
    if event in ("instance.cc", "task.add_signers"):
        return "、".join(person(u) for u in data.get("usernames") or [])
    return ""


def _opinion(event: str, data: dict[str, Any], form: dict[str, Any]) -> str:
    for value in (form.get("comment"), data.get("comment"), data.get("text"), data.get("reason")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    if event == "instance.error" and isinstance(data.get("error"), str):
        return data["error"]
    return ""


def _details(event: str, data: dict[str, Any], person: Callable[[str | None], str]) -> list[tuple[str, str]]:
    """What a few events carry that a reader wants: the claim filed, the points awarded."""
    if event == "message.received":
        claim = (data.get("payload") or {}) if isinstance(data.get("payload"), dict) else {}
        if claim.get("members"):
            return [(_("揭榜方"), claims_line(claim, person)), (_("攻坚方案"), str(claim.get("plan") or ""))]
    if event == "score.awarded":
        ledger = [e for e in data.get("ledger") or [] if isinstance(e, dict)]
        line = "、".join(f"{person(e.get('username'))} {e.get('points')}" for e in ledger)
        return [(_("积分"), line)] if line else []
    return []


def claims_line(claim: Mapping[str, Any], person: Callable[[str | None], str]) -> str:
    """A claim's people as a clerk writes them: ``张杰 60%、李明 40%`` (or one name for an individual)."""
    members = [m for m in claim.get("members") or [] if isinstance(m, dict)]
    if claim.get("kind") != "team" or not members:
        return person(claim.get("leader") or (members[0].get("username") if members else None))
    return "、".join(
        f"{person(m['username']) if m.get('username') else guest_name(m)} {_share(m.get('share'))}%"
        for m in members
    )


def guest_name(member: Mapping[str, Any]) -> str:
    """A team member without a login as a clerk writes them: ``王建国（县住建局）``."""
    unit = member.get("unit_name") or member.get("unit")
    return f"{member.get('name') or ''}（{unit}）" if unit else str(member.get("name") or "")


def _share(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def summary(data: Mapping[str, Any], person: Callable[[str | None], str]) -> list[tuple[str, str]]:
    """The instance's data as labelled lines, in reading order; what has no label is left to admins."""
    phase_words, rag_words = words.phases(), {"green": _("绿灯"), "yellow": _("黄灯"), "red": _("红灯")}
    claimant = data.get("claimant") if isinstance(data.get("claimant"), dict) else {}
    report = data.get("last_report") if isinstance(data.get("last_report"), dict) else {}
    lines: list[tuple[str, Any]] = [
        (_("问题名称"), data.get("title")),
        (_("问题类别"), data.get("category")),
        (_("阶段"), phase_words.get(data.get("phase"), data.get("phase")) if data.get("phase") else None),
        (_("问题描述"), data.get("description")),
        (_("目标要求"), data.get("goals")),
        (_("所需支持"), data.get("support_needed")),
        (_("建议分值"), data.get("proposed_points")),
        (_("建议完成期限"), _when(data.get("proposed_deadline"))),
        (_("分值"), data.get("points")),
        (_("完成期限"), _when(data.get("deadline"))),
        (_("揭榜截止"), _when(data.get("claim_deadline"))),
        (_("节点目标"), "、".join(m for m in data.get("milestones") or [] if isinstance(m, str))),
        (_("保障措施"), data.get("guarantees")),
        (_("揭榜申请"), len(data["claims"]) if isinstance(data.get("claims"), list) else None),
        (_("揭榜方"), claims_line(claimant, person) if claimant else None),
        (_("红黄绿灯"), rag_words.get(data.get("rag")) if data.get("rag") else None),
        (_("最近进度"), f"{report['progress_percent']}%" if "progress_percent" in report else None),
        (_("下次汇报期限"), _when(data.get("report_due_at"))),
        (_("验收等次"), _grade(data.get("grade"))),
    ]
    return [(label, str(value)) for label, value in lines if value not in (None, "", [])]


def _when(value: Any) -> str | None:
    return fmt_when(value) if value else None


def _grade(value: Any) -> str | None:
    grades = {"excellent": _("优秀"), "good": _("良好"), "pass": _("合格")}
    return grades.get(value, value) if value else None
