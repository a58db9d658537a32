"""Moving running instances of one version of a process to another (admins).

A process owner fixes a diagram and deploys it; instances already running keep their version
until someone moves them. Moving uses SpiffWorkflow's own diff (``SpecDiff``/``WorkflowDiff``) and
``migrate_workflow``: every task of the instance is re-pointed to the element of the same id in
the new version (or the one the ``mapping`` names, for a renamed or split task), and what waits
(READY user tasks, WAITING timers and messages) is set up again on the new diagram.

What Jiebang adds around it:

- the checks, in words: a waiting element, or one already done, with no counterpart refuses the
  move (the instance is left as it was); a changed timer, a changed task type or a form that
  asks for other fields is told;
- what people hold on to survives: a waiting task keeps its id (hence its inbox row, assignee,
  comments and due date), its data, and a timer whose definition did not change keeps its due
  time (Spiff would set it again from now);
- one transaction per instance, audited (``instance.migrated``); a dry run does the same work and
  rolls it back, so it also finds a new diagram that would fail right after the move.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import rules
from ..definitions.catalog import Model
from ..errors import ConflictError, EngineError, InvalidInputError, NotFoundError
from ..runtime.step import Step
from ..tables import Definition, HumanTask, Instance, Job
from ..vocabulary import Event

#: Instances a migration moves: running ones, and ones stopped by an error (retried afterwards).
MOVABLE = ("running", "error")
#: Suffixes Spiff gives the helper specs of one element (boundary events, multi-instance children).
_DERIVED = (".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class MigrationProblem:
    """One thing about an instance's move, in words; ``blocking`` ones keep it where it is."""

    element_id: str | None
    kind: str  # no_target, done_removed, type_changed, not_carried, timer_changed, form_changed, status, version, fails
    message: str
    blocking: bool


@dataclass(frozen=True)
class MigrationItem:
    id: str
    ok: bool
    problems: list[MigrationProblem] = field(default_factory=list)


@dataclass(frozen=True)
class MigrationResult:
    items: list[MigrationItem]
    moved: int
    total: int
    dry_run: bool


@dataclass(frozen=True)
class Plan:
    """A checked request: the two versions, the mapping and the instances to move, in order."""

    process_key: str
    source_id: int
    target_id: int
    from_version: int
    to_version: int
    mapping: dict[str, str]
    instance_ids: list[str]


class Refused(ConflictError):
    """The instance cannot move (blocking problems); raised inside its step, which rolls back."""

    def __init__(self, problems: list[MigrationProblem]) -> None:
        super().__init__("the instance cannot move / 该实例无法迁移")
        self.problems = problems


class Undone(Exception):
    """Rolls back a dry run's (or a refused instance's) step and carries the answer out of it."""

    def __init__(self, item: MigrationItem) -> None:
        super().__init__(item.id)
        self.item = item


# ---- the request ----------------------------------------------------------------------


def version_of(
    s: Session, step: Step, key: str, version: int, field_name: str, tenant: str | None
) -> Definition:
    """A version the actor's tenant sees; an unknown key or version is bad input here (422)."""
    try:
        return step.runner.catalog.get_row(s, key, version, tenant=tenant)
    except NotFoundError:
        raise InvalidInputError(
            f"process '{key}' has no version {version}",
            {field_name: [f"process '{key}' has no version {version} / 流程“{key}”没有第 {version} 版"]},
        ) from None


def plan(
    step: Step,
    process_key: str,
    from_version: int,
    to_version: int,
    mapping: Mapping[str, str] | None,
    instance_ids: list[str] | None,
) -> Plan:
    """Check the request as a whole (admins; versions and mapping known; the instances visible)."""
    s = step.session
    actor = rules.actor_of(s, step.actor or "")
    rules.require("migrate_instances", actor)
    if from_version == to_version:
        raise InvalidInputError(
            "from and to are the same version",
            {"to_version": ["choose another version to move to / 请选择另一个目标版本"]},
        )
    source = version_of(s, step, process_key, from_version, "from_version", actor.tenant)
    target = version_of(s, step, process_key, to_version, "to_version", actor.tenant)
    old, new = step.runner.catalog.model(source), step.runner.catalog.model(target)
    mapping = dict(mapping or {})
    errors: dict[str, list[str]] = {}
    for old_id, new_id in mapping.items():
        if _spec_named(old, old_id) is None:
            errors.setdefault(f"mapping.{old_id}", []).append(
                f"v{from_version} has no element '{old_id}' / 第 {from_version} 版没有环节“{old_id}”"
            )
        if _spec_named(new, new_id) is None:
            errors.setdefault(f"mapping.{old_id}", []).append(
                f"v{to_version} has no element '{new_id}' / 第 {to_version} 版没有环节“{new_id}”"
            )
    if errors:
        raise InvalidInputError("the mapping names elements that do not exist", errors)
    if instance_ids is None:
        visible = rules.tenant_filter(actor, Instance.tenant)
        stmt = select(Instance.id).where(Instance.definition_id == source.id, Instance.status.in_(MOVABLE))
        if visible is not None:
            stmt = stmt.where(visible)
        ids = list(s.scalars(stmt.order_by(Instance.created_at, Instance.id)))
    else:
        ids = list(dict.fromkeys(instance_ids))
        for instance_id in ids:
            row = s.get(Instance, instance_id) if len(instance_id) <= 36 else None
            if row is None or not rules.in_tenant(actor, row.tenant):
                raise NotFoundError(f"no process instance '{instance_id}'")
    return Plan(process_key, source.id, target.id, from_version, to_version, mapping, ids)


