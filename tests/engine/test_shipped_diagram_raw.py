"""The shipped claim-and-evaluate diagram, proved branch by branch on RAW SpiffWorkflow 3.2.

No Jiebang engine is involved: the diagram is parsed with XSD validation on, run with a plain
``PythonScriptEngine`` whose environment carries reference implementations of the three helpers
the engine provides (``now``, ``add_duration``, ``to_utc``), and round-tripped through the
registry serializer after every step, the way the engine persists an instance.

Time is controlled: the module-level ``datetime`` of Spiff's timer module is patched with a
subclass whose ``now()`` reads the test clock, and the ``now()`` helper reads the same clock.
"""

from __future__ import annotations

import json
import re
from calendar import monthrange
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from bpmn import PATH as BPMN_DIR
from forms import PATH as FORMS_DIR

BPMN_FILE = BPMN_DIR / "claim_evaluate.bpmn"
DMN_FILE = BPMN_DIR / "claim_evaluate.dmn"
PROCESS_ID = "claim_evaluate"
MESSAGE = "claim_submitted"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
LANES = {
    "Submitter": "starter",
    "TaskForce": "group:taskforce",
    "Committee": "group:committee",
    "Claimant": "data:claimant_leader",
    "Evaluator": "group:evaluator",
}
USER_TASK_LANES = {
    "submit_problem": "Submitter",
    "revise_problem": "Submitter",
    "preliminary_review": "TaskForce",
    "committee_approval": "Committee",
    "select_claim": "Committee",
    "assign_claimant": "Committee",
    "progress_report": "Claimant",
    "deadline_escalation": "Committee",
    "completion_report": "Claimant",
    "acceptance": "Evaluator",
    "year_end_assessment": "Evaluator",  # in the year-end event subprocess
}

# --------------------------------------------------------------------------------------------
# Reference helpers. The engine ships its own in engine/sandbox/helpers.py with IDENTICAL semantics:
#
# now() -> str
#     The (injectable) clock as an ISO 8601 UTC string at seconds precision,
#     e.g. "2026-11-23T10:00:00+00:00".
# to_utc(iso: str) -> str
#     Any ISO 8601 date-time ("Z", "+08:00", or naive = already UTC) normalised to the same
#     form as now(): UTC, "+00:00", seconds precision (fractions are truncated). Because every
#     date-time in data has this one shape, ISO strings compare correctly as plain strings.
# add_duration(iso_datetime: str, iso_duration: str) -> str
#     iso_datetime (normalised as to_utc) plus an ISO 8601 duration PnYnMnDTnHnMnS or PnW;
#     years and months are calendar months (the day is clamped to the month's last day,
#     2026-01-31 + P1M = 2026-02-28), the rest is exact time. Result in to_utc form.
#     Anything else (negative, empty "P", mixed weeks and other units) raises ValueError.
# --------------------------------------------------------------------------------------------
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W|(?=\d|T\d)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?)$"
)


def _parse_utc(iso: str) -> datetime:
    value = datetime.fromisoformat(str(iso).strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def to_utc(iso: str) -> str:
    return _parse_utc(iso).isoformat()


def add_duration(iso_datetime: str, iso_duration: str) -> str:
    match = _DURATION.match(str(iso_duration).strip().upper())
    if match is None:
        raise ValueError(f"not an ISO 8601 duration: {iso_duration!r}")
    parts = {k: float(v) if k == "seconds" else int(v) for k, v in match.groupdict().items() if v}
    start = _parse_utc(iso_datetime)
    months = parts.get("years", 0) * 12 + parts.get("months", 0)
    if months:
        index = start.month - 1 + months
        year, month = start.year + index // 12, index % 12 + 1
        start = start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1]))
    delta = timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )
    return (start + delta).replace(microsecond=0).isoformat()


class Clock:
    """The test clock: timers (through the patched module datetime) and now() read it."""

    def __init__(self, start: datetime):
        self.current = start

    def advance(self, **delta) -> None:
        self.current = self.current + timedelta(**delta)

    def now_iso(self) -> str:
        return self.current.astimezone(UTC).replace(microsecond=0).isoformat()


T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.isoformat()


# --------------------------------------------------------------------------------------------
# Fixtures and driver
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def specs():
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_FILE))
    parser.add_dmn_file(str(DMN_FILE))
    return parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(T0)

    class ClockDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            current = clock.current
            return current.astimezone(tz) if tz is not None else current.replace(tzinfo=None)

    monkeypatch.setattr(timer_module, "datetime", ClockDatetime)
    return clock


def load_schema(filename: str) -> dict:
    return json.loads((FORMS_DIR / filename).read_text(encoding="utf-8"))


