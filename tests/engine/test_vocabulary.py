"""One vocabulary: every event name is a word of engine.vocabulary, each word is written somewhere,
and every webhook announces an audit event written in the same step."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import Engine, Event, WebhookEvent, audit
from engine.integration.service import WEBHOOK_EVENTS
from engine.integration.tables import Delivery
from engine.tables import AuditEvent
from engine.vocabulary import AUDITED_AS

ROOT = Path(__file__).parent.parent.parent
DATA = ROOT / "tests" / "data" / "engine"
PEOPLE = {"wang": [], "a": ["reviewers"], "b": ["reviewers", "office"], "s1": [], "s2": []}


def _engine_names() -> tuple[set[str], set[str]]:
    """String constants and ``X.NAME`` attribute names used by the engine's modules outside the vocabulary."""
    strings, attributes = set(), set()
    for path in (ROOT / "engine").rglob("*.py"):
        if path.name == "vocabulary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            elif isinstance(node, ast.Attribute):
                attributes.add(node.attr)
    return strings, attributes


def test_every_audit_event_of_the_vocabulary_is_written_by_some_module() -> None:
    strings, attributes = _engine_names()
    aliases = {name for name, value in vars(audit).items() if isinstance(value, Event)}
    written = {
        e
        for e in Event
        if e.value in strings
        or e.name in attributes
        or any(vars(audit)[a] == e and a in attributes for a in aliases)
    }
    assert set(Event) - written == set()


def test_every_webhook_event_is_announced_and_paired_with_an_audit_event() -> None:
    strings, _ = _engine_names()
    assert set(AUDITED_AS) == set(WebhookEvent)
    assert {e.value for e in WebhookEvent} <= strings  # each one is emitted by name
    assert WEBHOOK_EVENTS == tuple(WebhookEvent)


def test_a_name_outside_the_vocabulary_is_refused_before_it_reaches_the_history(engine: Engine) -> None:
    with engine.store.write() as s, pytest.raises(ValueError, match="task.comment"):
        audit.record(s, "task.comment", datetime(2026, 1, 5, tzinfo=UTC))


def test_the_api_enums_the_readme_and_the_pages_use_the_vocabulary() -> None:
    from api.pages.instances import DONE_EVENTS
    from api.schemas.instances import INSTANCE_STATUSES
    from api.schemas.webhooks import WEBHOOK_EVENTS as API_WEBHOOK_EVENTS

    assert API_WEBHOOK_EVENTS == tuple(e.value for e in WebhookEvent)
    assert set(INSTANCE_STATUSES) == {"running", "completed", "cancelled", "error"}
    assert set(DONE_EVENTS) <= set(Event)
    words = (ROOT / "api" / "pages" / "words.py").read_text("utf-8")  # the history's words, per event
    named = re.findall(r"Event\.([A-Z_]+):", words)
    assert named and set(named) <= {e.name for e in Event}
    readme = (ROOT / "README.md").read_text("utf-8")
    listed = re.search(
        r"Webhooks \(`POST /webhooks \{url, events, secret\}`, admins\) announce (.*?)\. Each", readme, re.S
    ).group(1)
    assert re.findall(r"`([a-z]+\.[a-z]+)`", listed) == [e.value for e in WebhookEvent]


def test_each_webhook_delivery_matches_an_audit_row_of_its_step(make_engine) -> None:
    engine = make_engine()
    engine.configure_integration(allow_private_webhooks=True)
    for user, groups in PEOPLE.items():
        engine.upsert_user(user, groups=groups)
    xml = (DATA / "approval.bpmn").read_text().replace("__AUTO__", "never").replace("__MODE__", "all")
    engine.deploy({"approval.bpmn": xml.encode()}, actor="admin")
    engine.create_webhook("http://127.0.0.1:9/hook", list(WEBHOOK_EVENTS), "s3cret-s3cret", actor="admin")
    inst = engine.start("approval_demo", actor="wang", data={"signers": ["s1", "s2"]})
    engine.complete(inst.open_tasks[0].id, "wang", {"title": "修缮村道"})
    review = next(t for t in engine.get_instance(inst.id).open_tasks if t.element_id == "review")
    engine.urge(review.id, "wang", "请尽快")
    engine.return_task(review.id, "a", comment="请补充预算")
    engine.cancel(inst.id, actor="wang", reason="不再需要")
    with engine.store.read() as s:
        announced = {d.event for d in s.scalars(select(Delivery))}
        audited = {e.event for e in s.scalars(select(AuditEvent).where(AuditEvent.instance_id == inst.id))}
    assert announced == {
        "task.created",
        "task.completed",
        "task.urged",
        "task.returned",
        "instance.cancelled",
    }
    assert {AUDITED_AS[WebhookEvent(e)].value for e in announced} <= audited
