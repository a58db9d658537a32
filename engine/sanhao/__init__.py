"""三好创争 (好班子, 好班长, 好班副): the engine's part of the shipped process ``sanhao``.

``process`` reacts to the diagram (start checks, the town's subjects, forms, the year's ranking,
the 躺平奖 path), ``scoring`` is the year-end computation as pure functions, ``service`` checks
objections and nominations; ``SanhaoMixin`` gives ``Engine`` its methods, one step each.
"""

from __future__ import annotations

from typing import Any

from ..records import InstanceRecord
from ..runtime.step import Steps
from . import process, scoring, service

__all__ = ["SanhaoMixin", "scoring"]


class SanhaoMixin:
    """The façade's 三好创争 methods (``Engine`` inherits them)."""

    steps: Steps

    def _install_sanhao(self) -> None:
        process.install(self.steps)

    def file_objection(self, instance_id: str, actor: str, body: dict[str, Any]) -> InstanceRecord:
        """File an objection to a town's proposed awards while they are in publicity (公示):
        ``{against: subject, reason}``; refused once the window has closed."""
        with self.steps.write(actor) as step:
            return service.file_objection(step, instance_id, body)

    def nominate_lying_flat(self, instance_id: str, actor: str, body: dict[str, Any]) -> InstanceRecord:
        """Nominate a cadre of the town for the 躺平奖, any time in the year: ``{nominee, reason}``;
        the town's committee reviews it."""
        with self.steps.write(actor) as step:
            return service.nominate(step, instance_id, body)
