"""ISO 8601 instants and durations: the one reading of them in the engine.

Diagram properties (``dueIn``, ``timeout``), timer events, the sandbox helpers ``add_duration`` and
``to_utc``, and the forms' ``duration`` and ``date-time`` formats all parse here, so a value such as
``P1W2D`` is accepted or refused the same everywhere. A duration is ``PnW`` alone or
``PnYnMnDTnHnMnS`` (integers; seconds may have a fraction), at most ``MAX_DAYS`` long; an instant is
an ISO date or date-time, with an offset or ``Z`` (a naive one is UTC).

SpiffWorkflow computes a duration month by month, so ``P99999999999M`` loops for hours and
``P99999999999999999999D`` overflows; both only showed when an instance reached the timer. Each
check here bounds the numbers first and only then asks Spiff, so deployment refuses such values
quickly and names the problem.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as _Timer

__all__ = [
    "MAX_DAYS",
    "Duration",
    "add",
    "after",
    "cycle_problem",
    "date_problem",
    "duration_problem",
    "instant_problem",
    "looks_iso",
    "parse_duration",
    "parse_duration_or_none",
    "parse_instant",
    "timer_problem",
]

MAX_DAYS = 36_600  # about a hundred years: no process waits longer
_ISO_START = re.compile(r"^[+-]?(P|R-?\d*/|\d{4}-)", re.I)
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W|(?=\d|T\d)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?)$"
)
_DURATION_EXAMPLE = "expected e.g. P1M, P2W, PT36H"


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration, unit by unit: months and years are calendar units, the rest exact time."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: float = 0

    def approximate_days(self) -> float:
        """An upper bound of its length in days (a year as 366, a month as 31)."""
        return (
            self.years * 366
            + self.months * 31
            + self.weeks * 7
            + self.days
            + self.hours / 24
            + self.minutes / 1440
            + self.seconds / 86400
        )


def parse_duration(text: str) -> Duration:
    """``P14D`` -> ``Duration(days=14)``; ValueError saying why for anything else (``P1W2D``, ``-P1D``, ``P``)."""
    match = _DURATION.match(str(text).strip().upper())
    if match is None:
        raise ValueError(f"not an ISO 8601 duration: {text!r} ({_DURATION_EXAMPLE})")
    units = match.groupdict()
    seconds = units.pop("seconds")
    duration = Duration(
        **{k: int(v) for k, v in units.items() if v}, seconds=float(seconds) if seconds else 0
    )
    if duration.approximate_days() > MAX_DAYS:
        raise ValueError(
            f"not an ISO 8601 duration this engine runs: {text!r} is longer than {MAX_DAYS:,} days"
        )
    return duration


def add(start: datetime, duration: Duration | str) -> datetime:
    """``start`` plus ``duration``: months clamp to the month's end (Jan 31 + P1M = Feb 28), the rest is exact."""
    if isinstance(duration, str):
        duration = parse_duration(duration)
    try:
        months = duration.years * 12 + duration.months
        if months:
            index = start.month - 1 + months
            year, month = start.year + index // 12, index % 12 + 1
            start = start.replace(
                year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1])
            )
        return start + timedelta(
            weeks=duration.weeks,
            days=duration.days,
            hours=duration.hours,
            minutes=duration.minutes,
            seconds=duration.seconds,
        )
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{start.isoformat()} plus {duration} is out of range: {exc}") from None


def after(text: str, start: datetime) -> datetime:
    """When something due ``text`` (an ISO duration) after ``start`` falls due."""
    return add(start, parse_duration(text))


def parse_instant(value: str | datetime) -> datetime:
    """An ISO 8601 date or date-time ('Z', an offset, or naive = UTC) as an aware datetime; ValueError otherwise."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
    else:
        raise ValueError(f"expected an ISO 8601 date-time string, got {type(value).__name__}")
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def instant_problem(text: str, *, with_time: bool = True) -> str | None:
    """Why ``text`` is not an ISO 8601 instant (with a time of day unless ``with_time`` is False), or None."""
    try:
        parse_instant(text)
    except ValueError as exc:
        return str(exc)
    if with_time and "T" not in text.upper() and " " not in text.strip():
        return f"not an ISO 8601 date-time: {text!r} has no time of day"
    return None


def looks_iso(text: str) -> bool:
    """Whether ``text`` is meant as an ISO 8601 value (a duration, a cycle or a date), even a broken one."""
    return _ISO_START.match(text.strip()) is not None


def duration_problem(text: str) -> str | None:
    """Why ``text`` is not a usable ISO 8601 duration (``P14D``, ``PT2H``), or None; ``parse_duration``'s rule."""
    value = text.strip()
    if not value.upper().startswith("P"):
        return "is not an ISO 8601 duration such as P14D or PT2H (it must start with P; negative durations are refused)"
    if _DURATION.match(value.upper()) is None:
        return "is not an ISO 8601 duration such as P14D, P2W or PT2H (weeks stand alone; only seconds take a fraction)"
    if parse_duration_or_none(value) is None:
        return f"is longer than {MAX_DAYS:,} days"
    return None


def parse_duration_or_none(text: str) -> Duration | None:
    """The duration ``text`` holds, or None when ``parse_duration`` refuses it."""
    try:
        return parse_duration(text)
    except ValueError:
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


# ---------------------------------------------------------------- SpiffWorkflow's timers read the same way
# Spiff parses timer values with its own rules: P1M from 31 January was 3 March (a due date or
# add_duration said 28 February) and a naive timeDate was the server's local time (UTC everywhere
# else). Its timer definitions call these three static methods; they answer with this module's.


def _spiff_parse_duration(expression: str) -> dict[str, Any]:
    return asdict(parse_duration(expression))


def _spiff_timedelta_from_start(parsed_duration: dict[str, Any], start: datetime | None = None) -> timedelta:
    start = start or _spiff_timer.datetime.now(UTC)  # the clock the engine runs on (engine.runtime.clock)
    return add(start, Duration(**parsed_duration)) - start


def _spiff_datetime(expression: str) -> datetime:
    return parse_instant(expression).astimezone(UTC)


_Timer.parse_iso_duration = staticmethod(_spiff_parse_duration)
_Timer.get_timedelta_from_start = staticmethod(_spiff_timedelta_from_start)
_Timer.get_datetime = staticmethod(_spiff_datetime)
