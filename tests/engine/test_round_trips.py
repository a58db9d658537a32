"""What the busiest operations cost in statements sent to the database.

Each statement is a round trip and, under load, a chance to wait for the interpreter lock;
these budgets keep a plain claim and a plain completion from growing new ones unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine as SqlEngine

from engine import Actor, ManualClock, NotAllowedError, asking
from tests.walk import Walk


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL sent meanwhile by any pool, transaction control left out.

    A batch the driver sends row by row (SQLite's inserts with RETURNING) counts once.
    """
    sent: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:
        text = " ".join(statement.split())
        if not text.upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")) and (
            not sent or sent[-1] != text
        ):
            sent.append(text)

    event.listen(SqlEngine, "before_cursor_execute", listener)
    try:
        yield sent
    finally:
        event.remove(SqlEngine, "before_cursor_execute", listener)


def test_claim_and_complete_a_review_within_their_statement_budgets(make_engine, clock: ManualClock) -> None:
    walk = Walk(make_engine, clock)
    walk.submit()
    review = walk.open_task("preliminary_review")

    asking(Actor("zhao", groups=["taskforce"], tenant=None))  # as the API does: the token said who zhao is
    try:
        with statements() as claim:
            walk.engine.claim(review.id, "zhao", groups=["taskforce"])
    finally:
        asking(None)
    # the task under lock, its new holder, its queue rows, the audit row
    assert len(claim) <= 4, claim

    with statements() as complete:
        walk.engine.complete(review.id, "zhao", {"decision": "approve", "comment": "符合条件"})
    # instance lock, task, signers, queue rows, audit, task rows, instance, new queue rows,
    # webhooks, notification channels, the open tasks of the answer; no timeout job to remove: the
    # step declares none
    assert len(complete) <= 12, complete
    assert not [s for s in complete if s.startswith("DELETE FROM job")], complete
    assert walk.open_task("committee_approval")


def test_a_busy_instance_is_not_read_back_from_its_saved_state(make_engine, clock: ManualClock) -> None:
    """The workflow a step leaves is kept in memory, tagged with the row version; starts included."""
    walk = Walk(make_engine, clock)
    engine = walk.engine
    loads: list[str] = []
    real_load = engine.runner.load
    engine.runner.load = lambda model, row: (
        loads.append(row.id) or real_load(model, row)
    )  # a spy: the real load still runs

    walk.submit()  # the start, then its first task at once
    assert loads == []

    other = make_engine()  # another process moves the instance on: what this one kept is stale now
    review = walk.open_task("preliminary_review").id
    other.claim(review, "zhao")
    other.complete(review, "zhao", {"decision": "approve", "comment": "符合条件"})
    walk.approve()
    assert loads == [walk.instance_id]  # read back once, because the row's version moved
    assert walk.data()["phase"] == "published"


def test_the_starter_and_a_reviewer_read_the_history_without_the_full_visibility_check(
    make_engine, clock: ManualClock
) -> None:
    """Who started an instance or worked a task of it is answered from the row and one indexed
    read; the full involvement condition (candidate groups, copies, scores, units overseen) is
    built only for everyone else, and they still see what they may and nothing more."""
    walk = Walk(make_engine, clock)
    walk.submit()
    review = walk.open_task("preliminary_review")
    walk.engine.claim(review.id, "zhao")
    walk.engine.complete(review.id, "zhao", {"decision": "approve", "comment": "符合条件"})
    instance = walk.instance_id
    assert instance is not None

    for who in ("wang", "zhao"):
        with statements() as read:
            events = walk.engine.history(instance, viewer=who)
        assert [e.event for e in events][:1] == ["instance.start"]
        assert not [s for s in read if "EXISTS" in s.upper()], (who, read)

    with statements() as read:  # a committee member: a candidate of the open committee task
        assert walk.engine.history(instance, viewer="sun") == events
    assert [s for s in read if "EXISTS" in s.upper()], read
    with pytest.raises(NotAllowedError):  # nobody in this instance
        walk.engine.history(instance, viewer="zhou")
