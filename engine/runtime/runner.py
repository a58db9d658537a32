"""Instances at runtime: start, step, cancel; and the projections each step keeps exact.

A *step* is one unit of work on one instance, in one database transaction: load the workflow,
apply one action (complete a task, deliver a message, fire a timer), let Spiff run what follows,
compact history, then write the state, the human-task index, the timer jobs, the message
subscriptions and the audit rows together. Nothing here knows about HTTP.
"""

from __future__ import annotations

import functools
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as _BaseMessage
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .. import assignment, audit, durations
from ..definitions.catalog import Catalog, Model
from ..durations import parse_instant
from ..errors import ConflictError, EngineError, InvalidInputError, ScriptError, TaskDataError
from ..sandbox.environment import script_error_from
from ..store import rows_changed
from ..tables import Definition, HumanTask, Instance, Job, MessageSubscription, TaskCandidate
from . import spifflimits  # noqa: F401 - spifflimits bounds what Spiff builds for a diagram
from .clock import Clock, running_on
from .compaction import compact
from .serializer import StateSerializer
from .taskdata import DEFAULT_MAX_DATA_BYTES, check_data

#: How many times in one step the auto_actions hooks may complete tasks (a loop of auto-approvals ends).
MAX_AUTOMATIC_ROUNDS = 20

Projection = Callable[[Session, "StepContext"], None]
TaskHook = Callable[[Session, "StepContext", HumanTask, Any], None]
CloseHook = Callable[[Session, "StepContext", list[tuple[Any, str]]], None]
AutoAction = Callable[[Session, "StepContext"], list[Any]]


@dataclass
class StepContext:
    """What one step saw and did; handed to projections (ledger, webhooks) after the engine's own."""

    row: Instance
    model: Model
    workflow: BpmnWorkflow
    actor: str | None
    now: datetime
    data_before: dict[str, Any]
    data_after: dict[str, Any] = field(default_factory=dict)
    created_tasks: list[HumanTask] = field(default_factory=list)
    closed_tasks: list[tuple[str, str]] = field(default_factory=list)  # (task id, new status)
    error: Exception | None = None  # set when the diagram failed; the instance is marked error
    reopening: bool = False  # a reset (return, withdraw) may bring back tasks that ran before
    auto_seen: set[str] = field(default_factory=set)  # tasks the auto-approval policy has looked at
    visited: set[str] = field(default_factory=set)  # elements completed in this step
    thrown: list[BpmnEvent] = field(default_factory=list)  # messages no task of this instance caught

    def visit(self, task: Any) -> None:
        if task.task_spec.bpmn_id:
            self.visited.add(task.task_spec.bpmn_id)


@dataclass(frozen=True)
class Failure:
    """Why an instance stopped: the element, the error in words, and its data at that point."""

    row: Instance
    now: datetime
    actor: str | None
    element: str | None
    message: str
    kind: str  # script: the diagram's own code failed; message: a message it threw reached no one
    data: dict[str, Any]