class Run:
    """One instance of the shipped process, persisted (JSON round trip) after every step."""

    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def __init__(self, specs, clock: Clock):
        spec, subprocess_specs = specs
        self.clock = clock
        self.engine = PythonScriptEngine(
            environment=TaskDataEnvironment(
                {"now": clock.now_iso, "add_duration": add_duration, "to_utc": to_utc}
            )
        )
        self.wf = BpmnWorkflow(spec, subprocess_specs, script_engine=self.engine)
        self.step()

    def step(self) -> None:
        self.wf.do_engine_steps()
        self.wf = self.serializer.deserialize_json(self.serializer.serialize_json(self.wf))
        self.wf.script_engine = self.engine

    # -- queries ------------------------------------------------------------------------------
    def ready(self) -> list[str]:
        return sorted(t.task_spec.bpmn_id for t in self.wf.get_tasks(state=TaskState.READY, manual=True))

    def task(self, bpmn_id: str):
        tasks = [
            t for t in self.wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == bpmn_id
        ]
        assert len(tasks) == 1, f"expected one READY {bpmn_id}, READY are {self.ready()}"
        return tasks[0]

    def waiting(self, bpmn_id: str):
        tasks = [t for t in self.wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == bpmn_id]
        return tasks

    def data(self, bpmn_id: str) -> dict:
        """Data as seen by the READY user task ``bpmn_id``."""
        return self.task(bpmn_id).data

    def completed(self, bpmn_id: str) -> list:
        return [t for t in self.wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == bpmn_id]

    def end_event(self) -> str:
        assert self.wf.is_completed(), f"not completed, READY are {self.ready()}"
        ends = [
            t.task_spec.bpmn_id
            for t in self.wf.get_tasks(state=TaskState.COMPLETED, skip_subprocesses=True)
            if t.task_spec.bpmn_id in ("end_rejected", "end_failed", "end_completed")
        ]
        assert len(ends) == 1, ends
        return ends[0]

    @property
    def final_data(self) -> dict:
        assert self.wf.is_completed()
        return self.wf.data

    # -- actions ------------------------------------------------------------------------------
    def complete(self, bpmn_id: str, **form) -> None:
        task = self.task(bpmn_id)
        assert task.task_spec.lane == USER_TASK_LANES[bpmn_id]
        schema = load_schema(task.task_spec.extensions["properties"]["formJsonSchemaFilename"])
        Draft202012Validator(schema, format_checker=FormatChecker()).validate(form)
        task.data.update(form)
        task.run()
        self.step()

    def send_claim(self, **payload) -> None:
        self.wf.send_event(BpmnEvent(MessageEventDefinition(MESSAGE), payload=payload))
        self.step()

    def advance(self, **delta) -> None:
        self.clock.advance(**delta)
        self.wf.refresh_timers()
        self.step()


# --------------------------------------------------------------------------------------------
# Reusable stretches of the process
# --------------------------------------------------------------------------------------------
PROBLEM = {
    "title": "破解老旧小区停车难",
    "category": "民生保障",
    "description": "老旧小区停车位不足，群众反映强烈。",
    "goals": "新增停车位 200 个。",
    "proposed_deadline": "2026-07-01T00:00:00+08:00",
    "proposed_points": 80,
    "support_needed": "规划、住建部门配合。",
}
DEADLINE = T0 + timedelta(days=180)

INDIVIDUAL = {
    "kind": "individual",
    "leader": "wangfang",
    "members": [{"username": "wangfang", "share": 100}],
    "plan": "分三步推进",
    "pledge": "保证按期完成",
    "filed_at": iso(T0 + timedelta(days=2)),
}
TEAM = {
    "kind": "team",
    "leader": "zhangjie",
    "members": [{"username": "zhangjie", "share": 60}, {"username": "li", "share": 40}],
    "plan": "组团攻坚，挖潜共享车位",
    "pledge": "立下军令状",
    "filed_at": iso(T0 + timedelta(days=3)),
}


def approve_problem(
    run: Run, points=100, deadline=DEADLINE, claim_window="P14D", report_interval="P30D"
) -> None:
    run.complete("submit_problem", **PROBLEM)
    run.complete("preliminary_review", decision="approve", comment="同意")
    run.complete(
        "committee_approval",
        decision="approve",
        points=points,
        deadline=iso(deadline),
        claim_window=claim_window,
        report_interval=report_interval,
        milestones=["摸底调查", "方案制定", "建成验收"],
        guarantees="县财政保障经费",
    )


def claimed_by(run: Run, claim: dict) -> None:
    """Publish, receive one claim, close the window, select it."""
    approve_problem(run)
    run.send_claim(**claim)
    run.advance(days=15)
    run.complete("select_claim", decision="approve", selected=0, comment="唯一揭榜方")
    assert run.ready() == ["progress_report"]


