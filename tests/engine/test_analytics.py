"""Where work waits: over a period, per element, how many passed, the median and 95th-percentile
wait from arrival to completion, how many wait now and how many are overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine, InvalidInputError, ManualClock, NotAllowedError, NotFoundError

REVIEW = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="review" name="Review" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:userTask id="check" name="\xe5\xae\xa1\xe6\x9f\xa5"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="dueIn" value="P2D" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def reviews(engine: Engine, clock: ManualClock) -> Engine:
    """Five reviews arrive at once; four are done after 1, 2, 3 and 4 hours, one waits on."""
    engine.upsert_user("admin", roles=["admin"])
    engine.upsert_user("wang")
    engine.deploy({"review.bpmn": REVIEW}, actor="admin")
    started = [engine.start("review", actor="wang").id for _ in range(5)]
    for iid in started[:4]:
        clock.advance(timedelta(hours=1))
        engine.complete(engine.get_instance(iid).open_tasks[0].id, "wang", {})
    return engine


def test_passed_waits_open_and_overdue(reviews: Engine, clock: ManualClock) -> None:
    clock.advance(timedelta(days=3))  # the fifth is past its two days

    [check] = reviews.analytics("review", viewer="admin").items

    assert (check.element_id, check.name, check.passed) == ("check", "审查", 4)
    assert (check.wait_p50_s, check.wait_p95_s) == (7200.0, 14400.0)  # nearest rank
    assert (check.open, check.overdue) == (1, 1)


def test_the_period_counts_what_was_completed_in_it(reviews: Engine, clock: ManualClock) -> None:
    now = clock.now()
    later = reviews.analytics(
        "review", since=now + timedelta(minutes=1), until=now + timedelta(days=1), viewer="admin"
    )
    [check] = later.items
    assert (check.passed, check.wait_p50_s, check.open, check.overdue) == (0, None, 1, 0)
    early = reviews.analytics("review", since=now - timedelta(hours=3, minutes=30), until=now, viewer="admin")
    assert (
        early.items[0].passed == 3
    )  # those done at 2, 3 (and not 4: `until` is excluded) hours… and 1 is before


def test_refusals(reviews: Engine, clock: ManualClock) -> None:
    with pytest.raises(NotAllowedError):
        reviews.analytics("review", viewer="wang")
    with pytest.raises(NotFoundError):
        reviews.analytics("nowhere", viewer="admin")
    with pytest.raises(InvalidInputError):
        reviews.analytics("review", since=clock.now(), until=clock.now(), viewer="admin")


def test_a_year_reads_each_finished_day_once_from_its_histogram(engine: Engine, clock: ManualClock) -> None:
    """Over 60 days a review is done each day after 1 to 60 hours; a year's view counts every one,
    its percentiles within 5 % of the exact ones, and asking again counts no day twice."""
    from sqlalchemy import func, select

    from engine.tables import WaitDay, WaitDayDone

    engine.upsert_user("admin", roles=["admin"])
    engine.upsert_user("wang")
    engine.deploy({"review.bpmn": REVIEW}, actor="admin")
    begin = clock.now()
    for hours in range(1, 61):
        iid = engine.start("review", actor="wang").id
        clock.advance(timedelta(hours=hours))
        engine.complete(engine.get_instance(iid).open_tasks[0].id, "wang", {})
        clock.advance(timedelta(hours=24 - hours % 24))
    late = engine.start("review", actor="wang").id  # waits on, past its two days at the end
    clock.advance(timedelta(days=5))

    year = engine.analytics("review", since=clock.now() - timedelta(days=365), viewer="admin")
    again = engine.analytics("review", since=clock.now() - timedelta(days=365), viewer="admin")

    [check] = year.items
    assert (check.passed, check.open, check.overdue) == (60, 1, 1)
    assert check.wait_p50_s == pytest.approx(30 * 3600, rel=0.05)  # the exact nearest ranks: 30 h, 57 h
    assert check.wait_p95_s == pytest.approx(57 * 3600, rel=0.05)
    assert again.items == year.items
    with engine.store.read() as s:
        days = s.scalar(select(func.count()).select_from(WaitDayDone))
        assert s.scalar(select(func.sum(WaitDay.passed))) == 60  # each completion in one day's row
    assert days == (clock.now().date() - (clock.now() - timedelta(days=365)).date()).days - 1
    exact = engine.analytics("review", since=begin, until=begin + timedelta(days=30), viewer="admin")
    assert exact.items[0].passed == sum(1 for h in range(1, 61) if _done_within(begin, h, 30))
    assert late


def _done_within(begin, hours: int, days: int) -> bool:
    """Whether the review of ``hours`` (the n-th, started on day n-1 of the loop) ended inside the first ``days``."""
    started = begin
    for h in range(1, hours):
        started += timedelta(hours=h) + timedelta(hours=24 - h % 24)
    return started + timedelta(hours=hours) < begin + timedelta(days=days)
