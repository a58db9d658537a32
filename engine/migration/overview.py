"""What the migration page shows before anything moves: where the instances of one version wait,
per element with its name, and the elements of the other version a waiting one may be mapped to.
Read from the instance rows' ``active_elements``, never by loading workflows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from .. import rules
from ..definitions.catalog import Model
from ..runtime.step import Step
from ..tables import Instance
from .service import MOVABLE, version_of


@dataclass(frozen=True)
class WaitingElement:
    element_id: str
    name: str  # Chinese name (the id when the diagram gives none)
    name_en: str
    instances: int
    has_target: bool  # the other version has an element of the same id


@dataclass(frozen=True)
class ElementOption:
    element_id: str
    name: str
    name_en: str


@dataclass(frozen=True)
class MigrationOverview:
    process_key: str
    from_version: int
    to_version: int
    instances: int
    waiting: list[WaitingElement]
    targets: list[ElementOption]  # the other version's elements, to map to


def _names(model: Model, element_id: str) -> tuple[str, str]:
    names = model.names.get(element_id) or {}
    zh = names.get("zh_CN") or element_id
    return zh, names.get("en") or zh


def elements(model: Model) -> list[ElementOption]:
    """The flow elements of a version (its subprocesses' too), by name."""
    found: dict[str, ElementOption] = {}
    for spec in (model.spec, *model.subprocess_specs.values()):
        for ts in spec.task_specs.values():
            if ts.bpmn_id and ts.bpmn_id not in found:
                found[ts.bpmn_id] = ElementOption(ts.bpmn_id, *_names(model, ts.bpmn_id))
    return sorted(found.values(), key=lambda e: (e.name, e.element_id))


def overview(step: Step, process_key: str, from_version: int, to_version: int) -> MigrationOverview:
    s = step.session
    actor = rules.actor_of(s, step.actor or "")
    rules.require("migrate_instances", actor)
    source = version_of(s, step, process_key, from_version, "from_version", actor.tenant)
    target = version_of(s, step, process_key, to_version, "to_version", actor.tenant)
    old, new = step.runner.catalog.model(source), step.runner.catalog.model(target)
    stmt = select(Instance.active_elements).where(
        Instance.definition_id == source.id, Instance.status.in_(MOVABLE)
    )
    visible = rules.tenant_filter(actor, Instance.tenant)
    if visible is not None:
        stmt = stmt.where(visible)
    counts: Counter[str] = Counter()
    total = 0
    for active in s.scalars(stmt):
        total += 1
        counts.update(set(active or []))
    targets = elements(new)
    known = {e.element_id for e in targets}
    waiting = [
        WaitingElement(element_id, *_names(old, element_id), n, element_id in known)
        for element_id, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return MigrationOverview(process_key, from_version, to_version, total, waiting, targets)