def report(run: Run, final=False, status="on_track", percent=50) -> None:
    run.complete(
        "progress_report",
        progress_percent=100 if final else percent,
        summary="按计划推进",
        issues="",
        status_self=status,
        final=final,
    )


def finish(run: Run) -> None:
    report(run, final=True)
    run.complete(
        "completion_report",
        summary="全部完成",
        results="新增车位 210 个",
        evidence_links=["https://example.org/p/1"],
    )
    assert run.ready() == ["acceptance"]


# --------------------------------------------------------------------------------------------
# Branch tests
# --------------------------------------------------------------------------------------------
def test_happy_path_two_claims_selection(specs, clock):
    run = Run(specs, clock)
    assert run.ready() == ["submit_problem"]
    approve_problem(run)

    # published: no human task, a claim window is open
    assert run.ready() == []
    [window] = run.waiting("await_claims")
    assert window.data["claim_deadline"] == iso(T0 + timedelta(days=14))
    assert window.data["phase"] == "published" and window.data["rag"] == "green"
    assert window.data["deadline"] == iso(DEADLINE)

    run.clock.advance(days=2)
    run.send_claim(**INDIVIDUAL)
    run.clock.advance(days=1)
    run.send_claim(**TEAM)
    assert run.ready() == []
    run.advance(days=10)  # day 13: window still open
    assert run.ready() == []
    run.advance(days=2)  # day 15: closed
    assert run.ready() == ["select_claim"]
    assert [c["leader"] for c in run.data("select_claim")["claims"]] == ["wangfang", "zhangjie"]

    run.complete("select_claim", decision="approve", selected=1, comment="团队方案更优")
    data = run.data("progress_report")
    assert data["claimant"] == TEAM
    assert data["claimant_leader"] == "zhangjie"
    assert data["phase"] == "in_progress"

    report(run, status="at_risk", percent=30)
    data = run.data("progress_report")
    assert data["rag"] == "yellow" and data["reports_count"] == 1
    assert data["last_report"]["progress_percent"] == 30
    report(run, status="blocked", percent=40)
    assert run.data("progress_report")["rag"] == "red"
    report(run, percent=60)
    assert run.data("progress_report")["rag"] == "green"
    report(run, final=True)
    assert run.ready() == ["completion_report"]
    assert run.data("completion_report")["reports_count"] == 4

    run.complete("completion_report", summary="全部完成", results="新增车位 210 个", evidence_links=[])
    data = run.data("acceptance")
    assert data["on_time"] is True and data["submitted_at"] == run.clock.now_iso()
    run.complete("acceptance", decision="pass", grade="good", comment="成效明显")

    assert run.end_event() == "end_completed"
    final = run.final_data
    assert final["outcome"] == "passed" and final["phase"] == "accepted"
    assert final["multiplier"] == 1.0 and final["total"] == 100.0
    assert final["ledger"] == [
        {"username": "zhangjie", "points": 60.0, "reason": PROBLEM["title"]},
        {"username": "li", "points": 40.0, "reason": PROBLEM["title"]},
    ]


def test_revise_loop(specs, clock):
    run = Run(specs, clock)
    run.complete("submit_problem", **PROBLEM)
    run.complete("preliminary_review", decision="return", comment="目标不够量化")
    assert run.ready() == ["revise_problem"]
    assert run.data("revise_problem")["comment"] == "目标不够量化"
    run.complete("revise_problem", **{**PROBLEM, "goals": "新增停车位 200 个，年底前完成"})
    run.complete("preliminary_review", decision="return", comment="再补充支持事项")
    run.complete("revise_problem", **{**PROBLEM, "support_needed": "财政资金 50 万"})
    assert run.ready() == ["preliminary_review"]
    run.complete("preliminary_review", decision="approve")
    assert run.ready() == ["committee_approval"]
    assert run.data("committee_approval")["support_needed"] == "财政资金 50 万"
    assert len(run.completed("revise_problem")) == 2


def test_reject_at_preliminary_review(specs, clock):
    run = Run(specs, clock)
    run.complete("submit_problem", **PROBLEM)
    run.complete("preliminary_review", decision="reject", comment="不属于揭榜范围")
    assert run.end_event() == "end_rejected"
    assert run.final_data["outcome"] == "rejected"
    assert run.completed("committee_approval") == []


def test_reject_at_committee(specs, clock):
    run = Run(specs, clock)
    run.complete("submit_problem", **PROBLEM)
    run.complete("preliminary_review", decision="approve")
    run.complete("committee_approval", decision="reject", comment="已列入常规工作")
    assert run.end_event() == "end_rejected"
    assert run.final_data["outcome"] == "rejected"
    assert run.completed("publish") == []


