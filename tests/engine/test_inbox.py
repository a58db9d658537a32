"""The inbox answers from the task index: scopes, totals, paging, and the queue following claims."""

from __future__ import annotations

from pathlib import Path

from engine import Engine

DATA = Path(__file__).resolve().parent.parent / "data" / "engine"


def test_pages_merge_my_tasks_and_my_groups_queue_newest_first(engine: Engine, clock) -> None:
    xml = (DATA / "approval.bpmn").read_text().replace("__AUTO__", "never").replace("__MODE__", "all")
    engine.deploy({"approval.bpmn": xml.encode()}, actor="admin")
    engine.upsert_user("wang")
    engine.upsert_user("a", groups=["reviewers", "office"])
    engine.upsert_user("b", groups=["reviewers"])
    reviews = []
    for n in range(7):
        clock.advance(minutes=1)
        inst = engine.start("approval_demo", actor="wang", data={"signers": ["a"]})
        engine.complete(inst.open_tasks[0].id, "wang", {"title": f"事项 {n}"})
        reviews.append(engine.get_instance(inst.id).open_tasks[0].id)
    clock.advance(minutes=1)
    mine = engine.start("approval_demo", actor="a", data={"signers": ["a"]}).open_tasks[0].id  # a's own draft

    page1 = engine.list_tasks("a", scope="involved", limit=3)
    page2 = engine.list_tasks("a", scope="involved", offset=3, limit=3)
    page3 = engine.list_tasks("a", scope="involved", offset=6, limit=3)
    assert (page1.total, page2.total, page3.total) == (8, 8, 8)
    seen = [t.id for t in page1.items + page2.items + page3.items]
    assert seen == [mine, *reversed(reviews)]  # newest first, each once although a is in two groups

    engine.claim(reviews[0], "b")
    assert engine.list_tasks("a", scope="candidate").total == 6
    assert reviews[0] not in [t.id for t in engine.list_tasks("a", scope="candidate").items]
    assert [t.id for t in engine.list_tasks("b", scope="mine").items] == [reviews[0]]
    engine.unclaim(reviews[0], "b")
    assert engine.list_tasks("a", scope="candidate").total == 7
    engine.transfer(reviews[1], "a", "b")
    assert engine.list_tasks("a", scope="candidate").total == 6
    assert engine.list_tasks("a", scope="candidate", process_key="approval_demo").total == 6  # the general query agrees

    past = engine.list_tasks("a", scope="involved", offset=50, limit=10)
    assert (past.items, past.total) == ([], 7)  # past the last page: nothing, but the count still answers
    assert engine.list_tasks("wang", scope="candidate").total == 0  # no groups, no queue


def test_the_open_inbox_is_one_statement(engine: Engine) -> None:
    """What people look at all day costs one round trip: page and total together."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine as SqlEngine

    engine.upsert_user("a", groups=["reviewers", "office", "taskforce"])
    statements: list[str] = []
    listener = lambda *args, **_: statements.append(args[2])  # noqa: E731 - before_cursor_execute(conn, cursor, statement, ...)
    event.listen(SqlEngine, "before_cursor_execute", listener)  # every pool the store keeps
    try:
        engine.list_tasks("a", scope="involved", groups=["reviewers", "office", "taskforce"])
    finally:
        event.remove(SqlEngine, "before_cursor_execute", listener)
    assert len([s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]) == 1, statements
