"""The unit of work every engine operation runs in: one ``Step`` per transaction.

A ``Step`` holds the session, the clock's ``now``, the acting user and the instance it locked,
and offers the few verbs operations need: lock the instance, find the task to work, advance the
workflow through the runner, complete a task, emit an event or audit row. It commits or rolls
back once; after the commit the workflows it advanced are kept warm, and a diagram that failed
is raised (its error state is committed first, so the instance shows why it stopped).

``Steps`` is where steps open (``steps.write(actor)``, ``steps.read()``) and where features
subscribe: runner hooks, listeners for outbound events, job handlers, completion checks. The
operations (``operations.py``, ``approval/*``, ``claims.py``) are plain functions of a ``Step``;
``Engine`` opens one and calls one operation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import audit, rules
from ..errors import ConflictError, InvalidInputError, NotFoundError, ScriptError, UnroutableMessageError
from ..records import InstanceRecord, task_record
from ..store import Store
from ..tables import Definition, HumanTask, Instance, Job, Unit, UserPost
from . import relay
from .clock import Clock
from .runner import Failure, Runner, StepContext, message_event

Listener = Callable[[Session, str, Instance, dict[str, Any]], None]
CompletionCheck = Callable[[Session, Instance, HumanTask, dict[str, Any]], None]
ClaimCheck = Callable[[Session, Instance, str, dict[str, Any]], None]  # (session, challenge, filer, claim)
JobHandler = Callable[[Job, bool], None]
FormView = Callable[[Session, Instance, dict[str, Any]], dict[str, Any]]
Reaction = Callable[["Step", StepContext], None]


class Steps:
    """The engine's parts a step works with, and the hooks features subscribe to."""

    def __init__(self, store: Store, clock: Clock, runner: Runner) -> None:
        self.store = store
        self.clock = clock
        self.runner = runner
        self.listeners: list[Listener] = []  # outbound events (webhooks), written in the step's transaction
        self.completion_checks: list[
            CompletionCheck
        ] = []  # domain checks a form schema cannot make (claims.py)
        self.engine_messages: set[str] = (
            set()
        )  # messages only the engine sends, after its own checks (claims.py)
        self.claim_checks: list[ClaimCheck] = []  # a claim's eligibility beyond the board's (campaigns)
        self.job_handlers: dict[str, JobHandler] = {}
        self.form_views: list[
            FormView
        ] = []  # a task's form as this instance shows it (a campaign's own categories)
        self.reactions: list[
            Reaction
        ] = []  # engine work a diagram's step calls for (a campaign's annual list starts its problems)
        # after a job failed: True parks it instead of retrying it later (incidents)
        self.job_failure_checks: list[Callable[[Step, Job, str], bool]] = []
        # a task now waits for someone it did not wait for before (转办, 委派, a signer's turn):
        # (session, the task row, now, who did it, the people it now waits for or None for its
        # holders); notifications tell them
        self.offer_hooks: list[
            Callable[[Session, HumanTask, datetime, str | None, list[str] | None], None]
        ] = []

    @contextlib.contextmanager
    def write(self, actor: str | None) -> Iterator[Step]:
        """One write transaction for ``actor``; after the commit, settle what the step advanced.

        A message the step's instance threw that no instance can take rolls everything back;
        then, in a transaction of its own, that instance stops where it stood before the step,
        with an incident that says which message went nowhere (the error is raised still).
        """
        step: Step | None = None
        try:
            with self.store.write() as session:
                step = Step(self, session, actor)
                yield step
        except UnroutableMessageError as exc:
            locked = step.instance_row if step is not None else None  # detached by the rollback
            identity = inspect(locked).identity if locked is not None else None
            thrower = identity[0] if identity else exc.context.get("instance_id")
            if isinstance(thrower, str) and self._stop_for_message(thrower, actor, exc):
                exc.detail += (
                    "; the instance is stopped with an incident for an admin / 流程已暂停，待管理员处理"
                )
            raise
        if step is not None:
            step.settle()

    def _stop_for_message(self, instance_id: str, actor: str | None, exc: UnroutableMessageError) -> bool:
        now = self.clock.now()
        with self.store.write() as session:
            try:
                row = Step(self, session, actor).lock_instance(instance_id)
            except NotFoundError:  # the step was its start: nothing of it was kept
                return False
            if row.status != "running":
                return False
            element = exc.context.get("element_id")
            self.runner.halt(
                session,
                Failure(
                    row,
                    now,
                    actor,
                    element if isinstance(element, str) else None,
                    f"{type(exc).__name__}: {exc.detail}",
                    "message",
                    dict(row.data or {}),
                ),
            )
        return True

    @contextlib.contextmanager
    def read(self, actor: str | None = None) -> Iterator[Step]:
        """A read-only step: the same lookups, nothing to commit."""
        with self.store.read() as session:
            yield Step(self, session, actor)