def test_no_claims_republish_then_assign(specs, clock):
    run = Run(specs, clock)
    approve_problem(run)
    run.advance(days=15)  # first window closes empty: republished automatically
    assert run.ready() == []
    [window] = run.waiting("await_claims")
    assert window.data["republished"] == 1
    assert window.data["claim_deadline"] == iso(T0 + timedelta(days=15 + 14))
    run.advance(days=13)
    assert run.ready() == []
    run.advance(days=2)  # second window closes empty: the organisation assigns
    assert run.ready() == ["assign_claimant"]
    run.complete("assign_claimant", leader="wangfang", members=[], comment="组织指派")
    data = run.data("progress_report")
    assert data["claimant"] == {
        "kind": "individual",
        "leader": "wangfang",
        "members": [{"username": "wangfang", "share": 100}],
        "assigned": True,
    }
    assert data["claimant_leader"] == "wangfang" and data["phase"] == "in_progress"


def test_assigned_team_keeps_members(specs, clock):
    run = Run(specs, clock)
    approve_problem(run)
    run.advance(days=15)
    run.advance(days=15)
    members = [{"username": "chen", "share": 70}, {"username": "zhao", "share": 30}]
    run.complete("assign_claimant", leader="chen", members=members)
    claimant = run.data("progress_report")["claimant"]
    assert claimant["kind"] == "team" and claimant["members"] == members


def test_claim_after_republish_goes_to_selection(specs, clock):
    run = Run(specs, clock)
    approve_problem(run)
    run.advance(days=15)
    run.send_claim(**INDIVIDUAL)
    run.advance(days=15)
    assert run.ready() == ["select_claim"]
    assert run.data("select_claim")["republished"] == 1


def test_overdue_report_flags_red_and_report_stays_ready(specs, clock):
    run = Run(specs, clock)
    claimed_by(run, TEAM)
    assert run.data("progress_report")["report_due_at"] == iso(T0 + timedelta(days=15 + 30))
    run.advance(days=29)
    assert run.completed("flag_overdue") == []
    run.advance(days=2)  # 31 days without a report (interval P30D)
    [flagged] = run.completed("flag_overdue")
    assert flagged.data["rag"] == "red" and flagged.data["overdue_reports"] == 1
    assert run.ready() == ["progress_report"]
    # The flag lives on the (non-interrupting) boundary branch only: Spiff keeps parallel
    # branches' data apart, so the pending report does not see it. The engine reads the
    # red flag from flag_overdue's completion (audit log / task data).
    assert run.data("progress_report")["rag"] == "green"
    # the overdue timer fires once per pending report
    run.advance(days=5)
    assert len(run.completed("flag_overdue")) == 1
    # the late report itself is counted on the main path by assess_progress
    report(run)
    data = run.data("progress_report")
    assert data["rag"] == "green" and data["overdue_reports"] == 1
    assert data["last_report"]["late"] is True
    assert data["report_due_at"] == add_duration(run.clock.now_iso(), "P30D")
    run.advance(days=31)  # the next report is overdue too: the timer restarted with the new report
    assert len(run.completed("flag_overdue")) == 2
    assert run.ready() == ["progress_report"]
    report(run, final=True)
    data = run.data("completion_report")
    assert data["overdue_reports"] == 2 and data["reports_count"] == 2


def test_reports_in_time_are_not_overdue(specs, clock):
    run = Run(specs, clock)
    claimed_by(run, INDIVIDUAL)
    for _ in range(3):
        run.advance(days=29)
        report(run)
    data = run.data("progress_report")
    assert data["overdue_reports"] == 0 and data["reports_count"] == 3
    assert run.completed("flag_overdue") == []


def test_interrupted_supervision_keeps_entry_data(specs, clock):
    """An interrupting boundary cancels the subprocess: what it wrote is not copied out.

    deadline_escalation sees the data as it was when supervision started; the report history
    is in the audit log (engine), not in instance data.
    """
    run = Run(specs, clock)
    claimed_by(run, INDIVIDUAL)
    report(run, status="blocked")
    assert run.data("progress_report")["reports_count"] == 1
    run.clock.current = DEADLINE + timedelta(hours=1)
    run.advance(seconds=0)
    data = run.data("deadline_escalation")
    assert data["reports_count"] == 0 and data["claimant_leader"] == "wangfang"


def test_deadline_passed_then_extend(specs, clock):
    run = Run(specs, clock)
    claimed_by(run, INDIVIDUAL)
    report(run)
    run.clock.current = DEADLINE + timedelta(hours=1)
    run.advance(seconds=0)
    assert run.ready() == ["deadline_escalation"]  # interrupting: the open report is withdrawn
    new_deadline = DEADLINE + timedelta(days=60)
    run.complete(
        "deadline_escalation", decision="extend", new_deadline="2026-09-01T17:00:00+08:00", comment="给予延期"
    )
    assert run.ready() == ["progress_report"]
    data = run.data("progress_report")
    assert data["deadline"] == "2026-09-01T09:00:00+00:00"
    assert data["rag"] == "yellow"
    assert new_deadline > DEADLINE
    finish(run)
    assert run.data("acceptance")["on_time"] is True
    run.complete("acceptance", decision="pass", grade="excellent")
    assert run.end_event() == "end_completed"
    assert run.final_data["multiplier"] == 1.2
    assert run.final_data["ledger"] == [{"username": "wangfang", "points": 120.0, "reason": PROBLEM["title"]}]


