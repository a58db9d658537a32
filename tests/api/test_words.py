"""The pages name things in people's words: every kind of thing the engine can show has its word."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from api.pages import words
from engine import Engine

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_every_kind_of_job_an_instance_can_wait_on_has_a_name_in_both_languages(
    app: Flask, engine: Engine
) -> None:
    kinds = set(engine.job_handlers)
    assert {"timer", "webhook", "notification", "notification_due"} <= kinds
    for lang, check in (("zh_CN", lambda w: w and w.isascii() is False), ("en", lambda w: w and w.isascii())):
        with app.test_request_context(f"/?lang={lang}"):
            named = {kind: str(word) for kind, word in words.job_kinds().items()}
        assert kinds <= set(named), f"job kinds without a name: {sorted(kinds - set(named))}"
        assert all(check(named[k]) for k in kinds), (lang, named)


def test_every_phase_the_shipped_diagrams_set_has_a_name(app: Flask) -> None:
    """The instance list shows ``data.phase`` beside the status: a phase a diagram's script sets
    must read as words there, not as its code (``on_post``, ``triage``)."""
    shipped = "".join(p.read_text(encoding="utf-8") for p in BPMN.glob("*.bpmn"))
    set_by_diagrams = set(re.findall(r"\bphase = ['\"](\w+)['\"]", shipped))
    assert {"in_progress", "on_post", "triage"} <= set_by_diagrams
    with app.test_request_context("/?lang=en"):
        named = {phase: str(word) for phase, word in words.phases().items()}
    assert set_by_diagrams - set(named) == set()
    assert all(named[p].isascii() and "_" not in named[p] for p in set_by_diagrams), named
