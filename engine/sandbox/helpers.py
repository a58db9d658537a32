"""The date helpers every diagram may call: ``now()`` (built by the environment), ``add_duration``, ``to_utc``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine import durations

HELPER_NAMES = frozenset({"now", "add_duration", "to_utc"})


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
