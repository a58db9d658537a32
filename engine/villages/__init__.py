"""总队长制: one accountable leader per village, appointed by rule, present in the village.

``VillagesMixin`` gives ``Engine`` its methods; each opens one step and calls one function of
``appointment.py`` (the shipped ``village_appointment`` process and the engine's reactions to
it), ``service.py`` (the county's villages and letters) or ``presence.py`` (visits and nights).
"""

from __future__ import annotations

from typing import Any

from .. import rules
from ..records import InstanceRecord
from ..runtime.step import Steps
from . import appointment, assessment, presence, problems, service
from .appointment import CLASS_ATTRIBUTE, LOAD_LIMIT, RANKS, VILLAGE_CLASSES
from .assessment import BundledShare, VillageAssessment
from .problems import COLOURS, ProblemRow
from .records import AppointmentRecord, PresenceRow, VillageRow, VisitRecord

__all__ = [
    "CLASS_ATTRIBUTE",
    "LOAD_LIMIT",
    "RANKS",
    "VILLAGE_CLASSES",
    "COLOURS",
    "AppointmentRecord",
    "BundledShare",
    "VillageAssessment",
    "ProblemRow",
    "PresenceRow",
    "VillageRow",
    "VillagesMixin",
    "VisitRecord",
]


class VillagesMixin:
    """The façade's 总队长制 methods (``Engine`` inherits them)."""

    steps: Steps

    def _install_villages(self) -> None:
        appointment.install(self.steps)
        problems.install(self.steps)

    def assess_village(self, actor: str, village: str, year: int, satisfaction: float) -> VillageAssessment:
        """考核捆绑: the village's year (problems solved and on time, the survey's satisfaction) as a
        score and grade, written for the village and copied at a declared weight to its 总队长, its
        helping unit and its cadres (``assessment.py``); once per village and year."""
        with self.steps.write(actor) as step:
            return assessment.assess(step, village, year, satisfaction)

    def propose_village_leader(
        self, actor: str, village: str, leader: str, reason: str = ""
    ) -> InstanceRecord:
        """Propose ``leader`` as the 总队长 of ``village`` (an admin of the village or above): the
        rule (DMN), one proposal per village and the leader's load are checked at the start, and
        the committee's confirmation issues the letter."""
        with self.steps.write(actor) as step:
            return step.instance_record(appointment.propose(step, village, leader, reason))

    def open_village(
        self, actor: str, village: str, *, meeting_interval: str = problems.DEFAULT_MEETING_INTERVAL
    ) -> InstanceRecord:
        """Start the village's long-running ``village_leader`` instance (courtyard meetings every
        ``meeting_interval``); once per village, by an admin of the village or above."""
        with self.steps.write(actor) as step:
            unit = appointment.village_unit(step.session, village, rules.actor_of(step.session, actor).tenant)
            definition = step.runner.catalog.get_row(
                step.session, problems.VILLAGE_PROCESS, None, tenant=unit.tenant
            )
            ctx = step.start(
                definition,
                business_key=f"村总队长-{unit.code}",
                data={
                    "unit": unit.code,
                    "village": unit.code,
                    "village_name": unit.name,
                    "meeting_interval": meeting_interval,
                },
                tenant=unit.tenant,
                unit=unit.code,
            )
            return step.instance_record(ctx.row)

    def problem_list(
        self,
        viewer: str,
        *,
        village: str | None = None,
        town: str | None = None,
        colour: str | None = None,
        department: str | None = None,
        status: str = "open",
    ) -> list[ProblemRow]:
        """The red/yellow/green list of the viewer's county (or a town's, a village's): age and owner."""
        with self.steps.read(viewer) as step:
            s = step.session
            return problems.problem_list(
                s,
                rules.actor_of(s, viewer),
                step.now,
                village=village,
                town=town,
                colour=colour,
                department=department,
                status=status,
            )

    def problem_snapshots(self, viewer: str) -> list[dict[str, Any]]:
        """The weekly lists kept for the record, newest first: when and how many of each colour."""
        with self.steps.read(viewer) as step:
            return problems.snapshots(step.session, rules.actor_of(step.session, viewer))

    def village_board(self, viewer: str) -> list[VillageRow]:
        """The county's villages with their class, town and 总队长 (or vacant, or a proposal pending)."""
        with self.steps.read(viewer) as step:
            return service.board(step.session, rules.actor_of(step.session, viewer))

    def village_towns(self, viewer: str) -> list[tuple[str, str]]:
        """The towns of the viewer's county that have villages: (code, name), for the lists' filter."""
        with self.steps.read(viewer) as step:
            return service.towns(step.session, rules.actor_of(step.session, viewer))

    def village_leader_candidates(self, viewer: str) -> list[tuple[str, str, str]]:
        """People of the viewer's county the rule may consider: (username, name, rank), most senior first."""
        with self.steps.read(viewer) as step:
            return service.candidates(step.session, rules.actor_of(step.session, viewer))

    def may_appoint_leaders(self, viewer: str) -> bool:
        """Whether ``viewer`` may propose leaders (an admin; which villages, the rulebook decides)."""
        with self.steps.read(viewer) as step:
            actor = rules.actor_of(step.session, viewer)
            return "admin" in actor.roles or bool(actor.scopes("admin"))

    def village_leader_history(self, village: str, viewer: str) -> list[AppointmentRecord]:
        """A village's 总队长 over time, newest first; 404 for another county's village."""
        with self.steps.read(viewer) as step:
            return service.history(step.session, rules.actor_of(step.session, viewer), village)

    def appointment_letter(self, appointment_id: int, viewer: str) -> AppointmentRecord:
        """An appointment with its letter (任命书) as issued; 404 for another county's."""
        with self.steps.read(viewer) as step:
            s = step.session
            return service.record(
                s, service.visible_appointment(s, rules.actor_of(s, viewer), appointment_id)
            )

    def log_visit(self, actor: str, body: dict[str, Any]) -> VisitRecord:
        """Log a stay in a village: ``{village, day, nights?, note?, username?}``."""
        with self.steps.write(actor) as step:
            return presence.log_visit(step, body)

    def village_presence(
        self, viewer: str, *, since: str | None = None, until: str | None = None
    ) -> list[PresenceRow]:
        """Visits and nights per person and village of the viewer's county over ``[since, until]``."""
        with self.steps.read(viewer) as step:
            return presence.presence(step.session, rules.actor_of(step.session, viewer), since, until)
