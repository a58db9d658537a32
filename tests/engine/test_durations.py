"""One reading of ISO 8601 durations and instants: every entry point accepts and refuses the same values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import durations
from engine.definitions import forms, policy
from engine.definitions.modelcheck import normalise
from engine.errors import FormInvalidError
from engine.sandbox.helpers import add_duration, to_utc

# value, accepted everywhere (True) or refused everywhere (False)
DURATIONS = [
    ("P14D", True),
    ("P2W", True),
    ("PT36H", True),
    ("P1Y2M3DT4H5M6S", True),
    ("PT0.5S", True),
    ("P0D", True),
    ("p1d", True),
    (" P1M ", True),
    ("P36600D", True),
    ("P1W2D", False),
    ("P1.5D", False),
    ("P", False),
    ("PT", False),
    ("P1DT", False),
    ("-P1D", False),
    ("14D", False),
    ("soon", False),
    ("", False),
    ("P99999999999M", False),
    ("P36601D", False),
    ("R3/PT1H", False),
]

FORM = {"type": "object", "properties": {"window": {"type": "string", "format": "duration"}}}

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://jiebang.example/test">"""


def timer_diagram(value: str) -> bytes:
    return f"""{HEAD}<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>"{value}"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/><bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e"/>
</bpmn:process></bpmn:definitions>""".encode()


def due_in_diagram(value: str) -> bytes:
    return f"""{HEAD}<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>
<bpmn:userTask id="review"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="dueIn" value="{value}"/>
</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/><bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e"/>
</bpmn:process></bpmn:definitions>""".encode()


def _accepts(check) -> bool:
    try:
        check()
    except (ValueError, FormInvalidError):
        return False
    return True


def verdicts(value: str) -> dict[str, bool]:
    """Whether each place that reads a duration accepts ``value``."""
    return {
        "durations.parse_duration": _accepts(lambda: durations.parse_duration(value)),
        "sandbox add_duration": _accepts(lambda: add_duration("2026-01-05T09:00:00+08:00", value)),
        "form format duration": _accepts(lambda: forms.validate(FORM, {"window": value})),
        "task property dueIn": not policy.property_problems({"dueIn": value}),
        "diagram dueIn at deploy": not normalise(due_in_diagram(value), name="d.bpmn")[1],
        "timer event at deploy": not normalise(timer_diagram(value), name="t.bpmn")[1],
    }


@pytest.mark.parametrize(("value", "accepted"), DURATIONS, ids=[repr(v) for v, _ in DURATIONS])
def test_every_entry_point_accepts_or_refuses_a_duration_alike(value: str, accepted: bool) -> None:
    assert verdicts(value) == dict.fromkeys(verdicts(value), accepted)


def test_a_due_date_and_the_sandbox_add_a_duration_the_same_way() -> None:
    start = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    for value in ("P1M", "P2W", "PT36H", "P1Y1M1DT1H1M1S"):
        assert durations.after(value, start).isoformat() == add_duration(start.isoformat(), value)
    assert durations.after("P1M", start) == datetime(
        2026, 2, 28, 9, 0, tzinfo=UTC
    )  # the month's end, not March 3rd


INSTANTS = [
    ("2026-01-05T09:00:00Z", True),
    ("2026-01-05T09:00:00+08:00", True),
    ("2026-01-05T09:00:00", True),
    ("2026-01-05T09:00:00.5-00:30", True),
    ("2026-13-45T00:00:00", False),
    ("next tuesday", False),
    ("", False),
]
DATETIME_FORM = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}}


@pytest.mark.parametrize(("value", "accepted"), INSTANTS, ids=[repr(v) for v, _ in INSTANTS])
def test_every_entry_point_accepts_or_refuses_an_instant_alike(value: str, accepted: bool) -> None:
    seen = {
        "durations.parse_instant": _accepts(lambda: durations.parse_instant(value)),
        "sandbox to_utc": _accepts(lambda: to_utc(value)),
        "form format date-time": _accepts(lambda: forms.validate(DATETIME_FORM, {"at": value})),
    }
    assert seen == dict.fromkeys(seen, accepted)


def test_the_committee_form_refuses_a_claim_window_the_process_could_not_add() -> None:
    schema = json.loads(
        (Path(__file__).parent.parent.parent / "forms" / "committee_approval.schema.json").read_text("utf-8")
    )
    with pytest.raises(FormInvalidError) as refused:
        forms.validate(schema, {"claim_window": "P99999999999M", "report_interval": "P30D"})
    assert "claim_window" in refused.value.errors and "report_interval" not in refused.value.errors


def timer_process(kind: str, value: str) -> bytes:
    return f"""{HEAD}<bpmn:process id="waits" isExecutable="true"><bpmn:startEvent id="s"/>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:{kind}>"{value}"</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/><bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e"/>
</bpmn:process></bpmn:definitions>""".encode()


@pytest.mark.parametrize(
    ("kind", "value", "due"),
    [
        ("timeDuration", "P1M", "2026-02-28T09:00:00+00:00"),  # Spiff alone said 3 March
        ("timeDuration", "P1Y1M1DT1H", "2027-03-01T10:00:00+00:00"),
        ("timeDate", "2026-06-30T09:00:00", "2026-06-30T09:00:00+00:00"),  # naive is UTC, as everywhere else
        ("timeDate", "2026-06-30T17:00:00+08:00", "2026-06-30T09:00:00+00:00"),
    ],
)
def test_a_timer_falls_due_when_add_duration_and_to_utc_say(
    make_engine, clock, kind: str, value: str, due: str
) -> None:
    clock.set(datetime(2026, 1, 31, 9, 0, tzinfo=UTC))
    engine = make_engine()
    engine.deploy({"waits.bpmn": timer_process(kind, value)}, actor="admin")
    inst = engine.start("waits", actor="admin")
    [job] = engine.list_jobs(instance_id=inst.id).items
    assert job.due_at.astimezone(UTC).isoformat() == due
    expected = add_duration(clock.now().isoformat(), value) if kind == "timeDuration" else to_utc(value)
    assert expected == due
