"""三好创争 (好班子, 好班长, 好班副): the engine's part of the shipped process ``sanhao``.

``process`` reacts to the diagram (start checks, the town's subjects, forms, the year's ranking,
the 躺平奖 path), ``scoring`` is the year-end computation as pure functions, ``service`` checks
objections and nominations; ``SanhaoMixin`` gives ``Engine`` its methods, one step each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from .. import rules
from ..records import InstanceRecord
from ..runtime.step import Steps
from ..tables import Instance
from . import process, scoring, service

__all__ = ["SanhaoMixin", "SanhaoPublicity", "scoring"]


@dataclass(frozen=True)
class SanhaoPublicity:
    """A town's proposed awards while they are public (公示): anyone of the county sees them and
    may object until ``objections_until``; ``people`` are the town's cadres (username → name)."""

    instance_id: str
    year: int
    unit: str
    unit_name: str
    leader: str  # the 班长's name
    phase: str
    current_month: str | None  # during the monthly supervision
    awards: list[dict[str, Any]]
    objections_until: str | None
    in_publicity: bool
    people: dict[str, str]


class SanhaoMixin:
    """The façade's 三好创争 methods (``Engine`` inherits them)."""

    steps: Steps

    def _install_sanhao(self) -> None:
        process.install(self.steps)

    def sanhao_towns(self, year: int, viewer: str) -> list[SanhaoPublicity]:
        """The running and finished towns of ``year`` in the viewer's county, with their awards
        once public: the publicity board (公示) everyone of the county reads, whoever they are."""
        with self.steps.read(viewer) as step:
            s = step.session
            stmt = select(Instance).where(
                Instance.process_key == process.PROCESS, Instance.status != "cancelled"
            )
            where = rules.tenant_filter(rules.actor_of(s, viewer), Instance.tenant)
            if where is not None:
                stmt = stmt.where(where)
            out = []
            for row in s.scalars(stmt.order_by(Instance.created_at)):
                data = row.data or {}
                if data.get("year") != year:
                    continue
                public = data.get("phase") in process.DECIDED_PHASES
                out.append(
                    SanhaoPublicity(
                        row.id,
                        year,
                        str(data.get("unit")),
                        str((data.get("subject") or {}).get("unit_name") or data.get("unit")),
                        str(((data.get("subject") or {}).get("leader") or {}).get("name") or ""),
                        str(data.get("phase") or ""),
                        data.get("current_month"),
                        list(data.get("awards") or []) if public else [],
                        data.get("objections_until"),
                        data.get("phase") == "publicity",
                        process.town_people(s, str(data.get("unit"))),
                    )
                )
            return out

    def file_sanhao_objection(self, instance_id: str, actor: str, body: dict[str, Any]) -> InstanceRecord:
        """File an objection to a town's proposed awards while they are in publicity (公示):
        ``{against: subject, reason}``; refused once the window has closed."""
        with self.steps.write(actor) as step:
            return service.file_objection(step, instance_id, body)

    def nominate_lying_flat(self, instance_id: str, actor: str, body: dict[str, Any]) -> InstanceRecord:
        """Nominate a cadre of the town for the 躺平奖, any time in the year: ``{nominee, reason}``;
        the town's committee reviews it."""
        with self.steps.write(actor) as step:
            return service.nominate(step, instance_id, body)
