"""What a notification says: one template per event, in Chinese (and English when a person chose it).

A message names the task and the process by their names, gives the due time in local time
(Asia/Shanghai) and links to the task page. Every value that came from a diagram or a person is
escaped for the channel it goes through (markdown for the robots; e-mail is plain text, whose
headers the mail library encodes), so a task named ``[点我](http://evil)`` stays text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class NotifyEvent(StrEnum):
    """What a person may be told of (the preferences' words)."""

    TASK_CREATED = "task_created"
    TASK_URGED = "task_urged"
    TASK_DUE_SOON = "task_due_soon"
    TASK_OVERDUE = "task_overdue"


@dataclass(frozen=True)
class Facts:
    """What a message is about, as plain (unescaped) values."""

    event: NotifyEvent
    task_name: str
    process_name: str
    title: str | None  # the instance's title, when it has one
    due_at: datetime | None
    link: str
    recipients: list[str]  # display names
    by: str | None = None  # who urged
    comment: str | None = None  # what they wrote


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


_SUBJECTS = {
    "zh_CN": {
        NotifyEvent.TASK_CREATED: "任务待办：{task}",
        NotifyEvent.TASK_URGED: "催办：{task}",
        NotifyEvent.TASK_DUE_SOON: "即将到期：{task}",
        NotifyEvent.TASK_OVERDUE: "已超期：{task}",
    },
    "en": {
        NotifyEvent.TASK_CREATED: "New task: {task}",
        NotifyEvent.TASK_URGED: "Reminder: {task}",
        NotifyEvent.TASK_DUE_SOON: "Due soon: {task}",
        NotifyEvent.TASK_OVERDUE: "Overdue: {task}",
    },
}
_LEADS = {
    "zh_CN": {
        NotifyEvent.TASK_CREATED: "{who}有一项新的待办任务。",
        NotifyEvent.TASK_URGED: "{by}催办{who}的任务，请尽快处理。",
        NotifyEvent.TASK_DUE_SOON: "{who}的任务即将到期，请按时办理。",
        NotifyEvent.TASK_OVERDUE: "{who}的任务已超过办理期限，请尽快处理。",
    },
    "en": {
        NotifyEvent.TASK_CREATED: "A new task is waiting for {who}.",
        NotifyEvent.TASK_URGED: "{by} asks {who} to deal with this task soon.",
        NotifyEvent.TASK_DUE_SOON: "This task of {who} is due soon.",
        NotifyEvent.TASK_OVERDUE: "This task of {who} is past its due time.",
    },
}
_LABELS = {
    "zh_CN": {
        "task": "任务",
        "process": "流程",
        "title": "事项",
        "due": "办理期限",
        "comment": "催办说明",
        "link": "办理",
        "none": "未设期限",
        "system": "系统",
        "sep": "、",
        "zone": "（北京时间）",
    },
    "en": {
        "task": "Task",
        "process": "Process",
        "title": "Subject",
        "due": "Due",
        "comment": "Note",
        "link": "Open",
        "none": "no due time",
        "system": "The system",
        "sep": ", ",
        "zone": " (Beijing time)",
    },
}

# Markdown's active characters (CommonMark's escapable punctuation), and raw HTML's.
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def escape_markdown(value: str) -> str:
    """A value shown as itself in a robot's markdown: no links, emphasis, headings or HTML."""
    flat = " ".join(value.split())  # a newline could start a heading or a list
    return _MARKDOWN_ACTIVE.sub(r"\\\1", flat).replace("<", "&lt;").replace(">", "&gt;")


def plain(value: str) -> str:
    """A value on one line of a plain-text message (no forged lines or headers)."""
    return " ".join(value.split())


def local_time(at: datetime) -> str:
    """An instant as a county reads it: ``2026-03-02 17:00`` in Asia/Shanghai."""
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def language_of(choice: str | None) -> str:
    return "en" if (choice or "").startswith("en") else "zh_CN"


def render(facts: Facts, language: str, *, markdown: bool) -> Message:
    """The message for ``facts`` in ``language`` (zh_CN or en), escaped for markdown or plain text."""
    lang = language_of(language)
    label = _LABELS[lang]
    esc = escape_markdown if markdown else plain
    who = label["sep"].join(esc(n) for n in facts.recipients) or "-"
    by = esc(facts.by) if facts.by else label["system"]
    subject = plain(_SUBJECTS[lang][facts.event].format(task=facts.task_name))[:200]
    colon = "：" if lang == "zh_CN" else ": "
    lines = [
        _LEADS[lang][facts.event].format(who=who, by=by),
        f"{label['task']}{colon}{esc(facts.task_name)}",
    ]
    if facts.title:
        lines.append(f"{label['title']}{colon}{esc(facts.title)}")
    lines.append(f"{label['process']}{colon}{esc(facts.process_name)}")
    due = f"{local_time(facts.due_at)}{label['zone']}" if facts.due_at else label["none"]
    lines.append(f"{label['due']}{colon}{due}")
    if facts.comment:
        lines.append(f"{label['comment']}{colon}{esc(facts.comment)}")
    if markdown:
        # The link is ours (the configured base URL and a task id), so it is not escaped.
        lines.append(f"[{label['link']}]({facts.link})")
        title = f"#### {escape_markdown(subject)}"
        return Message(subject, "\n\n".join([title, *lines]))
    lines.append(f"{label['link']}{colon}{facts.link}")
    return Message(subject, "\n".join(lines))