def test_deadline_passed_then_extension_can_pass_again(specs, clock):
    run = Run(specs, clock)
    claimed_by(run, INDIVIDUAL)
    run.clock.current = DEADLINE + timedelta(minutes=1)
    run.advance(seconds=0)
    run.complete("deadline_escalation", decision="extend", new_deadline=iso(DEADLINE + timedelta(days=30)))
    run.clock.current = DEADLINE + timedelta(days=30, minutes=1)
    run.advance(seconds=0)
    assert run.ready() == ["deadline_escalation"]


def test_deadline_passed_then_accept_late(specs, clock):
    run = Run(specs, clock)
    claimed_by(run, TEAM)
    run.clock.current = DEADLINE + timedelta(days=1)
    run.advance(seconds=0)
    run.complete("deadline_escalation", decision="accept_late", comment="基本完成，按逾期验收")
    assert run.ready() == ["completion_report"]
    run.complete("completion_report", summary="基本完成", results="新增车位 180 个")
    assert run.data("acceptance")["on_time"] is False
    run.complete("acceptance", decision="pass", grade="good")
    assert run.end_event() == "end_completed"
    final = run.final_data
    assert final["multiplier"] == 0.8 and final["total"] == 80.0
    assert [entry["points"] for entry in final["ledger"]] == [48.0, 32.0]


def test_deadline_passed_then_terminate(specs, clock):
    run = Run(specs, clock)
    claimed_by(run, TEAM)
    run.clock.current = DEADLINE + timedelta(days=1)
    run.advance(seconds=0)
    run.complete("deadline_escalation", decision="terminate", comment="无力完成，终止")
    assert run.end_event() == "end_failed"
    assert run.final_data["outcome"] == "failed"
    assert run.final_data["ledger"] == []


def test_rectify_then_pass(specs, clock):
    run = Run(specs, clock)
    claimed_by(run, TEAM)
    finish(run)
    new_deadline = run.clock.current + timedelta(days=30)
    run.complete("acceptance", decision="rectify", new_deadline=iso(new_deadline), comment="佐证材料不全")
    assert run.ready() == ["progress_report"]
    data = run.data("progress_report")
    assert data["phase"] == "rectifying" and data["rag"] == "yellow"
    assert data["deadline"] == iso(new_deadline)
    report(run, percent=90)
    finish(run)
    assert run.data("acceptance")["on_time"] is True
    run.complete("acceptance", decision="pass", grade="pass")
    assert run.end_event() == "end_completed"
    assert run.final_data["multiplier"] == 0.8
    assert run.final_data["ledger"] == [
        {"username": "zhangjie", "points": 48.0, "reason": PROBLEM["title"]},
        {"username": "li", "points": 32.0, "reason": PROBLEM["title"]},
    ]
    assert len(run.completed("acceptance")) == 2


def test_rectification_deadline_is_enforced(specs, clock):
    run = Run(specs, clock)
    claimed_by(run, INDIVIDUAL)
    finish(run)
    new_deadline = run.clock.current + timedelta(days=30)
    run.complete("acceptance", decision="rectify", new_deadline=iso(new_deadline), comment="整改")
    run.clock.current = new_deadline + timedelta(minutes=5)
    run.advance(seconds=0)
    assert run.ready() == ["deadline_escalation"]


def test_fail(specs, clock):
    run = Run(specs, clock)
    claimed_by(run, INDIVIDUAL)
    finish(run)
    run.complete("acceptance", decision="fail", comment="未达到目标")
    assert run.end_event() == "end_failed"
    final = run.final_data
    assert final["outcome"] == "failed" and final["ledger"] == []
    assert "multiplier" not in final


@pytest.mark.parametrize(
    ("grade", "late", "multiplier"),
    [
        ("excellent", False, 1.2),
        ("good", False, 1.0),
        ("pass", False, 0.8),
        ("excellent", True, 1.0),
        ("good", True, 0.8),
        ("pass", True, 0.6),
    ],
)
def test_scoring_figures(specs, clock, grade, late, multiplier):
    run = Run(specs, clock)
    claimed_by(run, TEAM)
    report(run, final=True)
    if late:  # the final report came in time, the completion report after the deadline
        run.clock.current = DEADLINE + timedelta(days=2)
    run.complete("completion_report", summary="完成", results="成果")
    assert run.data("acceptance")["on_time"] is (not late)
    run.complete("acceptance", decision="pass", grade=grade)
    final = run.final_data
    assert final["multiplier"] == multiplier
    total = round(100 * multiplier, 2)
    assert final["total"] == total
    assert final["ledger"] == [
        {"username": "zhangjie", "points": round(total * 0.6, 2), "reason": PROBLEM["title"]},
        {"username": "li", "points": round(total * 0.4, 2), "reason": PROBLEM["title"]},
    ]