def _spec_named(model: Model, element_id: str) -> Any:
    for spec in (model.spec, *model.subprocess_specs.values()):
        found = spec.task_specs.get(element_id)
        if found is not None:
            return found
    return None


# ---- one instance -----------------------------------------------------------------------


def migrate_one(step: Step, p: Plan, instance_id: str, *, dry_run: bool) -> MigrationItem:
    """Move one instance in this step; raises ``Undone`` (rolling the step back) for a dry run or
    an instance that cannot move, with its answer."""
    s = step.session
    row = step.lock_instance(instance_id)
    if row.definition_id != p.source_id:
        raise Undone(
            _refused(
                row.id,
                None,
                "version",
                f"the instance runs version {row.version}, not {p.from_version} / 该实例运行的是第 {row.version} 版，"
                f"不是第 {p.from_version} 版",
            )
        )
    if row.status not in MOVABLE:
        raise Undone(
            _refused(
                row.id,
                None,
                "status",
                f"the instance is {row.status} / 该实例已{_STATUS_ZH.get(row.status, row.status)}",
            )
        )
    target = s.get_one(Definition, p.target_id)
    old = step.runner.model_of(s, row)
    notices: list[MigrationProblem] = []

    def move(wf: BpmnWorkflow, new: Model) -> None:
        problems, survivors = _move(step, wf, old, new, p.mapping)
        notices.extend(problems)
        if any(x.blocking for x in problems):
            raise Refused(problems)
        _follow(s, row.id, wf, new, survivors)

    try:
        ctx = step.migrate(row, target, move)
    except Refused as refused:
        raise Undone(MigrationItem(row.id, False, refused.problems)) from None
    except EngineError as exc:
        raise Undone(_refused(row.id, None, "fails", f"{exc.detail} / 迁移失败")) from None
    except Exception as exc:  # Spiff could not re-point a stopped instance's tree: it stays as it was
        raise Undone(
            _refused(row.id, None, "fails", f"the move failed: {type(exc).__name__}: {exc} / 迁移失败")
        ) from None
    if ctx.error is not None:
        element = getattr(ctx.error, "context", {}).get("bpmn_id")
        raise Undone(
            MigrationItem(
                row.id,
                False,
                [
                    *notices,
                    MigrationProblem(
                        element,
                        "fails",
                        f"version {p.to_version} fails right after the move: {ctx.error} / "
                        f"迁移后新版本立即出错：{ctx.error}",
                        True,
                    ),
                ],
            )
        )
    step.record(
        Event.INSTANCE_MIGRATED,
        actor=step.actor,
        instance_id=row.id,
        data={
            "from_version": p.from_version,
            "to_version": p.to_version,
            "mapping": p.mapping,
            "notices": [x.message for x in notices],
        },
    )
    item = MigrationItem(row.id, True, notices)
    if dry_run:
        raise Undone(item)
    return item


_STATUS_ZH = {"completed": "办结", "cancelled": "撤销"}


def _refused(instance_id: str, element: str | None, kind: str, message: str) -> MigrationItem:
    return MigrationItem(instance_id, False, [MigrationProblem(element, kind, message, True)])


@dataclass(frozen=True)
class _Survivor:
    """A live task before the move: what Spiff's reset would lose and we give back."""

    data: dict[str, Any]
    internal: dict[str, Any]
    keep_timer: bool


