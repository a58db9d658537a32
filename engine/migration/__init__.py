"""Moving instances to another version of their process (``service.py`` says how). ``MigrationMixin``
gives ``Engine`` its methods; the request is checked in one step, then each instance moves in a
step of its own, so one that cannot move leaves the others moving."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ConflictError
from ..runtime.step import Steps
from . import overview, service
from .overview import ElementOption, MigrationOverview, WaitingElement
from .service import MigrationItem, MigrationProblem, MigrationResult

__all__ = [
    "ElementOption",
    "MigrationItem",
    "MigrationMixin",
    "MigrationOverview",
    "MigrationProblem",
    "MigrationResult",
    "WaitingElement",
]


class MigrationMixin:
    """The façade's migration methods (``Engine`` inherits them)."""

    steps: Steps

    def migrate_instances(
        self,
        process_key: str,
        from_version: int,
        to_version: int,
        *,
        mapping: Mapping[str, str] | None = None,
        instance_ids: list[str] | None = None,
        dry_run: bool = False,
        actor: str,
    ) -> MigrationResult:
        """Move instances of ``from_version`` (all running ones, or ``instance_ids``) to
        ``to_version`` (admins), each in its own transaction; a dry run says what would happen
        and changes nothing. Elements match by id, or as ``mapping`` {old id: new id} says."""
        with self.steps.read(actor) as step:
            plan = service.plan(step, process_key, from_version, to_version, mapping, instance_ids)
        items = []
        for instance_id in plan.instance_ids:
            try:
                with self.steps.write(actor) as step:
                    items.append(service.migrate_one(step, plan, instance_id, dry_run=dry_run))
            except service.Undone as undone:
                items.append(undone.item)
            except ConflictError as exc:  # changed by someone else meanwhile: it stays as it was
                items.append(
                    MigrationItem(
                        instance_id,
                        False,
                        [
                            MigrationProblem(
                                None, "conflict", f"{exc.detail} / 该实例正被他人修改，请稍后重试", True
                            )
                        ],
                    )
                )
        moved = 0 if dry_run else sum(1 for item in items if item.ok)
        return MigrationResult(items, moved, len(items), dry_run)

    def migration_overview(
        self, process_key: str, from_version: int, to_version: int, *, viewer: str
    ) -> MigrationOverview:
        """For the migration page (admins): where the instances of ``from_version`` wait, per
        element with its name, whether ``to_version`` has that element, and its elements to map to."""
        with self.steps.read(viewer) as step:
            return overview.overview(step, process_key, from_version, to_version)