def test_scoring_fractional_points(specs, clock):
    run = Run(specs, clock)
    approve_problem(run, points=7.5)
    run.send_claim(
        **{**TEAM, "members": [{"username": "zhangjie", "share": 33.3}, {"username": "li", "share": 66.7}]}
    )
    run.advance(days=15)
    run.complete("select_claim", selected=0)
    finish(run)
    run.complete("acceptance", decision="pass", grade="excellent")
    final = run.final_data
    assert final["total"] == 9.0
    assert [e["points"] for e in final["ledger"]] == [3.0, 6.0]


# --------------------------------------------------------------------------------------------
# Helpers (reference semantics)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        ("2026-01-05T09:00:00+00:00", "P14D", "2026-01-19T09:00:00+00:00"),
        ("2026-01-31T00:00:00+00:00", "P1M", "2026-02-28T00:00:00+00:00"),
        ("2024-02-29T12:00:00+00:00", "P1Y", "2025-02-28T12:00:00+00:00"),
        ("2026-01-05T09:00:00+08:00", "PT36H", "2026-01-06T13:00:00+00:00"),
        ("2026-01-05T09:00:00", "P2W", "2026-01-19T09:00:00+00:00"),
        ("2026-01-05T09:00:00Z", "P1Y2M3DT4H5M6S", "2027-03-08T13:05:06+00:00"),
    ],
)
def test_add_duration(start, duration, expected):
    assert add_duration(start, duration) == expected


@pytest.mark.parametrize("bad", ["P", "14D", "P1W2D", "PT", "-P1D", "P1.5D"])
def test_add_duration_rejects_malformed(bad):
    with pytest.raises(ValueError):
        add_duration("2026-01-05T09:00:00+00:00", bad)


def test_to_utc_normalises_for_lexical_comparison():
    assert to_utc("2026-09-01T17:00:00+08:00") == "2026-09-01T09:00:00+00:00"
    assert to_utc("2026-09-01T09:00:00.987654Z") == "2026-09-01T09:00:00+00:00"
    assert to_utc("2026-09-01T09:00:00") == "2026-09-01T09:00:00+00:00"
    assert to_utc("2026-09-01T08:59:59-00:30") > to_utc("2026-09-01T09:00:00+00:00")


# --------------------------------------------------------------------------------------------
# Forms
# --------------------------------------------------------------------------------------------
BAD_SUBMISSIONS = {
    "submit_problem": [
        {},
        {**PROBLEM, "category": "外星事务"},
        {**PROBLEM, "proposed_points": 500},
        {**PROBLEM, "x": 1},
    ],
    "revise_problem": [{**PROBLEM, "title": ""}, {**PROBLEM, "proposed_points": "80"}],
    "preliminary_review": [
        {},
        {"decision": "maybe"},
        {"decision": "return"},
        {"decision": "reject", "comment": ""},
    ],
    "committee_approval": [
        {"decision": "approve"},
        {
            "decision": "approve",
            "points": 100,
            "deadline": iso(DEADLINE),
            "claim_window": "14 days",
            "report_interval": "P30D",
        },
        {
            "decision": "approve",
            "points": 100,
            "deadline": iso(DEADLINE),
            "claim_window": "P14D",
            "report_interval": "P1W2D",
        },
        {"decision": "reject"},
    ],
    "select_claim": [{}, {"selected": -1}, {"selected": 1.5}, {"selected": 0, "decision": "reject"}],
    "assign_claimant": [
        {"leader": "wang"},
        {"leader": "", "members": []},
        {"leader": "wang", "members": [{"username": "wang", "share": 0}]},
    ],
    "progress_report": [
        {},
        {"progress_percent": 120, "summary": "x", "status_self": "on_track", "final": False},
        {"progress_percent": 50, "summary": "x", "status_self": "fine", "final": False},
        {"progress_percent": 50, "summary": "x", "status_self": "on_track", "final": "yes"},
    ],
    "deadline_escalation": [{}, {"decision": "extend"}, {"decision": "terminate"}, {"decision": "forgive"}],
    "completion_report": [{}, {"summary": "x", "results": "y", "evidence_links": "https://example.org"}],
    "acceptance": [
        {},
        {"decision": "pass"},
        {"decision": "pass", "grade": "A"},
        {"decision": "rectify", "comment": "x"},
        {"decision": "fail"},
        {"decision": "pass", "grade": "good", "recommend": [{"username": "liu", "kind": "提拔"}]},
    ],
    "year_end_assessment": [
        {},
        {"verdict": "破题"},
        {"verdict": "unsolved"},
        {"verdict": "carry_over", "comment": ""},
    ],
}
GOOD_SUBMISSIONS = {
    "year_end_assessment": {"verdict": "solved"},
    "submit_problem": PROBLEM,
    "revise_problem": PROBLEM,
    "preliminary_review": {"decision": "approve"},
    "committee_approval": {
        "decision": "approve",
        "points": 100,
        "deadline": iso(DEADLINE),
        "claim_window": "P14D",
        "report_interval": "PT12H",
        "milestones": ["a"],
        "guarantees": "g",
    },
    "select_claim": {"selected": 0, "decision": "approve"},
    "assign_claimant": {"leader": "wang", "members": [{"username": "wang", "share": 100}]},
    "progress_report": {"progress_percent": 50, "summary": "x", "status_self": "at_risk", "final": False},
    "deadline_escalation": {"decision": "extend", "new_deadline": iso(DEADLINE)},
    "completion_report": {"summary": "x", "results": "y"},
    "acceptance": {"decision": "pass", "grade": "excellent"},
}