def _move(
    step: Step, wf: BpmnWorkflow, old: Model, new: Model, mapping: dict[str, str]
) -> tuple[list[MigrationProblem], dict[Any, _Survivor]]:
    """Check and, when nothing blocks, re-point the workflow (and its subprocesses) to ``new``."""
    registry = step.runner.serializer.registry
    words = _Words(old, new)
    problems: list[MigrationProblem] = []
    diffs: list[tuple[Any, WorkflowDiff, Any]] = []  # (workflow, its diff, the new spec)
    trees: list[tuple[Any, Any]] = [(wf, new.spec)]
    for sp in wf.subprocesses.values():
        new_spec = new.subprocess_specs.get(sp.spec.name)
        if new_spec is None:
            element = sp.spec.name
            problems.append(
                MigrationProblem(
                    element,
                    "no_target",
                    f"{words.en(element)} is running but the new version has no such subprocess / "
                    f"{words.zh(element)}正在进行，但新版本没有这个子流程",
                    True,
                )
            )
            continue
        trees.append((sp, new_spec))
    survivors: dict[Any, _Survivor] = {}
    for tree, new_spec in trees:
        spec_diff = _aligned(registry, tree.spec, new_spec, mapping)
        diff = WorkflowDiff(tree, spec_diff)
        diffs.append((tree, diff, new_spec))
        problems.extend(_problems_of(diff, spec_diff, words, old, new))
        for task in tree.get_tasks(state=TaskState.READY | TaskState.WAITING, skip_subprocesses=True):
            changes = spec_diff.changed.get(task.task_spec, [])
            timer = isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)
            survivors[task.id] = _Survivor(
                copy.deepcopy(task.data),
                copy.deepcopy(task.internal_data),
                keep_timer=not (timer and "event_definition" in changes),
            )
    if any(x.blocking for x in problems):
        return problems, survivors
    for tree, diff, new_spec in diffs:
        migrate_workflow(diff, tree, new_spec)
        for task in diff.removed:  # finished steps the new version dropped leave the live tree
            if task.id in tree.tasks and task.has_state(TaskState.FINISHED_MASK):
                _splice(tree, task)
    wf.subprocess_specs = new.subprocess_specs
    for tree, _diff, _spec in diffs:
        for task in tree.tasks.values():
            saved = survivors.get(task.id)
            if saved is None or not task.has_state(TaskState.READY | TaskState.WAITING):
                continue
            task.data = copy.deepcopy(saved.data)
            if saved.keep_timer:
                task.internal_data = copy.deepcopy(saved.internal)
    for tree, _diff, new_spec in diffs:
        for task in tree.tasks.values():
            if new_spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                element = task.task_spec.bpmn_id or task.task_spec.name
                problems.append(
                    MigrationProblem(
                        element,
                        "not_carried",
                        f"{words.en(element)} cannot be carried over to the new version / "
                        f"{words.zh(element)}无法对应到新版本",
                        True,
                    )
                )
                return problems, survivors
    return problems, survivors


def _splice(tree: Any, task: Any) -> None:
    """Take a finished task out of its tree, its children hanging from its parent instead (as
    ``runtime/compaction.py`` drops old history; the audit log keeps what it did)."""
    parent = task.parent
    if parent is None:
        return
    children = list(task._children)
    at = parent._children.index(task.id)
    parent._children[at : at + 1] = children
    for child_id in children:
        tree.tasks[child_id]._parent = parent.id
    del tree.tasks[task.id]
    if tree.last_task is task:
        tree.last_task = parent


def _aligned(registry: Any, original: Any, new: Any, mapping: dict[str, str]) -> SpecDiff:
    """Spiff's diff, aligned by element id only (a different id is the mapping's to say): every
    spec of the old version points at the spec of the same name, or of the mapped one."""
    diff = SpecDiff(registry, original, new)
    for spec in original.task_specs.values():
        target = new.task_specs.get(_mapped_name(spec.name, mapping))
        diff.alignment[spec] = target
        if target is None:
            diff.comparisons.pop(spec, None)
        else:
            diff.comparisons[spec] = _compare(registry, spec, target)
    return diff


def _mapped_name(name: str, mapping: dict[str, str]) -> str:
    if name in mapping:
        return mapping[name]
    for suffix in _DERIVED:
        base = name.removesuffix(suffix)
        if base != name and base in mapping:
            return mapping[base] + suffix
    return name


def _compare(registry: Any, spec: Any, candidate: Any) -> list[str]:
    """The attributes that differ between two task specs (as Spiff's own diff compares them)."""
    before, after = registry.convert(spec), registry.convert(candidate)
    if before.get("typename") != after.get("typename"):
        return ["typename"]
    return [key for key, value in before.items() if after.get(key) != value and key != "name"]


