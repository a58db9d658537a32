"""Incidents (``service.py`` says what opens one and the way out). ``IncidentsMixin`` gives
``Engine`` its methods; each opens one step and calls one function of ``service.py``."""

from __future__ import annotations

from typing import Any

from ..jobs import loop
from ..records import InstanceRecord
from ..runtime.step import Steps
from . import service
from .service import MAX_JOB_ATTEMPTS, IncidentRecord

__all__ = ["MAX_JOB_ATTEMPTS", "IncidentRecord", "IncidentsMixin"]


class IncidentsMixin:
    """The façade's incident methods (``Engine`` inherits them)."""

    steps: Steps

    def _install_incidents(self) -> None:
        service.install(self.steps)

    def list_incidents(
        self,
        viewer: str,
        *,
        open_only: bool = True,
        instance_id: str | None = None,
        process_key: str | None = None,
        offset: int = 0,
        limit: int = 500,
    ) -> list[IncidentRecord]:
        """Incidents of the viewer's tenant (admins), newest first; open ones unless asked otherwise."""
        with self.steps.read(viewer) as step:
            return service.listing(
                step.session,
                viewer,
                open_only=open_only,
                instance_id=instance_id,
                process_key=process_key,
                offset=offset,
                limit=limit,
            )

    def count_incidents(
        self,
        viewer: str,
        *,
        open_only: bool = True,
        instance_id: str | None = None,
        process_key: str | None = None,
    ) -> int:
        """How many incidents ``list_incidents`` pages through, with the same filters."""
        with self.steps.read(viewer) as step:
            return service.count(
                step.session, viewer, open_only=open_only, instance_id=instance_id, process_key=process_key
            )

    def get_incident(self, incident_id: str, viewer: str) -> IncidentRecord:
        with self.steps.read(viewer) as step:
            return service.record(service.get(step.session, viewer, incident_id))

    def retry_incident(self, incident_id: str, actor: str) -> IncidentRecord:
        """Run again what the incident stopped (admins): its instance from its last good state, or
        its parked job; a timer due meanwhile fires at once. A retry that fails again raises the
        failure (the incident counts another attempt)."""
        with self.steps.write(actor) as step:
            found, due, parked = service.retry(step, incident_id)
        if parked is not None:
            return service.rerun_job(self.steps, found.id, parked, actor)
        for job_id in due:
            loop.run_job(self.steps, job_id, force=False)
        return found

    def resume_instance(self, instance_id: str, actor: str) -> InstanceRecord:
        """Run an instance stopped by an error again from its last good state (admins)."""
        with self.steps.write(actor) as step:
            due = service.resume(step, instance_id)
        for job_id in due:
            loop.run_job(self.steps, job_id, force=False)
        with self.steps.read(actor) as step:
            return step.instance_record(step.instance(instance_id))

    def set_instance_variables(
        self, instance_id: str, actor: str, values: dict[str, Any], comment: str
    ) -> InstanceRecord:
        """Change a running or stopped instance's data to repair it (admins), audited."""
        with self.steps.write(actor) as step:
            service.set_variables(step, instance_id, values, comment)
            return step.instance_record(step.locked_instance())
