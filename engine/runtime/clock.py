"""Time for the engine: an injectable clock, and the hook that makes Spiff's timers read it.

SpiffWorkflow's timer event definitions call ``datetime.now(timezone.utc)`` directly. The engine
swaps that module's ``datetime`` for a subclass whose ``now()`` reads the clock of the engine that
is running the current step (a context variable), so tests move time without sleeping and two
engines with different clocks never see each other's time.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

from ..durations import (
    parse_instant as parse_instant,  # instants are read in one place; kept here for callers
)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; for tests and benchmarks."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        with self._lock:
            self._now += delta if delta is not None else timedelta(**kwargs)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


_current: contextvars.ContextVar[Callable[[], datetime] | None] = contextvars.ContextVar(
    "jiebang_clock", default=None
)


class _ClockedDatetime(datetime):
    """``datetime`` whose ``now()`` answers from the running engine's clock when there is one."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]  # mirrors datetime.now; Spiff needs any datetime, not this shim
        read = _current.get()
        if read is None:
            return datetime.now(tz)
        value = read()
        return value.astimezone(tz) if tz is not None else value.replace(tzinfo=None)


_spiff_timer.datetime = _ClockedDatetime


@contextlib.contextmanager
def running_on(clock: Clock) -> Iterator[None]:
    """Make Spiff's timers read ``clock`` for the duration of one engine step."""
    token = _current.set(clock.now)
    try:
        yield
    finally:
        _current.reset(token)


def iso(dt: datetime) -> str:
    """The engine's one textual form of an instant: UTC, seconds, explicit offset."""
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()