class Step:
    """One unit of work: the session, ``now``, the actor, and the instance it locked."""

    def __init__(self, steps: Steps, session: Session, actor: str | None) -> None:
        self.steps = steps
        self.session = session
        self.actor = actor
        self.now = steps.clock.now()
        self.runner = steps.runner
        self.instance_row: Instance | None = None  # the instance this step locked, once it has
        self._advanced: list[tuple[StepContext, bool]] = []  # (what ran, raise if the diagram failed)
        self.relay_depth = 0  # how deep messages thrown in this step set off others (relay.py)

    # ---- finding and locking ------------------------------------------------------------
    def instance(self, instance_id: str) -> Instance:
        row = self.session.get(Instance, instance_id)
        if row is None:
            raise NotFoundError(f"no process instance '{instance_id}'")
        return row

    def lock_instance(self, instance_id: str) -> Instance:
        """The instance, locked for the rest of the step (SQLite's write transaction locks already)."""
        if self.steps.store.is_sqlite:
            row = self.instance(instance_id)
        else:
            locked = self.session.get(Instance, instance_id, with_for_update=True, populate_existing=True)
            if locked is None:
                raise NotFoundError(f"no process instance '{instance_id}'")
            row = locked
        self.instance_row = row
        return row

    def lock_other(self, instance_id: str) -> Instance:
        """Lock another instance this step must also change (a message's receiver), re-read under the lock."""
        if self.steps.store.is_sqlite:
            return self.instance(instance_id)
        locked = self.session.get(Instance, instance_id, with_for_update=True, populate_existing=True)
        if locked is None:
            raise NotFoundError(f"no process instance '{instance_id}'")
        return locked

    def locked_instance(self) -> Instance:
        """The instance this step locked (after ``lock_instance``, ``task_for_work`` or ``start``)."""
        if self.instance_row is None:
            raise RuntimeError("this step has not locked an instance")
        return self.instance_row

    def task(self, task_id: str, *, lock: bool = False) -> HumanTask:
        ht = (
            self.session.get(HumanTask, task_id, with_for_update=lock and not self.steps.store.is_sqlite)
            if is_uuid(task_id)
            else None
        )
        if ht is None:
            raise NotFoundError(f"no task '{task_id}'")
        return ht

    def task_for_work(
        self, task_id: str, username: str, *, action: str = "complete"
    ) -> tuple[Instance, HumanTask]:
        """Lock the task's instance and check that ``username`` may ``action`` the open task now."""
        s = self.session
        if self.steps.store.is_sqlite:  # the write transaction holds the database's one write lock already
            ht = self.task(task_id)
            row = self.instance(ht.instance_id)
        else:
            # Lock the instance first, then read the task: under the lock a racing completion is visible.
            owner = select(HumanTask.instance_id).where(HumanTask.id == task_id).scalar_subquery()
            found = (
                s.scalars(
                    select(Instance)
                    .where(Instance.id == owner)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                ).one_or_none()
                if is_uuid(task_id)
                else None
            )
            if found is None:
                raise NotFoundError(f"no task '{task_id}'")
            row, ht = found, self.task(task_id)
        self.instance_row = row
        require_open(ht)
        if row.status != "running":
            raise ConflictError(f"instance {row.id} is {row.status}")
        if ht.assignee != username:
            rules.require(
                action, rules.actor_of(s, username), ht
            )  # 403 for someone with no claim on the task
            if ht.assignee is not None:
                raise ConflictError(f"task {ht.id} is held by {ht.assignee}")  # 409 for a candidate
        return row, ht

    def owner(self, data: dict[str, Any]) -> tuple[str | None, str | None]:
        """The tenant and unit a new instance started by this step's actor belongs to.

        ``data.unit`` names the unit when it lies in the starter's tenant (another tenant's unit,
        or an unknown one, is refused as invalid start data, with one message for both); otherwise the starter's first unit. The
        system and the installation's people start instances of the implicit tenant, or of the
        named unit's tenant.
        """
        s = self.session
        actor = rules.actor_of(s, self.actor) if self.actor is not None else None
        tenant = actor.tenant if actor is not None else None
        named = data.get("unit")
        if isinstance(named, str) and named:
            found = s.execute(select(Unit.tenant).where(Unit.code == named)).first()
            if found is None or (
                found.tenant != tenant and not (actor is None or rules.sees_every_tenant(actor))
            ):
                raise InvalidInputError(f"no unit '{named}'", {"unit": [f"no unit '{named}' / 单位不存在"]})
            return found.tenant, named
        if self.actor is None:
            return None, None
        first = s.scalar(
            select(Unit.code)
            .join(UserPost, UserPost.unit_id == Unit.id)
            .where(UserPost.username == self.actor)
            .order_by(UserPost.id)
            .limit(1)
        )
        return tenant, first

    def require_view(self, target: Instance | HumanTask, viewer: str | None) -> None:
        """Nothing for ``viewer=None`` (the system); otherwise 403 unless they may see the task or instance (rules.py)."""
        if viewer is not None:
            rules.require("view", rules.actor_of(self.session, viewer), target)

    def form_for(self, row: Instance, element_id: str | None) -> dict[str, Any] | None:
        """The form of ``element_id`` as this instance shows and checks it (``Steps.form_views``)."""
        schema = self.runner.model_of(self.session, row).form_for(element_id) if element_id else None
        if schema is not None:
            for view in self.steps.form_views:
                schema = view(self.session, row, schema)
        return schema

    # ---- moving the workflow ------------------------------------------------------------
    def start(
        self,
        definition: Definition,
        *,
        business_key: str | None,
        data: dict[str, Any],
        tenant: str | None = None,
        unit: str | None = None,
    ) -> StepContext:
        """Create an instance (of ``tenant``, for ``unit``) and run it to its first wait (a failing
        diagram leaves it in error, not raised)."""
        ctx = self.runner.start(
            self.session,
            definition,
            actor=self.actor,
            business_key=business_key,
            data=data,
            tenant=tenant,
            unit=unit,
        )
        self.instance_row = ctx.row
        self._advanced.append((ctx, False))
        self._react(ctx)
        return ctx

    def start_by_message(
        self,
        name: str,
        source: Instance,
        business_key: str | None,
        payload: Any,
        correlations: dict[str, Any],
    ) -> bool:
        """Start the process whose start event waits for message ``name`` (in the thrower's tenant) and
        hand it the message; False when no deployed process starts that way."""
        definition = self.runner.catalog.started_by(self.session, name, source.tenant)
        if definition is None:
            return False
        mine = self.instance_row
        started = self.runner.start(
            self.session,
            definition,
            actor=self.actor,
            business_key=business_key,
            data={},
            tenant=source.tenant,
            unit=source.unit,
        )
        self.session.flush()  # its start event's subscription is written before the message consumes it
        self._advanced.append((started, True))
        self.instance_row = mine
        if started.error is not None:
            raise UnroutableMessageError(
                f"process '{definition.key}' started by message '{name}' failed: {started.error}",
                message=name,
                instance_id=source.id,
            )
        self.record(
            audit.MESSAGE,
            actor=self.actor,
            instance_id=started.row.id,
            data={"name": name, "payload": payload, "from_instance": source.id},
        )
        event = message_event(name, payload, correlations)

        def catch(wf: Any) -> None:
            if wf.event_manager.catch(event, internal=False) == 0:
                raise UnroutableMessageError(
                    f"process '{definition.key}' did not start on message '{name}'", message=name
                )

        ctx = self.advance(started.row, catch)
        if ctx.error is not None:
            raise UnroutableMessageError(
                f"process '{definition.key}' started by message '{name}' failed: {ctx.error}",
                message=name,
                instance_id=source.id,
            )
        return True

    def advance(
        self,
        row: Instance,
        action: Callable[[Any], None],
        *,
        actor: str | None = None,
        reopening: bool = False,
    ) -> StepContext:
        """Apply ``action`` to the instance's workflow and run what follows (runner.py)."""
        return self._stepped(
            row,
            lambda: self.runner.step(
                self.session,
                row,
                actor=actor if actor is not None else self.actor,
                action=action,
                reopening=reopening,
            ),
        )

    def migrate(self, row: Instance, target: Definition, move: Callable[[Any, Any], None]) -> StepContext:
        """Move the instance onto version ``target`` with ``move`` and run what follows (runner.py)."""
        return self._stepped(
            row, lambda: self.runner.migrate(self.session, row, target, actor=self.actor, move=move)
        )

    def _stepped(self, row: Instance, run: Callable[[], StepContext]) -> StepContext:
        """Run one step of ``row`` and flush it; a concurrent change of the row is a conflict."""
        try:
            ctx = run()
            self.session.flush()
        except StaleDataError as exc:
            raise ConflictError(f"instance {row.id} was changed concurrently; retry") from exc
        self._advanced.append((ctx, True))
        self._react(ctx)
        return ctx

    def _react(self, ctx: StepContext) -> None:
        """Run the engine's reactions to what the diagram just did, in this step's transaction (a
        reaction that refuses rolls the whole step back); none after the diagram failed."""
        if ctx.error is None:
            for reaction in self.steps.reactions:
                reaction(self, ctx)
            relay.relay(self, ctx)

    def complete_task(
        self,
        row: Instance,
        ht: HumanTask,
        username: str,
        data: dict[str, Any],
        *,
        event: str = audit.TASK_COMPLETE,
    ) -> StepContext:
        """Complete the BPMN user task behind ``ht`` with ``data`` and run what follows."""
        task_id = ht.id

        def action(wf: Any) -> None:
            task = wf.get_task_from_id(UUID(task_id))
            if task is None or not task.has_state(TaskState.READY):
                raise ConflictError(f"task {task_id} is no longer waiting")
            task.data.update(data)
            task.run()

        ht.status = "completed"
        ht.completed_at = self.now
        ht.completed_by = username
        ht.assignee = ht.assignee or username
        ht.decision = data.get("decision") if isinstance(data.get("decision"), str) else None
        audit.record(
            self.session,
            event,
            self.now,
            actor=username,
            instance_id=row.id,
            element_id=ht.element_id,
            task_id=task_id,
            data={"form": data},
        )
        ctx = self.advance(row, action, actor=username)
        if ctx.error is None:
            self.emit(
                "task.completed", row, {"task_id": task_id, "element_id": ht.element_id, "by": username}
            )
        return ctx

    # ---- telling ------------------------------------------------------------------------
    def emit(self, event: str, row: Instance, data: dict[str, Any]) -> None:
        """Outbound events (webhooks subscribe here); written in the step's transaction."""
        for listener in self.steps.listeners:
            listener(self.session, event, row, data)

    def offered(self, ht: HumanTask, people: list[str] | None = None) -> None:
        """``ht`` now waits for people it did not wait for before, outside a diagram's step (a
        transfer, a delegation, the next signer's turn): the offer hooks tell them (``people``,
        else its holders), never the one who did it."""
        for hook in self.steps.offer_hooks:
            hook(self.session, ht, self.now, self.actor, people)

    def record(self, event: str, *, actor: str | None, **fields: Any) -> None:
        """An audit row at the step's ``now``."""
        audit.record(self.session, event, self.now, actor=actor, **fields)

    def instance_record(self, row: Instance, *, with_tasks: bool = True) -> InstanceRecord:
        return instance_record(self.session, row, with_tasks=with_tasks)

    # ---- the end ------------------------------------------------------------------------
    def settle(self) -> None:
        """After the commit: keep advanced workflows warm, then raise a diagram's failure."""
        for ctx, _ in self._advanced:
            self.runner.remember(ctx)
        for ctx, raising in self._advanced:
            if raising and ctx.error is not None:
                cause = ctx.error if isinstance(ctx.error, ScriptError) else None
                raise cause or ScriptError(f"the diagram failed: {ctx.error}")


def instance_record(s: Session, row: Instance, *, with_tasks: bool = True) -> InstanceRecord:
    tasks = []
    if with_tasks:
        tasks = [
            task_record(t)
            for t in s.scalars(
                select(HumanTask)
                .where(HumanTask.instance_id == row.id, HumanTask.status == "open")
                .order_by(HumanTask.created_at)
            )
        ]
    return InstanceRecord(
        row.id,
        row.process_key,
        row.version,
        row.business_key,
        row.status,
        dict(row.data or {}),
        list(row.active_elements or []),
        tasks,
        row.started_by,
        row.created_at,
        row.updated_at,
        row.ended_at,
        row.error,
        list(row.visited or []),
    )


def require_open(ht: HumanTask) -> None:
    if ht.status != "open":
        raise ConflictError(f"task {ht.id} is already {ht.status}")


def is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True