def _problems_of(
    diff: WorkflowDiff, spec_diff: SpecDiff, words: _Words, old: Model, new: Model
) -> list[MigrationProblem]:
    out: list[MigrationProblem] = []
    seen: set[str] = set()  # a loop or multi-instance element waits in several tasks: told once

    def add(element: str, kind: str, message: str, blocking: bool) -> None:
        if message not in seen:
            seen.add(message)
            out.append(MigrationProblem(element, kind, message, blocking))

    for task in diff.removed:
        element = task.task_spec.bpmn_id or task.task_spec.name.split(".")[0].removesuffix(" [child]")
        if task.has_state(_LIVE):
            add(
                element,
                "no_target",
                f"{words.en(element)} is waiting, but the new version has no such element; map it to one / "
                f"{words.zh(element)}正在等待办理，但新版本没有对应环节，请为它指定新环节",
                True,
            )
        elif task.has_state(TaskState.FINISHED_MASK):
            add(
                element,
                "done_removed",
                f"{words.en(element)} was done and the new version has no such element: it stays in the history, "
                f"but work cannot be sent back to it / {words.zh(element)}已办理，新版本没有这一环节：办理记录保留，"
                "但不能再退回到该环节",
                False,
            )
    for task in diff.changed:
        if not task.has_state(_LIVE) or not task.task_spec.bpmn_id:
            continue
        element = task.task_spec.bpmn_id
        changes = spec_diff.changed.get(task.task_spec, [])
        if "typename" in changes:
            add(
                element,
                "type_changed",
                f"{words.en(element)} is waiting, but in the new version it is another kind of element / "
                f"{words.zh(element)}正在等待，但在新版本中已变为其他类型的环节",
                True,
            )
        elif isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition) and (
            "event_definition" in changes
        ):
            add(
                element,
                "timer_changed",
                f"the timer of {words.en(element)} changed: after the move it counts again from now by the new "
                f"definition / {words.zh(element)}的定时设置已修改，迁移后按新设置从现在起重新计时",
                False,
            )
    for task in diff.alignment:
        target = diff.alignment[task]
        if (
            target is None
            or not task.has_state(TaskState.READY)
            or not getattr(task.task_spec, "manual", False)
        ):
            continue
        before = _fields(old.form_for(task.task_spec.bpmn_id))
        after = _fields(new.form_for(target.bpmn_id))
        gone = sorted(set(before[0]) - set(after[0]))
        needed = sorted(name for name in after[1] - before[1] if name not in task.data)
        element = task.task_spec.bpmn_id
        if gone:
            add(
                element,
                "form_changed",
                f"the form of {words.en(element)} no longer has {', '.join(gone)}: what was typed there is not "
                f"asked again / {words.zh(element)}的表单已去掉字段 {'、'.join(gone)}，已填写的内容不再出现",
                False,
            )
        if needed:
            add(
                element,
                "form_changed",
                f"the form of {words.en(element)} now requires {', '.join(needed)}, which the instance does not "
                f"hold yet: the person working it fills it in / {words.zh(element)}的表单新增必填字段 "
                f"{'、'.join(needed)}，办理人需补填",
                False,
            )
    return out


def _fields(schema: dict[str, Any] | None) -> tuple[dict[str, Any], set[str]]:
    if not schema:
        return {}, set()
    props = schema.get("properties") or {}
    return dict(props), {str(n) for n in schema.get("required") or []}


class _Words:
    """An element as people know it: its name in both languages (its id when it has none)."""

    def __init__(self, old: Model, new: Model) -> None:
        self.names = {**new.names, **old.names}

    def zh(self, element: str) -> str:
        name = (self.names.get(element) or {}).get("zh_CN")
        return f"“{name}”" if name else f"环节 {element} "

    def en(self, element: str) -> str:
        names = self.names.get(element) or {}
        name = names.get("en") or names.get("zh_CN")
        return f"'{name}'" if name else f"element {element}"


def _follow(
    s: Session, instance_id: str, wf: BpmnWorkflow, new: Model, survivors: Mapping[Any, _Survivor]
) -> None:
    """The task index and the timer jobs follow tasks whose element was renamed: same rows, new
    element, name and form (assignee, candidates, comments and due dates stay)."""
    for tree in (wf, *wf.subprocesses.values()):
        for task in tree.tasks.values():
            if task.id not in survivors or not task.task_spec.bpmn_id:
                continue
            spec = task.task_spec
            if getattr(spec, "manual", False):
                s.execute(
                    update(HumanTask)
                    .where(HumanTask.id == str(task.id), HumanTask.instance_id == instance_id)
                    .values(
                        element_id=spec.bpmn_id,
                        name=spec.bpmn_name or spec.bpmn_id,
                        form=new.task_forms.get(spec.bpmn_id),
                    )
                )
            else:
                s.execute(
                    update(Job)
                    .where(Job.id == str(task.id), Job.instance_id == instance_id)
                    .values(element_id=spec.bpmn_id)
                )