def user_task_forms(specs) -> dict[str, str]:
    spec, subprocess_specs = specs
    found = {}
    subprocesses = [
        *subprocess_specs["supervision"].task_specs.values(),
        *subprocess_specs["year_end"].task_specs.values(),
    ]
    for task_spec in [*spec.task_specs.values(), *subprocesses]:
        if type(task_spec).__name__ == "UserTask":
            found[task_spec.bpmn_id] = task_spec.extensions["properties"]["formJsonSchemaFilename"]
    return found


def test_every_user_task_has_a_valid_form(specs):
    forms = user_task_forms(specs)
    assert set(forms) == set(USER_TASK_LANES)
    for bpmn_id, filename in forms.items():
        assert filename == f"{bpmn_id}.schema.json"
        assert (FORMS_DIR / filename).is_file(), filename
        schema = load_schema(filename)
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == filename
        assert re.search(r"[\u4e00-\u9fff]", schema["title"])
        for name, prop in schema["properties"].items():
            assert re.search(r"[\u4e00-\u9fff]", prop.get("title", "")), (filename, name)
        validator = Draft202012Validator(schema, format_checker=FormatChecker())
        assert list(validator.iter_errors(GOOD_SUBMISSIONS[bpmn_id])) == [], bpmn_id
        for bad in BAD_SUBMISSIONS[bpmn_id]:
            assert list(validator.iter_errors(bad)), (bpmn_id, bad)


def test_form_files_match_user_tasks(specs):
    shipped = {p.name for p in FORMS_DIR.glob("*.schema.json")}
    annual_list = {  # bpmn/annual_list.bpmn's (tests/engine/test_annual_list.py)
        "annual_list_start.schema.json",
        "unit_problems.schema.json",
        "panel_review.schema.json",
        "merge_list.schema.json",
    }
    frontline = {  # bpmn/frontline.bpmn's (tests/engine/test_frontline.py)
        "frontline_start.schema.json",
        *(
            f"frontline_{task}.schema.json"
            for task in (
                "screen_nominee",
                "assess_nominee",
                "dispatch",
                "onboard",
                "weekly_report",
                "monthly_bulletin",
                "quarterly_review",
                "rotate",
                "appraisal",
            )
        ),
    }
    sanhao = {  # bpmn/sanhao.bpmn's (tests/engine/test_sanhao.py)
        f"sanhao_{name}.schema.json"
        for name in (
            "start",
            "plan",
            "kpi",
            "study",
            "review",
            "interview",
            "self_report",
            "scoring",
            "awards",
            "objection",
            "nomination",
        )
    }
    villages = {  # bpmn/village_*.bpmn's (tests/engine/test_village_leaders.py)
        "village_appointment_confirm.schema.json",
        "village_meeting.schema.json",
        "village_problem_triage.schema.json",
        "village_problem_handle.schema.json",
        "village_problem_resolve.schema.json",
        "village_problem_confirm.schema.json",
    }
    assert (
        shipped
        == set(user_task_forms(specs).values())
        | {"start.schema.json"}
        | annual_list
        | frontline
        | sanhao
        | villages
    )  # the start event's prefill form


def test_review_forms_carry_decision(specs):
    for bpmn_id in ("preliminary_review", "committee_approval", "select_claim"):
        assert "approve" in load_schema(f"{bpmn_id}.schema.json")["properties"]["decision"]["enum"]
    assert set(load_schema("preliminary_review.schema.json")["properties"]["decision"]["enum"]) == {
        "approve",
        "return",
        "reject",
    }
    assert set(load_schema("committee_approval.schema.json")["properties"]["decision"]["enum"]) == {
        "approve",
        "reject",
    }


