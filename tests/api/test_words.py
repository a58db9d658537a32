"""The pages name things in people's words: every kind of thing the engine can show has its word."""

from __future__ import annotations

from flask import Flask

from api.pages import words
from engine import Engine


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
