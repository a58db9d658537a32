"""The inbox answers from the task index: scopes, totals, paging, and the queue following claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from tests.plans import AT, bulk_instances, plans_of
from tests.walk import Walk

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
    assert (
        engine.list_tasks("a", scope="candidate", process_key="approval_demo").total == 6
    )  # the general query agrees

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


def test_tasks_carry_their_instance_title_and_the_inbox_searches_it(engine: Engine, clock) -> None:
    xml = (DATA / "approval.bpmn").read_text().replace("__AUTO__", "never").replace("__MODE__", "all")
    engine.deploy({"approval.bpmn": xml.encode()}, actor="admin")
    engine.upsert_user("wang")
    engine.upsert_user("a", groups=["reviewers"])
    drafts = []
    for n, title in enumerate(("修路 100% 完成", "Bridge repair", "修桥")):
        clock.advance(minutes=1)
        inst = engine.start("approval_demo", actor="wang", business_key=f"B-{n}", data={"signers": ["a"]})
        drafts.append(inst.open_tasks[0].id)
        assert engine.list_tasks("wang", scope="mine").items[0].title is None  # no title yet
        engine.complete(inst.open_tasks[0].id, "wang", {"title": title})

    inbox = engine.list_tasks("a", scope="involved")
    assert [t.title for t in inbox.items] == [
        "修桥",
        "Bridge repair",
        "修路 100% 完成",
    ]  # the new review tasks have it
    done = engine.list_tasks("wang", scope="mine", status="completed")
    assert {t.id: t.title for t in done.items}[
        drafts[0]
    ] == "修路 100% 完成"  # the finished draft follows the change

    def found(q: str, username: str = "a", **kwargs) -> list[str | None]:
        page = engine.list_tasks(username, q=q, **kwargs)
        assert page.total == len(page.items)
        return [t.title for t in page.items]

    assert found("修") == ["修桥", "修路 100% 完成"]
    assert found("bridge") == ["Bridge repair"]  # case does not matter
    assert found("b-0") == ["修路 100% 完成"]  # the business key
    assert found("100%") == ["修路 100% 完成"] and found("1_0") == []  # % and _ are plain characters
    assert found("修", scope="candidate") == ["修桥", "修路 100% 完成"]
    assert found("修", "wang", scope="mine", status="completed") == ["修桥", "修路 100% 完成"]
    assert found("nothing like it") == []


def test_an_existing_database_fills_the_title_of_its_tasks(database_url: str, clock) -> None:
    """Tasks written before the index had titles take their instance's title when the schema upgrades."""
    from alembic import command
    from alembic.config import Config

    import engine as engine_package

    before = Engine(database_url, clock=clock)
    xml = (DATA / "approval.bpmn").read_text().replace("__AUTO__", "never").replace("__MODE__", "all")
    before.deploy({"approval.bpmn": xml.encode()}, actor="admin")
    before.upsert_user("wang")
    titled = before.start("approval_demo", actor="wang", data={"signers": ["wang"]})
    before.complete(titled.open_tasks[0].id, "wang", {"title": "修路"})
    untitled = before.start("approval_demo", actor="wang", data={"signers": ["wang"]})

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(Path(engine_package.__file__).resolve().parent.parent / "migrations")
    )
    with before.store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "b7c3e2a91d04")  # the index as it was, without titles
    before.store.dispose()

    upgraded = Engine(database_url, clock=clock)  # upgrades to the newest revision
    titles = {
        t.instance_id: t.title for t in upgraded.list_tasks("wang", scope="mine", status=None, limit=10).items
    }
    assert titles == {titled.id: "修路", untitled.id: None}
    upgraded.store.dispose()


def test_a_searched_inbox_is_one_statement_too(engine: Engine) -> None:
    """Titles come from the task index: a search, a status or a process filter is still one round trip."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine as SqlEngine

    engine.upsert_user("zhao", groups=["taskforce"])
    for _ in range(2):
        engine.start("claim_evaluate", actor="zhao")  # 申报问题 Submit problem, assigned to zhao
    statements: list[str] = []
    listener = lambda *args, **_: statements.append(args[2])  # noqa: E731 - before_cursor_execute(conn, cursor, statement, ...)
    event.listen(SqlEngine, "before_cursor_execute", listener)
    try:
        page = engine.list_tasks("zhao", scope="involved", q="申报", groups=["taskforce"])
        engine.list_tasks(
            "zhao", scope="mine", status="completed", process_key="claim_evaluate", groups=["taskforce"]
        )
    finally:
        event.remove(SqlEngine, "before_cursor_execute", listener)
    assert len([s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]) == 2, statements
    assert page.total == len(page.items) == 2
    past = engine.list_tasks("zhao", scope="involved", q="申报", offset=10)
    assert (past.items, past.total) == ([], 2)  # past the last page: nothing, but the count still answers


def test_a_count_alone_is_the_true_count(make_engine, clock) -> None:
    """The inbox's tab badges ask for ``limit=0``: the count, not "0 because no row came back"."""
    walk = Walk(make_engine, clock)
    walk.submit()
    for status, q in (("open", None), ("open", "康渝"), (None, None)):
        assert walk.engine.list_tasks("zhao", scope="candidate", status=status, q=q, limit=0).total == 1
    assert walk.engine.list_tasks("zhao", scope="mine", limit=0).total == 0


def _fill_queues(engine: Engine, n: int) -> None:
    """``n`` open tasks queued for 200 other groups, ten to an instance."""
    from datetime import timedelta

    from engine.tables import HumanTask, TaskCandidate

    tasks = [
        dict(
            id=f"t{k}",
            instance_id=f"i{k // 10}",
            process_key="p",
            element_id="e",
            name="办理",
            candidate_groups=[f"g{k % 200}"],
            status="open",
            created_at=AT + timedelta(minutes=k),
        )
        for k in range(n)
    ]
    queued = [
        dict(group=f"g{k % 200}", created_at=AT + timedelta(minutes=k), task_id=f"t{k}") for k in range(n)
    ]
    bulk_instances(
        engine, [dict(id=f"i{k}") for k in range(n // 10)], (HumanTask, tasks), (TaskCandidate, queued)
    )


@pytest.mark.parametrize("filtered", [False, True], ids=["default inbox", "filtered by process"])
def test_the_inbox_reads_its_queues_as_index_ranges(engine: Engine, filtered: bool) -> None:
    """The page and its total read only the person's own queues: no scan of every queued task
    (an ORed condition over groups and held posts read them all: 73 ms at a million open tasks,
    bench/inbox.py)."""
    groups = ["reviewers", "office", "taskforce"]
    engine.upsert_user("a", groups=groups)
    _fill_queues(engine, 5000)
    sqlite, plan = plans_of(
        engine,
        lambda: engine.list_tasks(
            "a", scope="involved", groups=groups, process_key="p" if filtered else None
        ),
    )
    if sqlite:
        assert not [line for line in plan if line.startswith("SCAN task_candidate")], plan
        return
    # every read of task_candidate is bounded by its index (an Index Cond right under it)
    reads = [i for i, line in enumerate(plan) if "Scan" in line and "task_candidate" in line]
    assert reads, plan
    unbounded = [plan[i] for i in reads if "Bitmap Heap" not in plan[i] and "Index Cond" not in plan[i + 1]]
    assert not unbounded, "\n".join(plan)