# --------------------------------------------------------------------------------------------
# Diagram structure: lanes, lane mapping, extensions, BPMNDI
# --------------------------------------------------------------------------------------------
FLOW_NODE_TAGS = {
    "startEvent",
    "endEvent",
    "userTask",
    "scriptTask",
    "businessRuleTask",
    "exclusiveGateway",
    "eventBasedGateway",
    "intermediateCatchEvent",
    "boundaryEvent",
    "subProcess",
}


@pytest.fixture(scope="module")
def tree():
    return ElementTree.parse(BPMN_FILE).getroot()


def flow_nodes(tree):
    process = tree.find("bpmn:process", NS)
    return [el for el in process.iter() if el.tag.split("}")[1] in FLOW_NODE_TAGS]


def test_every_flow_node_is_in_a_lane(tree):
    lanes = {
        lane.get("name"): {ref.text for ref in lane.findall("bpmn:flowNodeRef", NS)}
        for lane in tree.iterfind(".//bpmn:lane", NS)
    }
    assert list(lanes) == list(LANES)
    placed = [node_id for refs in lanes.values() for node_id in refs]
    assert len(placed) == len(set(placed)), "a node sits in two lanes"
    assert {el.get("id") for el in flow_nodes(tree)} == set(placed)


def test_lane_assignment_properties(tree):
    props = tree.findall(
        "bpmn:process/bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS
    )
    lanes = {p.get("name"): p.get("value") for p in props if p.get("name").startswith("lane:")}
    assert lanes == {f"lane:{k}": v for k, v in LANES.items()}


def test_every_name_is_chinese_with_its_english_beside_it(tree):
    """Pages show one language: ``name`` is the Chinese, the ``name_en`` property the English."""
    named = [
        el
        for el in tree.iter()
        if el.get("name") and el.get("id") and not el.tag.endswith(("lane", "message"))
    ]
    assert len(named) > 50
    for el in named:
        assert re.search(r"[\u4e00-\u9fff]", el.get("name")) and not re.search(r"[A-Za-z]", el.get("name")), (
            el.get("id")
        )
        english = el.findall(
            "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='name_en']", NS
        )
        assert len(english) == 1 and re.fullmatch(r"[A-Z][A-Za-z ?]+", english[0].get("value")), el.get("id")


def test_collaboration_and_message(tree):
    [participant] = tree.findall("bpmn:collaboration/bpmn:participant", NS)
    assert participant.get("processRef") == PROCESS_ID
    messages = {m.get("name") for m in tree.findall("bpmn:message", NS)}
    assert messages == {MESSAGE, "year_end_assessment"}  # the second starts the year-end event subprocess


def test_every_node_and_flow_has_di(tree):
    shapes = {s.get("bpmnElement"): s for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    for el in flow_nodes(tree):
        assert el.get("id") in shapes, el.get("id")
        assert shapes[el.get("id")].find("dc:Bounds", NS) is not None
    for lane in tree.iterfind(".//bpmn:lane", NS):
        assert shapes[lane.get("id")].get("isHorizontal") == "true"
    assert shapes["participant_claim_evaluate"].get("isHorizontal") == "true"
    assert shapes["supervision"].get("isExpanded") == "true"
    flows = list(tree.iterfind(".//bpmn:sequenceFlow", NS))
    assert len(flows) == len(edges)
    for flow in flows:
        assert len(edges[flow.get("id")].findall("di:waypoint", NS)) >= 2, flow.get("id")


def test_shapes_do_not_overlap(tree):
    def box(shape):
        b = shape.find("dc:Bounds", NS)
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))

    process = tree.find("bpmn:process", NS)
    containers = {"supervision", "year_end"}
    nested = {
        el.get("id") for sub in process.iterfind(".//bpmn:subProcess", NS) for el in sub.iter()
    } - containers
    boundaries = {el.get("id") for el in process.iterfind(".//bpmn:boundaryEvent", NS)}
    ids = {el.get("id") for el in flow_nodes(tree)}
    boxes = {
        s.get("bpmnElement"): box(s)
        for s in tree.iterfind(".//bpmndi:BPMNShape", NS)
        if s.get("bpmnElement") in ids - boundaries
    }
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if {a, b} & containers and ({a, b} & nested):
                continue
            ax, ay, aw, ah = boxes[a]
            bx, by, bw, bh = boxes[b]
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), (a, b)


def test_gateways_have_defaults(tree):
    for gateway in tree.iterfind(".//bpmn:exclusiveGateway", NS):
        outgoing = gateway.findall("bpmn:outgoing", NS)
        if len(outgoing) > 1:
            assert gateway.get("default") in {o.text for o in outgoing}, gateway.get("id")
