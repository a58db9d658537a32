"""ISO 8601 timer values a diagram may hold (timer events, ``dueIn`` and ``timeout`` properties).

SpiffWorkflow computes a duration month by month, so ``P99999999999M`` loops for hours and
``P99999999999999999999D`` overflows; both only showed when an instance reached the timer. Each
check here bounds the numbers first and only then asks Spiff, so deployment refuses such values
quickly and names the problem.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as _Timer

__all__ = ["MAX_DAYS", "cycle_problem", "date_problem", "duration_problem", "looks_iso", "timer_problem"]

MAX_DAYS = 36_600  # about a hundred years: no process waits longer
_DAYS_PER = {"years": 366, "months": 31, "weeks": 7, "days": 1, "hours": 1 / 24, "minutes": 1 / 1440, "seconds": 1 / 86400}
_ISO_START = re.compile(r"^[+-]?(P|R-?\d*/|\d{4}-)", re.I)


def looks_iso(text: str) -> bool:
    """Whether ``text`` is meant as an ISO 8601 value (a duration, a cycle or a date), even a broken one."""
    return _ISO_START.match(text.strip()) is not None


def duration_problem(text: str) -> str | None:
    """Why ``text`` is not a usable ISO 8601 duration (``P14D``, ``PT2H``), or None."""
    if not text.upper().startswith("P"):
        return "is not an ISO 8601 duration such as P14D or PT2H (it must start with P; negative durations are refused)"
    try:
        parsed = _Timer.parse_iso_duration(text)
    except Exception:  # Spiff raises a bare Exception
        parsed = None
    if not parsed:
        return "is not an ISO 8601 duration such as P14D or PT2H"
    if sum(_DAYS_PER[unit] * value for unit, value in parsed.items()) > MAX_DAYS:
        return f"is longer than {MAX_DAYS:,} days"
    return None


def date_problem(text: str) -> str | None:
    """Why ``text`` is not a usable ISO 8601 date-time (``2026-06-30T09:00:00+08:00``), or None."""
    try:
        value = _Timer.parse_time_or_duration(text)
    except Exception:  # ValueError, OverflowError or Spiff's bare Exception
        value = None
    if not isinstance(value, datetime):
        return "is not an ISO 8601 date-time such as 2026-06-30T09:00:00+08:00"
    return None


def cycle_problem(text: str) -> str | None:
    """Why ``text`` is not a usable ISO 8601 repeating interval (``R3/PT1H``), or None."""
    parts = text.upper().replace("--", "/").split("/")
    if not parts[0].startswith("R") or len(parts) not in (2, 3) or not re.fullmatch(r"-?\d*", parts[0][1:]):
        return "is not an ISO 8601 repeating interval such as R3/PT1H"
    for part in parts[1:]:
        reason = duration_problem(part) if part.startswith("P") else date_problem(part)
        if reason:
            return f"has {part!r}, which {reason}"
    try:
        _, _, every = _Timer.parse_iso_recurring_interval(text)
    except Exception:  # Spiff raises a bare Exception
        return "is not an ISO 8601 repeating interval such as R3/PT1H"
    if every <= timedelta(0):
        return "repeats with no interval between firings"
    return None


def timer_problem(kind: str, text: str) -> str | None:
    """The check for a timer event's ``timeDuration``, ``timeCycle`` or ``timeDate`` value."""
    check = {"timeDuration": duration_problem, "timeCycle": cycle_problem}.get(kind, date_problem)
    return check(text)
