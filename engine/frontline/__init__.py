"""Front-line dispatch (五个一线): the catalogue of posts, the shipped process ``frontline`` and
what the engine does for it, the cadres on post, list entries and the dashboard.
``FrontlineMixin`` gives ``Engine`` its front-line methods; each opens one step and calls one
operation of ``service.py`` or ``process.py``, or reads ``board.py``.
"""

from __future__ import annotations

from typing import Any

from .. import rules
from ..runtime.step import Steps
from . import lists, process, service
from .board import dashboard, entries_of, list_target, nominees, pool, stints
from .process import ENTRY_WORDS, INTAKES, LIST_KINDS, RESULT_USES
from .records import DashboardRow, FrontlineEntryRecord, FrontlinePostRecord, PoolRecord, StintRecord
from .service import FRONT_LINES, ROTATIONS

__all__ = [
    "ENTRY_WORDS",
    "FRONT_LINES",
    "INTAKES",
    "LIST_KINDS",
    "RESULT_USES",
    "ROTATIONS",
    "DashboardRow",
    "FrontlineEntryRecord",
    "FrontlineMixin",
    "FrontlinePostRecord",
    "PoolRecord",
    "StintRecord",
    "entries_of",
]


class FrontlineMixin:
    """The façade's front-line methods (``Engine`` inherits them)."""

    steps: Steps

    def _install_frontline(self) -> None:
        process.install(self.steps)

    def create_frontline_post(self, actor: str, body: dict[str, Any]) -> FrontlinePostRecord:
        """A post on a front line (the organisation department): ``{front_line, unit, title, duties,
        capacity, supervisor, ranks?, field?, rotation_months?}``."""
        with self.steps.write(actor) as step:
            return service.create(step, body)

    def update_frontline_post(self, post_id: int, actor: str, body: dict[str, Any]) -> FrontlinePostRecord:
        """Change a post (any of its fields; ``active: false`` closes it to new dispatches)."""
        with self.steps.write(actor) as step:
            return service.update(step, post_id, body)

    def frontline_posts(self, viewer: str, *, front_line: str | None = None) -> list[FrontlinePostRecord]:
        """The tenant's posts with their places filled and holders (everyone of the tenant reads them)."""
        with self.steps.read(viewer) as step:
            return service.listing(step.session, viewer, front_line=front_line)

    def frontline_post(self, post_id: int, viewer: str) -> FrontlinePostRecord:
        """One post; 404 for another tenant's."""
        with self.steps.read(viewer) as step:
            return service.records(step.session, [service.visible_post(step.session, viewer, post_id)])[0]

    def frontline_stints(self, viewer: str, *, current_only: bool = True) -> list[StintRecord]:
        """Who is on which post (the organisation department)."""
        with self.steps.read(viewer) as step:
            service.require_organiser(step.session, viewer)
            return stints(step.session, viewer, current_only=current_only)

    def add_list_entry(self, instance_id: str, actor: str, body: dict[str, Any]) -> FrontlineEntryRecord:
        """A positive or negative list entry ``{kind: positive|negative, text}`` for a cadre on post,
        by the post's supervisor or the organisation department; 409 when the cadre is not on post."""
        with self.steps.write(actor) as step:
            e = lists.add_list_entry(step, instance_id, body)
            return FrontlineEntryRecord(e.at, e.kind, e.instance_id, e.detail, e.by, dict(e.data or {}))

    def frontline_dashboard(self, viewer: str) -> list[DashboardRow]:
        """Per post: filled and vacant, cadres by rank and origin unit, reviews overdue, list entries."""
        with self.steps.read(viewer) as step:
            service.require_organiser(step.session, viewer)
            return dashboard(step.session, viewer, step.now)

    def frontline_pool(self, viewer: str) -> list[PoolRecord]:
        """The running front-line instances: the pool, the assessments, the dispatches and the
        stints under way (the organisation department)."""
        with self.steps.read(viewer) as step:
            service.require_organiser(step.session, viewer)
            return pool(step.session, viewer)

    def frontline_nominees(self, viewer: str) -> dict[str, list[tuple[str, str]]]:
        """Whom ``viewer`` may nominate by each path (self, unit, organisation), as (username, name)."""
        with self.steps.read(viewer) as step:
            return nominees(step.session, viewer)

    def frontline_list_target(self, username: str, viewer: str) -> str | None:
        """The instance a list entry for ``username`` goes to, when ``viewer`` may file one now."""
        with self.steps.read(viewer) as step:
            return list_target(step.session, username, viewer)

    def may_manage_frontline(self, viewer: str) -> bool:
        """Whether ``viewer`` is of the organisation department (for the pages' links and buttons)."""
        with self.steps.read(viewer) as step:
            return rules.allowed("manage_frontline", rules.actor_of(step.session, viewer))
