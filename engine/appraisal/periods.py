"""The ledger's periods: a month ``YYYY-MM``, a quarter ``YYYY-Qn`` or a year ``YYYY``.

One checked value type instead of free text: ``Period.parse`` refuses anything else, and a
period knows the finer periods it contains (a year holds its quarters and months), so a query
for ``2026`` reads the rows of every month and quarter of 2026 too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ..errors import InvalidInputError

Kind = Literal["month", "quarter", "year"]
_GRAMMAR = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")
FORMAT_HINT = "format YYYY-MM, YYYY-Qn or YYYY / 格式应为 YYYY-MM、YYYY-Qn 或 YYYY"


@dataclass(frozen=True, order=True)
class Period:
    """A month, quarter or year; ``str(period)`` is its ledger spelling."""

    year: int
    kind: Kind
    number: int  # the month (1-12), the quarter (1-4), or 0 for the year

    @classmethod
    def parse(cls, text: str, field: str = "period") -> Period:
        """The period ``text`` spells; ``InvalidInputError`` (422, naming ``field``) otherwise."""
        found = _GRAMMAR.match(text or "")
        if found is None:
            raise InvalidInputError(f"{field} must be YYYY-MM, YYYY-Qn or YYYY", {field: [FORMAT_HINT]})
        year, month, quarter = found.groups()
        if month:
            return cls(int(year), "month", int(month))
        if quarter:
            return cls(int(year), "quarter", int(quarter))
        return cls(int(year), "year", 0)

    @classmethod
    def month_of(cls, moment: datetime) -> Period:
        return cls(moment.year, "month", moment.month)

    def __str__(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return f"{self.year}"

    def spellings(self) -> list[str]:
        """This period and every finer one inside it, as the ledger spells them."""
        if self.kind == "month":
            return [str(self)]
        months = range(1, 13) if self.kind == "year" else range(3 * self.number - 2, 3 * self.number + 1)
        quarters = range(1, 5) if self.kind == "year" else [self.number]
        return [
            str(self),
            *(str(Period(self.year, "quarter", q)) for q in quarters if self.kind == "year"),
            *(str(Period(self.year, "month", m)) for m in months),
        ]

    def previous(self) -> Period:
        """The period of the same kind just before this one (December before January)."""
        if self.kind == "year":
            return Period(self.year - 1, "year", 0)
        last = 12 if self.kind == "month" else 4
        if self.number == 1:
            return Period(self.year - 1, self.kind, last)
        return Period(self.year, self.kind, self.number - 1)


def parse_period(text: str | None, now: datetime, field: str = "period") -> Period:
    """``text`` as a period, or the month of ``now`` (local) when it is empty."""
    return Period.month_of(now) if not text else Period.parse(text, field)
