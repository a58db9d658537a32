"""The date helpers every diagram may call: ``now()`` (built by the environment), ``add_duration``,
``add_working_days``, ``to_utc``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine import durations

HELPER_NAMES = frozenset({"now", "add_duration", "add_working_days", "to_utc"})
MAX_WORKING_DAYS = 3660  # ten years: a window longer than that is a mistake in the diagram


def parse_utc(value: Any) -> datetime:
    return durations.parse_instant(value).astimezone(UTC).replace(microsecond=0)


def to_utc(iso: str) -> str:
    """Normalise an ISO date-time ('Z', an offset, or naive = UTC) to ``YYYY-MM-DDTHH:MM:SS+00:00``.

    One shape for every date-time in task data means ISO strings compare correctly as strings.
    Raises ValueError for anything that is not an ISO 8601 date-time.
    """
    return parse_utc(iso).isoformat()


def add_duration(iso_datetime: str, iso_duration: str) -> str:
    """``iso_datetime`` plus an ISO 8601 duration (PnYnMnDTnHnMnS or PnW), in to_utc form.

    Years and months are calendar arithmetic with the day clamped to the month's end
    (2026-01-31 + P1M = 2026-02-28); the rest is exact time, as XML Schema defines it.
    Negative durations, an empty "P" and weeks mixed with other units raise ValueError
    (``engine.durations`` reads the value, as it does for diagrams and forms).
    """
    duration = durations.parse_duration(str(iso_duration))
    try:
        result = durations.add(parse_utc(iso_datetime), duration)
    except ValueError as exc:
        raise ValueError(f"add_duration({iso_datetime!r}, {iso_duration!r}) is out of range: {exc}") from None
    return result.replace(microsecond=0).isoformat()


def add_working_days(iso_datetime: str, days: int) -> str:
    """``iso_datetime`` plus ``days`` working days (Monday to Friday, at the same time of day), in
    to_utc form: a publicity window of 5 working days opened on a Friday closes the next Friday.

    Weekdays are counted in China Standard Time (UTC+8), where the organisations that use these
    windows work. Public holidays are not known here; a diagram that needs them adds days itself.
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_WORKING_DAYS:
        raise ValueError(f"add_working_days needs 0 to {MAX_WORKING_DAYS} days, not {days!r}")
    local = parse_utc(iso_datetime) + _CHINA
    while days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    return (local - _CHINA).isoformat()


_CHINA = timedelta(hours=8)