class Runner:
    def __init__(
        self,
        catalog: Catalog,
        clock: Clock,
        script_engine_factory: Callable[[], Any],
        *,
        max_data_bytes: int = DEFAULT_MAX_DATA_BYTES,
    ) -> None:
        self.catalog = catalog
        self.clock = clock
        self.max_data_bytes = max_data_bytes  # bound on one instance's data, as JSON characters
        self.serializer = StateSerializer()
        self._script_engine = script_engine_factory()
        self.projections: list[Projection] = []
        self.lane_groups: dict[str, str] = {}  # deployment-wide lane -> group mapping (JIEBANG_LANE_GROUPS)
        self.task_hooks: list[TaskHook] = []  # (session, ctx, human task row, Spiff task) per new user task
        self.close_hooks: list[CloseHook] = []  # (session, ctx, [(Spiff task, status)]) per step
        self.auto_actions: list[AutoAction] = []  # user tasks the engine completes itself (auto-approve)
        # told when an instance stops (``halt``): incidents are opened here
        self.failure_hooks: list[Callable[[Session, Failure], None]] = []
        self._warm = WarmWorkflows()

    # ---- loading ------------------------------------------------------------------------

    @property
    def script_engine(self) -> Any:
        """The sandboxed script engine this runner's workflows run with (a decision evaluated
        outside a diagram, such as an appraisal scheme's DMN rule, uses it too)."""
        return self._script_engine

    def model_of(self, session: Session, row: Instance) -> Model:
        return self.catalog.cached(row.definition_id) or self.catalog.model(
            session.get_one(Definition, row.definition_id)
        )

    def load(self, model: Model, row: Instance) -> BpmnWorkflow:
        wf = self.serializer.loads(row.state, model.spec, model.subprocess_specs)
        wf.script_engine = self._script_engine  # never the library's unrestricted default
        return wf

    # ---- start --------------------------------------------------------------------------
    def start(
        self,
        session: Session,
        definition: Definition,
        *,
        actor: str | None,
        business_key: str | None,
        data: dict[str, Any],
        tenant: str | None = None,
        unit: str | None = None,
    ) -> StepContext:
        """Create the instance (of ``tenant``, for ``unit``) and run it to its first wait;
        ``remember`` the result once committed."""
        self.check_input(data, "start data")
        model = self.catalog.model(definition)
        now = self.clock.now()
        wf = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=self._script_engine)
        wf.task_tree.data.update(data)
        for child in wf.task_tree.children:
            child.data.update(data)
        row = Instance(
            id=str(uuid.uuid4()),
            definition_id=definition.id,
            process_key=definition.key,
            version=definition.version,
            business_key=business_key,
            status="running",
            state="",
            data=self.serializer.data(data),
            active_elements=[],
            started_by=actor,
            created_at=now,
            updated_at=now,
            row_version=1,
            tenant=tenant,
            unit=unit,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            audit.INSTANCE_START,
            now,
            actor=actor,
            instance_id=row.id,
            data={"business_key": business_key, "data": row.data},
        )
        ctx = StepContext(row, model, wf, actor, now, data_before={})
        self._advance(session, ctx, lambda w: None, fresh=True)
        return ctx

    # ---- stepping -----------------------------------------------------------------------
    def step(
        self,
        session: Session,
        row: Instance,
        *,
        actor: str | None,
        action: Callable[[BpmnWorkflow], None],
        reopening: bool = False,
    ) -> StepContext:
        """Apply ``action`` to the instance's workflow and persist everything that follows."""
        if row.status != "running":
            raise ConflictError(f"instance {row.id} is {row.status}")
        model = self.model_of(session, row)
        wf = self._warm.take(row.id, row.row_version) or self.load(model, row)
        ctx = StepContext(
            row, model, wf, actor, self.clock.now(), data_before=dict(row.data or {}), reopening=reopening
        )
        self._advance(session, ctx, action, fresh=False)
        return ctx

    def migrate(
        self,
        session: Session,
        row: Instance,
        target: Definition,
        *,
        actor: str | None,
        move: Callable[[BpmnWorkflow, Model], None],
    ) -> StepContext:
        """Move the instance onto another version of its definition: ``move`` re-points the workflow
        loaded with its own version onto ``target``'s specs, then the step runs and projects as any
        other (tasks and timers that survive keep their ids, rows and jobs). An instance stopped by
        an error only changes its saved state: what is ready runs when it is retried."""
        if row.status not in ("running", "error"):
            raise ConflictError(f"instance {row.id} is {row.status}")
        old = self.model_of(session, row)
        new = self.catalog.model(target)
        wf = self._warm.take(row.id, row.row_version) or self.load(old, row)
        ctx = StepContext(row, new, wf, actor, self.clock.now(), data_before=dict(row.data or {}))
        row.definition_id, row.version = target.id, target.version
        if row.status == "running":
            self._advance(session, ctx, lambda w: move(w, new), fresh=False)
            return ctx
        move(wf, new)
        row.state = self.serializer.dumps(wf)
        row.updated_at = ctx.now
        return ctx

    def _advance(
        self, session: Session, ctx: StepContext, action: Callable[[BpmnWorkflow], None], *, fresh: bool
    ) -> None:
        wf, row = ctx.workflow, ctx.row
        before_tasks = {} if fresh else _open_user_tasks(wf)
        before_waits = {} if fresh else _waiting_events(wf)
        run: Callable[[BpmnWorkflow], None] = action
        for round_ in range(MAX_AUTOMATIC_ROUNDS + 1):  # the action, then what the auto_actions hooks decide
            try:
                with running_on(self.clock):
                    run(wf)
                    _run_engine_tasks(wf, done=ctx.visit)
            except (ScriptError, SpiffWorkflowException) as exc:
                self._fail(session, ctx, exc)
                return
            except EngineError:
                raise  # the caller's action was refused (conflict, bad input): nothing to record
            except Exception as exc:  # a diagram's own failure (a bad timer value...) is recorded, not a 500
                self._fail(session, ctx, diagram_failure(exc))
                return
            compact(wf)
            after_tasks = _open_user_tasks(wf)
            after_waits = _waiting_events(wf)
            try:  # before any projection is written: data that cannot be stored fails the step here
                check_data(_visible_data(wf, after_tasks), self.max_data_bytes, where="the instance's data")
            except TaskDataError as exc:
                self._fail(session, ctx, exc)
                return
            with session.no_autoflush:
                self._sync_waits(session, ctx, before_waits, after_waits)
                self._sync_tasks(session, ctx, before_tasks, after_tasks)
            automatic = (
                [item for hook in self.auto_actions for item in hook(session, ctx)]
                if round_ < MAX_AUTOMATIC_ROUNDS
                else []
            )
            if not automatic:
                break
            before_tasks, before_waits = after_tasks, after_waits
            run = functools.partial(_complete_automatically, automatic)
        ctx.thrown = drain_messages(wf)  # for other instances (runtime/relay.py); never saved with the state
        completed = wf.is_completed()
        data = _visible_data(wf, after_tasks)
        try:
            ctx.data_after = self.serializer.data(data)
            state = self.serializer.dumps(wf)
        except (TypeError, ValueError, RecursionError) as exc:  # data the checks above did not see
            self._fail(
                session,
                ctx,
                ScriptError(f"the instance's state cannot be stored as JSON: {type(exc).__name__}: {exc}"),
            )
            return
        row.state = state
        row.data = ctx.data_after
        self._sync_title(session, ctx)
        row.active_elements = sorted(
            {t.task_spec.bpmn_id for t in after_tasks.values()}
            | {w.task.task_spec.bpmn_id for w in after_waits.values() if w.task.task_spec.bpmn_id}
        )
        if not ctx.visited <= set(row.visited or []):
            row.visited = sorted(set(row.visited or []) | ctx.visited)  # the path taken, for the diagram
        row.updated_at = ctx.now
        if completed:
            row.status = "completed"
            row.ended_at = ctx.now
            audit.record(session, audit.INSTANCE_COMPLETE, ctx.now, actor=ctx.actor, instance_id=row.id)
        for projection in self.projections:
            projection(session, ctx)

    def check_input(self, data: dict[str, Any], what: str, *, stored: dict[str, Any] | None = None) -> None:
        """Refuse a caller's data that could never be stored (not JSON, too big), changing nothing.

        With ``stored`` (the instance's data, which passed this check when it was saved), the
        two together must fit too; the stored part is sized by the JSON encoder, then measured
        variable by variable only to name what is too big.
        """
        try:
            size = check_data(data, self.max_data_bytes, where=what)
            if (
                stored
                and size + len(json.dumps(stored, ensure_ascii=False, separators=(",", ":")))
                > self.max_data_bytes
            ):
                check_data({**stored, **data}, self.max_data_bytes, where=f"the instance's data with {what}")
        except TaskDataError as exc:
            keys = exc.context.get("keys")
            keys = keys if isinstance(keys, list) and keys else ["data"]
            raise InvalidInputError(
                exc.detail, {str(k): [f"{exc.detail} / 数据无法保存（非 JSON 或过大）"] for k in keys}
            ) from None

    def edit_data(self, session: Session, row: Instance, values: dict[str, Any]) -> dict[str, Any]:
        """Set variables of the instance where its next steps read them (the data of every task
        not yet finished), without running anything; returns the instance's data before. Refused
        like any data that could not be stored."""
        self.check_input(values, "the variables", stored=dict(row.data or {}))
        model = self.model_of(session, row)
        wf = self._warm.take(row.id, row.row_version) or self.load(model, row)
        before = dict(row.data or {})
        for task in wf.get_tasks(state=TaskState.NOT_FINISHED_MASK):
            task.data.update(values)
        if wf.last_task is not None:  # what the instance's data shows while it waits for an event
            wf.last_task.data.update(values)
        open_tasks = _open_user_tasks(wf)
        data = _visible_data(wf, open_tasks)
        check_data(data, self.max_data_bytes, where="the instance's data")
        row.data = self.serializer.data(data)
        row.state = self.serializer.dumps(wf)
        row.updated_at = self.clock.now()
        return before

    def ready_user_tasks(self, session: Session, row: Instance) -> set[str]:
        """The ids of the user tasks the instance's saved state waits at."""
        wf = self.load(self.model_of(session, row), row)
        return {str(task_id) for task_id in _open_user_tasks(wf)}

    def remember(self, ctx: StepContext) -> None:
        """Keep a committed step's workflow in memory, tagged with the row version it matches."""
        if ctx.error is None and ctx.row.status == "running":
            self._warm.put(ctx.row.id, ctx.row.row_version, ctx.workflow)

    def _fail(self, session: Session, ctx: StepContext, exc: Exception) -> None:
        """A diagram's script failed or was stopped: mark the instance, keep the last good state."""
        cause = script_error_from(exc) or exc
        message = f"{type(cause).__name__}: {getattr(cause, 'detail', None) or cause}"
        element = getattr(getattr(getattr(exc, "task", None), "task_spec", None), "bpmn_id", None)
        if element is None and isinstance(cause, ScriptError):
            element = cause.context.get("bpmn_id")
        ctx.error = exc
        row = ctx.row
        if not row.state:  # it failed at its start: keep a workflow not yet started, with its start data
            wf = BpmnWorkflow(ctx.model.spec, ctx.model.subprocess_specs, script_engine=self._script_engine)
            start_data = dict(row.data or {})
            wf.task_tree.data.update(start_data)
            for child in wf.task_tree.children:
                child.data.update(start_data)
            row.state = self.serializer.dumps(wf)
        self.halt(
            session,
            Failure(
                row, ctx.now, ctx.actor, element, message, "script", dict(ctx.data_before or row.data or {})
            ),
        )

    def halt(self, session: Session, failure: Failure) -> None:
        """Stop an instance at the state it saved last: ``error``, its open tasks suspended (out of
        every inbox), audited; the failure hooks open the incident that says why."""
        row = failure.row
        row.status = "error"
        row.error = failure.message
        row.updated_at = failure.now
        for task in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == row.id, HumanTask.status == "open")
        ):
            task.status = "suspended"
        session.execute(
            delete(TaskCandidate).where(
                TaskCandidate.task_id.in_(select(HumanTask.id).where(HumanTask.instance_id == row.id))
            )
        )
        audit.record(
            session,
            audit.INSTANCE_ERROR,
            failure.now,
            actor=failure.actor,
            instance_id=row.id,
            element_id=failure.element,
            data={"error": failure.message},
        )
        for hook in self.failure_hooks:
            hook(session, failure)

    # ---- projections --------------------------------------------------------------------
    @staticmethod
    def _sync_title(session: Session, ctx: StepContext) -> None:
        """The task index carries the instance's title, so the inbox shows and searches it without
        loading instances: new tasks get it, and every task of the instance follows a change."""
        title = task_title(ctx.data_after)
        for ht in ctx.created_tasks:
            ht.title = title
        if title != task_title(ctx.data_before):
            session.execute(update(HumanTask).where(HumanTask.instance_id == ctx.row.id).values(title=title))

    def _sync_tasks(
        self, session: Session, ctx: StepContext, before: dict[UUID, Any], after: dict[UUID, Any]
    ) -> None:
        row = ctx.row
        closed_now: list[tuple[Any, str]] = []
        for task_id in before.keys() - after.keys():
            task = before[task_id]
            status = "completed" if task.has_state(TaskState.COMPLETED) else "cancelled"
            ctx.closed_tasks.append((str(task_id), status))
            closed_now.append((task, status))
            if status == "completed":
                ctx.visit(task)
            if status == "cancelled":
                closed = session.execute(
                    update(HumanTask)
                    .where(
                        (HumanTask.id == str(task_id)) | (HumanTask.parent_id == str(task_id)),
                        HumanTask.status.in_(("open", "waiting")),
                    )
                    .values(status="cancelled", completed_at=ctx.now)
                )
                if rows_changed(closed):
                    audit.record(
                        session,
                        audit.TASK_CANCEL,
                        ctx.now,
                        actor=ctx.actor,
                        instance_id=row.id,
                        element_id=task.task_spec.bpmn_id,
                        task_id=str(task_id),
                    )
        grouped = [str(t.id) for t, _ in closed_now if self._queued(ctx, t)]  # only queued tasks have rows
        if grouped:
            session.execute(delete(TaskCandidate).where(TaskCandidate.task_id.in_(grouped)))
        for hook in self.close_hooks:
            hook(session, ctx, closed_now)
        for task_id in after.keys() - before.keys():
            task = after[task_id]
            spec = task.task_spec
            groups, assignee, resolution = self._who(session, ctx, task)
            ht = session.get(HumanTask, str(task_id)) if ctx.reopening else None
            if ht is not None:  # sent back (退回/撤回): the same task runs again, for whoever did it
                ht.status, ht.created_at, ht.completed_at, ht.returned = "open", ctx.now, None, True
                ht.assignee = ht.completed_by or assignee
                ht.completed_by, ht.draft, ht.owner, ht.decision = None, None, None, None
                ht.due_at = _due_at(task, ctx.model.policy(spec.bpmn_id).due_in, ctx.now)
            else:
                ht = HumanTask(
                    id=str(task_id),
                    instance_id=row.id,
                    process_key=row.process_key,
                    business_key=row.business_key,
                    element_id=spec.bpmn_id,
                    name=spec.bpmn_name or spec.bpmn_id,
                    lane=spec.lane,
                    candidate_groups=groups,
                    assignee=assignee,
                    form=ctx.model.task_forms.get(spec.bpmn_id),
                    status="open",
                    kind="task",
                    returned=False,
                    created_at=ctx.now,
                    due_at=_due_at(task, ctx.model.policy(spec.bpmn_id).due_in, ctx.now),
                    tenant=row.tenant,
                )
                session.add(ht)
            ctx.created_tasks.append(ht)
            audit.record(
                session,
                audit.TASK_CREATE,
                ctx.now,
                actor=ctx.actor,
                instance_id=row.id,
                element_id=spec.bpmn_id,
                task_id=ht.id,
                data={
                    "name": ht.name,
                    "lane": ht.lane,
                    "candidate_groups": ht.candidate_groups,
                    "assignee": ht.assignee,
                },
            )
            if resolution is not None:
                if ht.returned:  # a redo goes to whoever did it; the post decides only when nobody did
                    ht.candidate_groups, ht.post_assignee, ht.unresolved = resolution.groups, None, None
                    resolution = resolution if ht.assignee == resolution.assignee else None
                if resolution is not None:
                    assignment.flag_new_task(session, ht, resolution, now=ctx.now, actor=ctx.actor)
            for task_hook in self.task_hooks:
                task_hook(session, ctx, ht, task)
            if ht.status == "open" and ht.assignee is None:  # the group queue holds only tasks nobody has
                for group in ht.candidate_groups or []:
                    session.add(
                        TaskCandidate(
                            group=group, task_id=ht.id, created_at=ht.created_at, tenant=ht.tenant or ""
                        )
                    )

    def lane_rule(self, model: Model, lane: str | None) -> str:
        """Who works a lane's tasks: the deployment's mapping first, then the diagram's."""
        return f"group:{self.lane_groups[lane]}" if lane in self.lane_groups else model.assignment(lane)

    def rule_of(self, ctx: StepContext, task: Any) -> str:
        """The assignment rule of a user task: its own ``assignment`` property, else its lane's."""
        policy = ctx.model.policy(task.task_spec.bpmn_id)
        if policy.assignment:
            return policy.assignment
        return self.lane_rule(ctx.model, task.task_spec.lane) if task.task_spec.lane else "starter"

    def _queued(self, ctx: StepContext, task: Any) -> bool:
        """Could this task have candidate rows (a group's or a post's queue)? Cheap: reads no table."""
        policy = ctx.model.policy(task.task_spec.bpmn_id)
        if policy.assignee:
            return False
        return bool(policy.candidate_groups) or self.rule_of(ctx, task).startswith(("group:", "post:"))

    def _who(
        self, session: Session, ctx: StepContext, task: Any
    ) -> tuple[list[str], str | None, assignment.Resolution | None]:
        """Candidate groups and assignee of a new user task, from its own or its lane's rule (and
        how a post rule resolved, to flag the task)."""
        policy = ctx.model.policy(task.task_spec.bpmn_id)
        if policy.assignee:  # a data variable naming the person, e.g. a multi-instance item
            found = task.data.get(policy.assignee)
            return [], str(found) if found else None, None
        if policy.candidate_groups and not policy.assignment:
            return list(policy.candidate_groups), None, None
        rule = self.rule_of(ctx, task)
        kind, _, value = rule.partition(":")
        if kind == "post":
            resolved = assignment.resolve(session, rule, task.data, ctx.row.started_by)
            return resolved.groups, resolved.assignee, resolved
        if kind == "starter":
            return [], ctx.row.started_by, None
        if kind == "data":
            found = task.data.get(value)
            return [], str(found) if found else None, None
        if kind == "user":
            return [], value or None, None
        return ([value] if value else []), None, None

    def _sync_waits(
        self,
        session: Session,
        ctx: StepContext,
        before: dict[tuple[Any, ...], Wait],
        after: dict[tuple[Any, ...], Wait],
    ) -> None:
        row = ctx.row
        for key in before.keys() - after.keys():
            wait = before[key]
            task_id = str(key[0])
            if wait.kind == "timer":
                session.execute(delete(Job).where(Job.id == task_id))
                if wait.task.has_state(TaskState.COMPLETED) and _fired_by_timer(wait.task):
                    audit.record(
                        session,
                        audit.TIMER_FIRE,
                        ctx.now,
                        actor="system",
                        instance_id=row.id,
                        element_id=wait.element_id,
                        task_id=task_id,
                        data={"due_at": wait.due_at.isoformat() if wait.due_at else None},
                    )
            else:
                session.execute(
                    delete(MessageSubscription).where(
                        MessageSubscription.task_id == task_id, MessageSubscription.message_name == wait.name
                    )
                )
        for key in after.keys() - before.keys():
            wait = after[key]
            task_id = key[0]
            if wait.kind == "timer":
                session.add(
                    Job(
                        id=str(task_id),
                        kind="timer",
                        instance_id=row.id,
                        element_id=wait.element_id,
                        task_id=str(task_id),
                        due_at=wait.due_at or ctx.now,
                        payload={},
                        attempts=0,
                        created_at=ctx.now,
                        tenant=row.tenant,
                    )
                )
            else:
                session.add(
                    MessageSubscription(
                        task_id=str(task_id),
                        instance_id=row.id,
                        message_name=wait.name,
                        business_key=row.business_key,
                        element_id=wait.element_id,
                        correlations=wait.correlations or None,
                    )
                )
        for key in before.keys() & after.keys():
            old, new = before[key], after[key]
            if new.kind == "timer" and new.due_at != old.due_at and new.due_at is not None:
                session.execute(update(Job).where(Job.id == str(key[0])).values(due_at=new.due_at))
            elif new.kind == "message" and new.correlations != old.correlations:  # a first message set them
                session.execute(
                    update(MessageSubscription)
                    .where(
                        MessageSubscription.task_id == str(key[0]),
                        MessageSubscription.message_name == new.name,
                    )
                    .values(correlations=new.correlations or None)
                )


class WarmWorkflows:
    """Recently stepped workflows, so the next step of a busy instance skips deserialising.

    An entry is used only when its version equals the row version read under the step's lock,
    so a change made by another process always wins; ``take`` removes the entry, so two threads
    never share one workflow object, and a step that fails never puts its half-run object back.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: str, version: int) -> BpmnWorkflow | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        return item[1] if item is not None and item[0] == version else None

    def put(self, instance_id: str, version: int, workflow: BpmnWorkflow) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class Wait:
    kind: str  # "timer" or "message"
    name: str
    element_id: str | None
    due_at: datetime | None
    task: Any = field(compare=False, repr=False)
    correlations: dict[str, Any] = field(default_factory=dict, compare=False)  # a message wait's keys


def task_title(data: dict[str, Any]) -> str | None:
    """What the task index shows as a task's title: the instance's ``title`` when it is a text."""
    title = data.get("title")
    return title if isinstance(title, str) else None


def diagram_failure(exc: BaseException) -> ScriptError:
    """A ScriptError that says in words which element failed and how, for any error Spiff let through.

    Spiff raises plain exceptions for diagram faults outside scripts: ``Exception('Invalid
    duration')`` for a timer value like ``'-P1D'``, OverflowError for ``'P99999999999999999999D'``.
    The element is the task Spiff was working on, found on the traceback.
    """
    task = _failing_task(exc)
    spec = getattr(task, "task_spec", None)
    element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    what = "the diagram failed"
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        what = (
            f"timer {element!r} could not be set: its expression {definition.expression} does not give a usable "
            "ISO 8601 date, duration or cycle"
        )
    elif element:
        what = f"element {element!r} failed"
    reason = str(exc) or type(exc).__name__
    err = ScriptError(
        f"{what}: {type(exc).__name__}: {reason}",
        error_type=type(exc).__name__,
        bpmn_id=element,
        task_id=str(getattr(task, "id", "") or "") or None,
    )
    err.__cause__ = exc
    return err


def _failing_task(exc: BaseException) -> Any:
    """The innermost Spiff task on the traceback (Spiff's specs call it ``my_task``)."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("my_task")
        if candidate is not None and hasattr(candidate, "task_spec"):
            found = candidate
        tb = tb.tb_next
    return found


def _complete_automatically(decided: list[tuple[str, dict[str, Any]]], wf: BpmnWorkflow) -> None:
    """Complete the user tasks an auto_actions hook decided, with the data it gave."""
    for task_id, data in decided:
        task = wf.get_task_from_id(UUID(task_id))
        task.data.update(data)
        task.run()


def _run_engine_tasks(wf: BpmnWorkflow, rounds: int = 100, done: Callable[[Any], None] | None = None) -> None:
    """Run everything that can run without a person, including timers that fell due meanwhile.

    ``do_engine_steps`` refreshes timers only at its end, so a timer that fires there leaves its
    task READY until the next call; we call again until nothing automatic is ready.
    """
    wf.refresh_timers()
    for _ in range(rounds):
        wf.do_engine_steps(did_complete_task=done)
        if not _ready(wf, manual=False):
            return
    raise ScriptError(f"the diagram kept running automatic tasks for {rounds} rounds without waiting")


def _ready(wf: BpmnWorkflow, manual: bool) -> list[Any]:
    """READY tasks of the workflow and its subprocesses: a flat scan, cheaper than Spiff's tree walk."""
    found = []
    for tree in (wf, *wf.subprocesses.values()):
        for task in tree.tasks.values():
            if task.state == TaskState.READY and bool(getattr(task.task_spec, "manual", False)) == manual:
                found.append(task)
    return found


def _open_user_tasks(wf: BpmnWorkflow) -> dict[UUID, Any]:
    return {t.id: t for t in _ready(wf, manual=True)}


def _waiting_events(wf: BpmnWorkflow) -> dict[tuple[UUID, str, str], Wait]:
    """Timers and messages the workflow waits for, keyed by (task, kind, name).

    An event-based gateway waits for several events itself (its catch events hand their
    definitions to it), so one waiting task can stand for a timer and a message at once.
    """
    waits: dict[tuple[UUID, str, str], Wait] = {}
    for task in list(wf.event_manager.tasks.values()):
        if task.state != TaskState.WAITING:
            continue
        definition = task.task_spec.event_definition
        if isinstance(definition, MultipleEventDefinition):
            outputs = task.task_spec.outputs
            pairs = [
                (
                    d,
                    outputs[i].bpmn_id
                    if isinstance(task.task_spec, EventBasedGateway) and i < len(outputs)
                    else task.task_spec.bpmn_id,
                )
                for i, d in enumerate(definition.event_definitions)
            ]
        else:
            pairs = [(definition, task.task_spec.bpmn_id)]
        for item, element in pairs:
            if isinstance(item, TimerEventDefinition):
                waits[(task.id, "timer", "")] = Wait(
                    "timer", item.name or element or "timer", element, _timer_due(task), task
                )
            elif isinstance(item, _BaseMessage):
                waits[(task.id, "message", item.name)] = Wait(
                    "message", item.name, element, None, task, _plain(task.workflow.correlations)
                )
    if not wf.is_completed():  # event subprocesses started by a message wait as long as the instance runs
        root = wf.task_tree
        for name in getattr(wf.spec.start, "trigger_specs", None) or []:
            sub = wf.subprocess_specs.get(name)
            for start in getattr(sub, "bpmn_start_events", None) or []:
                definition = getattr(start, "event_definition", None)
                if isinstance(definition, _BaseMessage):
                    waits[(root.id, "message", definition.name)] = Wait(
                        "message", definition.name, start.bpmn_id, None, root, _plain(wf.correlations)
                    )
    return waits


def _fired_by_timer(task: Any) -> bool:
    """Did this finished waiting task end because its timer fired (not a message or a cancel)?"""
    if isinstance(task.task_spec.event_definition, TimerEventDefinition):
        return True
    seen = task.internal_data.get("seen_events") or []
    return any(isinstance(getattr(e, "event_definition", None), TimerEventDefinition) for e in seen)


def _timer_due(task: Any) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value = value.get("next")
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError:
            return None
    return None


def _due_at(task: Any, due_in: str | None, now: datetime) -> datetime | None:
    """A user task is due when a timer on its boundary fires, or ``dueIn`` after it opens."""
    if due_in:
        return durations.after(due_in, now)  # checked at deploy
    parent = task.parent
    dues = []
    if parent is not None:
        for sibling in parent.children:
            if sibling is not task and isinstance(
                getattr(sibling.task_spec, "event_definition", None), TimerEventDefinition
            ):
                due = _timer_due(sibling)
                if due is not None:
                    dues.append(due)
    return min(dues) if dues else None


def _visible_data(wf: BpmnWorkflow, open_tasks: dict[UUID, Any]) -> dict[str, Any]:
    """The instance's data as a person means it: the newest data any live or last task holds."""
    if wf.is_completed():
        merged = dict(wf.last_task.data) if wf.last_task is not None else {}
        merged.update(wf.data)
        return merged
    if open_tasks:
        newest = max(open_tasks.values(), key=lambda t: t.last_state_change)
        return dict(newest.data)
    if wf.last_task is not None:
        return dict(wf.last_task.data)
    waiting = list(wf.event_manager.tasks.values())
    if waiting:
        return dict(max(waiting, key=lambda t: t.last_state_change).data)
    return dict(wf.task_tree.data)


def message_event(name: str, payload: Any, correlations: dict[str, Any] | None = None) -> BpmnEvent:
    return BpmnEvent(MessageEventDefinition(name), payload=payload, correlations=correlations)


def drain_messages(wf: BpmnWorkflow) -> list[BpmnEvent]:
    """Take the messages the workflow threw and nothing inside it caught (Spiff keeps them in
    ``bpmn_events``, which would otherwise be saved with the state and grow on every throw);
    other uncaught events stay where Spiff put them."""
    messages = [e for e in wf.bpmn_events if isinstance(e.event_definition, _BaseMessage)]
    if messages:
        wf.bpmn_events = [e for e in wf.bpmn_events if not isinstance(e.event_definition, _BaseMessage)]
    return messages


def _plain(correlations: dict[str, Any]) -> dict[str, Any]:
    """A copy of Spiff's correlation keys as JSON can hold them (values are what the diagram computed)."""
    return json.loads(json.dumps(correlations, default=str)) if correlations else {}


def fire_timer(wf: BpmnWorkflow, task_id: str, now: datetime) -> bool:
    """Make a waiting timer due now (e.g. close a claim window early); False when it no longer waits."""
    task = wf.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.WAITING:
        return False
    past = (now - timedelta(seconds=1)).isoformat()
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value = dict(value, next=past)
        task.internal_data["event_value"] = value
    else:
        task.internal_data["event_value"] = past
    return True
