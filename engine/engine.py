"""The Engine façade: the one object the API, the pages, the CLI and the worker talk to.

Each public method is one unit of work in its own transaction, takes plain values (usernames,
dicts) and returns records from ``records.py``. Usage::

    engine = Engine("sqlite:///jiebang.sqlite3")
    inst = engine.start("claim_evaluate", actor="zhang", data={...})
    task = engine.list_tasks("zhang", scope="mine").items[0]
    engine.complete(task.id, "zhang", {"title": ...})

The module is long because it is the whole public surface in one place; each method stays a
thin unit of work over catalog, runner, inbox, rules and the approval and integration mixins.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Row, delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import approval, audit, claims, identity, inbox, jobs, rules
from . import forms as formlib
from .approval import ApprovalMixin
from .catalog import Catalog
from .clock import Clock, SystemClock
from .errors import (
    ConflictError,
    InvalidInputError,
    NotAllowedError,
    NotFoundError,
    Problem,
    ScriptError,
)
from .integration import IntegrationMixin
from .records import (
    AuditRecord,
    DefinitionRecord,
    InstanceRecord,
    JobRecord,
    Page,
    TaskDetail,
    TaskRecord,
    UserRecord,
)
from .runner import Runner, StepContext, fire_timer, message_event
from .scripting import HELPER_NAMES, make_script_engine
from .store import Store, counted_page
from .tables import AuditEvent, Definition, HumanTask, Instance, Job, MessageSubscription, TaskCandidate
from .taskdata import DEFAULT_MAX_DATA_BYTES

log = logging.getLogger("jiebang.engine")

SCOPES = ("mine", "candidate", "involved", "cc")
TOKEN_CACHE_SECONDS = 10.0  # another process's change of a user's groups or roles shows within this
JobHandler = Callable[["Engine", Job, bool], None]
Listener = Callable[[Session, str, Instance, dict[str, Any]], None]


def shipped_dirs() -> tuple[Path, Path]:
    import bpmn
    import forms

    return Path(bpmn.__file__).parent, Path(forms.__file__).parent


class Engine(IntegrationMixin, ApprovalMixin):
    def __init__(
        self,
        database_url: str | None = None,
        *,
        clock: Clock | None = None,
        lane_groups: Mapping[str, str] | None = None,
        script_time_limit: float = 2.0,
        max_data_bytes: int | None = None,
        deploy_shipped: bool = True,
        store: Store | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.store = store or Store(database_url)
        bpmn_dir, forms_dir = shipped_dirs()
        self.catalog = Catalog([forms_dir])
        data_limit = max_data_bytes or _env_int("JIEBANG_MAX_DATA_BYTES", DEFAULT_MAX_DATA_BYTES)
        self.runner = Runner(
            self.catalog, self.clock,
            lambda: make_script_engine(self.clock.now, time_limit=script_time_limit, max_data_bytes=data_limit),
            max_data_bytes=data_limit,
        )
        self.lane_groups = dict(lane_groups or {})
        self.runner.lane_groups = self.lane_groups
        self.job_handlers: dict[str, JobHandler] = {"timer": _run_timer_job}
        self.listeners: list[Listener] = []
        self._tokens: dict[str, tuple[float, UserRecord]] = {}  # token -> (valid until, user); see authenticate
        self.job_lease = jobs.LEASE  # how long a taken job stays with this worker (JIEBANG_JOB_LEASE_SECONDS)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        claims.install(self)
        approval.install(self)
        if deploy_shipped:
            self.deploy_shipped(bpmn_dir)
        self._install_integration()

    # ---- identity -----------------------------------------------------------------------
    def upsert_user(self, username: str, *, display_name: str | None = None, groups: list[str] | None = None, roles: list[str] | None = None) -> UserRecord:
        self._tokens.clear()  # groups and roles may change: tokens are looked up afresh
        with self.store.write() as s:
            return identity.upsert_user(s, username, now=self.clock.now(), display_name=display_name, groups=groups, roles=roles)

    def get_user(self, username: str) -> UserRecord:
        with self.store.read() as s:
            return identity.get_user(s, username)

    def list_users(self, query: str | None = None, limit: int = 50) -> list[UserRecord]:
        with self.store.read() as s:
            return identity.list_users(s, query, limit)

    def list_groups(self) -> dict[str, list[str]]:
        with self.store.read() as s:
            return identity.list_groups(s)

    def create_token(self, username: str) -> str:
        with self.store.write() as s:
            return identity.create_token(s, username, now=self.clock.now())

    def authenticate(self, token: str) -> UserRecord | None:
        """The user a bearer token belongs to; remembered for a few seconds, as every request asks."""
        now = time.monotonic()
        hit = self._tokens.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.store.read() as s:
            user = identity.authenticate_token(s, token)
        if user is not None:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[token] = (now + TOKEN_CACHE_SECONDS, user)
        return user

    def set_password(self, username: str, password: str) -> None:
        with self.store.write() as s:
            identity.set_password(s, username, password)

    def check_password(self, username: str, password: str) -> UserRecord | None:
        with self.store.read() as s:
            return identity.check_password(s, username, password)

    # ---- definitions --------------------------------------------------------------------
    def deploy(self, files: Mapping[str, bytes], *, actor: str | None = None) -> DefinitionRecord:
        """Deploy BPMN/DMN (+ forms) as the next version of its key; identical content is not re-versioned."""
        with self.store.write() as s:
            row = self.catalog.deploy(s, files, now=self.clock.now(), deployed_by=actor)
            audit.record(s, audit.MODEL_DEPLOY, self.clock.now(), actor=actor, data={"key": row.key, "version": row.version})
            self.catalog.model(row)
            return self._definition_record(s, row)

    def validate(self, files: Mapping[str, bytes]) -> list[Problem]:
        return self.catalog.validate(files)

    def deploy_shipped(self, bpmn_dir: Path | None = None) -> list[DefinitionRecord]:
        """Deploy the diagrams that ship with Jiebang (a no-op when already deployed)."""
        folder = bpmn_dir or shipped_dirs()[0]
        out = []
        for path in sorted(folder.glob("*.bpmn")):
            files = {path.name: path.read_bytes()}
            dmn = path.with_suffix(".dmn")
            if dmn.exists():
                files[dmn.name] = dmn.read_bytes()
            out.append(self.deploy(files, actor="system"))
        return out

    def list_definitions(self) -> list[DefinitionRecord]:
        with self.store.read() as s:
            newest = select(Definition.key, func.max(Definition.version).label("v")).group_by(Definition.key).subquery()
            rows = s.scalars(
                select(Definition).join(newest, (Definition.key == newest.c.key) & (Definition.version == newest.c.v)).order_by(Definition.key)
            )
            return [self._definition_record(s, r) for r in rows]

    def get_definition(self, key: str, version: int | None = None) -> DefinitionRecord:
        with self.store.read() as s:
            return self._definition_record(s, self.catalog.get_row(s, key, version))

    def definition_files(self, key: str, version: int) -> dict[str, str]:
        with self.store.read() as s:
            return dict(self.catalog.get_row(s, key, version).files)

    def _definition_record(self, s: Session, row: Definition) -> DefinitionRecord:
        model = self.catalog.model(row)
        versions = list(s.scalars(select(Definition.version).where(Definition.key == row.key).order_by(Definition.version)))
        lanes = {lane: self.runner.lane_rule(model, lane) for lane in model.lanes}
        return DefinitionRecord(row.id, row.key, row.version, row.name, lanes, dict(model.task_forms), row.created_at, row.deployed_by, list(row.notes or []), versions)

    # ---- instances ----------------------------------------------------------------------
    def start(
        self,
        process_key: str,
        *,
        actor: str | None,
        version: int | None = None,
        business_key: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> InstanceRecord:
        data = dict(data or {})
        self._check_data_names(data)
        with self.store.write() as s:
            definition = self.catalog.get_row(s, process_key, version)
            ctx = self.runner.start(s, definition, actor=actor, business_key=business_key, data=data)
            record = self._instance_record(s, ctx.row)
        self.runner.remember(ctx)  # the first task's completion then skips loading what was just saved
        return record

    def get_instance(self, instance_id: str, *, viewer: str | None = None) -> InstanceRecord:
        """An instance; with ``viewer``, only if that person may see it (rules.py)."""
        with self.store.read() as s:
            row = self._instance(s, instance_id)
            self._require_view(s, row, viewer)
            return self._instance_record(s, row)

    def _require_view(self, s: Session, row: Instance, viewer: str | None) -> None:
        if viewer is not None and not rules.may_view_instance(s, row, viewer):
            raise NotAllowedError(f"{viewer} is not involved in instance {row.id}")

    def list_instances(
        self, *, process_key: str | None = None, status: str | None = None, business_key: str | None = None, offset: int = 0, limit: int = 50
    ) -> Page:
        with self.store.read() as s:
            stmt = select(Instance)
            if process_key:
                stmt = stmt.where(Instance.process_key == process_key)
            if status:
                stmt = stmt.where(Instance.status == status)
            if business_key:
                stmt = stmt.where(Instance.business_key == business_key)
            rows, total = counted_page(s, stmt, Instance.created_at.desc(), Instance.id, offset=offset, limit=limit)
            return Page([self._instance_record(s, r, with_tasks=False) for r in rows.scalars()], total)

    def history(self, instance_id: str, *, viewer: str | None = None) -> list[AuditRecord]:
        with self.store.read() as s:
            self._require_view(s, self._instance(s, instance_id), viewer)
            rows = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id))
            return [AuditRecord(r.id, r.instance_id, r.at, r.actor, r.event, r.element_id, r.task_id, dict(r.data or {})) for r in rows]

    def cancel(self, instance_id: str, *, actor: str | None, reason: str = "") -> InstanceRecord:
        """Stop an instance for good (its starter or an admin; ``actor=None`` is the system itself)."""
        with self.store.write() as s:
            row = self._lock_instance(s, instance_id)
            if actor is not None and not rules.may_cancel(s, row, actor):
                raise NotAllowedError("only the starter or an admin may cancel an instance / 仅发起人或管理员可撤销")
            if row.status not in ("running", "error"):
                raise ConflictError(f"instance {instance_id} is {row.status}")
            now = self.clock.now()
            row.status = "cancelled"
            row.ended_at = now
            row.updated_at = now
            open_ids = list(s.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.status.in_(("open", "suspended")))))
            if open_ids:
                s.execute(delete(TaskCandidate).where(TaskCandidate.task_id.in_(open_ids)))
                for ht in s.scalars(select(HumanTask).where(HumanTask.id.in_(open_ids))):
                    ht.status = "cancelled"
                    ht.completed_at = now
            s.execute(delete(Job).where(Job.instance_id == instance_id, Job.kind == "timer"))
            s.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance_id))
            audit.record(s, audit.INSTANCE_CANCEL, now, actor=actor, instance_id=instance_id, data={"reason": reason})
            self._emit(s, "instance.cancelled", row, {"reason": reason})
            return self._instance_record(s, row)

    def send_message(
        self, name: str, *, actor: str | None, payload: dict[str, Any] | None = None, business_key: str | None = None, instance_id: str | None = None
    ) -> list[str]:
        """Deliver a message to every instance waiting for it (by instance id or business key)."""
        if not name:
            raise InvalidInputError("message name required", {"name": ["required / 必填项"]})
        if business_key is None and instance_id is None:
            raise InvalidInputError("business_key or instance_id required", {"business_key": ["business_key or instance_id required / 需指定业务键或实例"]})
        payload = dict(payload or {})
        self.runner.check_input(payload, "message payload")
        with self.store.read() as s:
            stmt = select(MessageSubscription.instance_id).where(MessageSubscription.message_name == name).distinct()
            if instance_id is not None:
                stmt = stmt.where(MessageSubscription.instance_id == instance_id)
            if business_key is not None:
                stmt = stmt.where(MessageSubscription.business_key == business_key)
            targets = sorted(s.scalars(stmt))
        if not targets:
            raise NotFoundError(f"no instance waits for message '{name}'")
        delivered = []
        for target in targets:
            with self.store.write() as s:
                row = self._lock_instance(s, target)
                waiting = s.scalar(select(func.count()).select_from(MessageSubscription).where(MessageSubscription.instance_id == target, MessageSubscription.message_name == name))
                if not waiting or row.status != "running":
                    continue
                audit.record(s, audit.MESSAGE, self.clock.now(), actor=actor, instance_id=target, data={"name": name, "payload": payload})
                ctx = self._step(s, row, actor, lambda wf: wf.send_event(message_event(name, payload)))
            self.runner.remember(ctx)
            self._raise_if_failed(ctx)
            delivered.append(target)
        if not delivered:
            raise ConflictError(f"no instance waits for message '{name}' any more")
        return delivered

    # ---- tasks --------------------------------------------------------------------------
    def list_tasks(
        self,
        username: str,
        *,
        scope: str = "involved",
        status: str | None = "open",
        process_key: str | None = None,
        business_key: str | None = None,
        offset: int = 0,
        limit: int = 50,
        groups: list[str] | None = None,
    ) -> Page:
        """One page of ``username``'s inbox, newest first (``groups``: theirs, when the caller knows them)."""
        if scope not in SCOPES:
            raise InvalidInputError(f"unknown scope '{scope}'", {"scope": [f"one of {', '.join(SCOPES)} / 范围无效"]})
        if scope == "cc":
            return self.list_cc(username, offset=offset, limit=limit)  # items are CcRecord: instances copied to me
        if groups is None:
            with self.store.read() as s:
                groups = identity.groups_of(s, username)
        with self.store.statement() as conn:
            rows, total = inbox.page(
                conn, username, list(groups), scope, status=status, process_key=process_key, business_key=business_key,
                offset=offset, limit=limit,
            )
        return Page([_task_record(r) for r in rows], total)

    def get_task(self, task_id: str, username: str | None = None) -> TaskDetail:
        """A task with its form and the data the form starts from; with ``username``, only if visible to them."""
        with self.store.read() as s:
            ht = self._task(s, task_id)
            row = s.get(Instance, ht.instance_id)
            self._require_view(s, row, username)
            model = self.runner.model_of(s, row)
            schema = model.form_for(ht.element_id)
            start = {**(row.data or {}), **(ht.draft or {})}  # a delegate's or an earlier signer's work comes first
            return TaskDetail(_task_record(ht), schema, formlib.form_data(schema, start))

    def claim(self, task_id: str, username: str, *, groups: list[str] | None = None) -> TaskRecord:
        """Take a task from a group queue (``groups``: the person's, when the caller knows them)."""
        with self.store.write() as s:
            ht = self._task(s, task_id, lock=True)
            self._require_open(ht)
            if ht.assignee == username:
                return _task_record(ht)
            if ht.assignee is not None:
                raise ConflictError(f"task {task_id} is held by {ht.assignee}")
            self._require_candidate(s, ht, username, groups=groups)
            ht.assignee = username
            inbox.reindex(s, ht)
            audit.record(s, audit.TASK_CLAIM, self.clock.now(), actor=username, instance_id=ht.instance_id, element_id=ht.element_id, task_id=task_id)
            return _task_record(ht)

    def unclaim(self, task_id: str, username: str) -> TaskRecord:
        with self.store.write() as s:
            ht = self._task(s, task_id, lock=True)
            self._require_open(ht)
            if ht.assignee != username:
                if ht.assignee is None:
                    raise ConflictError(f"task {task_id} is not claimed")
                raise ConflictError(f"task {task_id} is held by {ht.assignee}")
            if not ht.candidate_groups:
                raise ConflictError(f"task {task_id} is assigned to {username} by its lane and cannot be released")
            ht.assignee = None
            inbox.reindex(s, ht)
            audit.record(s, audit.TASK_UNCLAIM, self.clock.now(), actor=username, instance_id=ht.instance_id, element_id=ht.element_id, task_id=task_id)
            return _task_record(ht)

    def complete(self, task_id: str, username: str, data: dict[str, Any] | None) -> InstanceRecord:
        """Validate ``data`` against the task's form, complete the task and run what follows.

        A delegated task completed by its delegate goes back to its owner to confirm; a signer's
        part of a task counts towards the step, which completes once its signing rule is met.
        """
        data = data if data is not None else {}
        with self.store.write() as s:
            row, ht = self._task_for_work(s, task_id, username)
            model = self.runner.model_of(s, row)
            formlib.validate(model.form_for(ht.element_id), data)
            self._check_data_names(data)
            self.runner.check_input(data, "this form's data", stored=row.data)
            ctx = approval.complete(self, s, row, ht, username, data)
            record = self._instance_record(s, row)
        if ctx is not None:
            self.runner.remember(ctx)
            self._raise_if_failed(ctx)
        return record

    def _task_for_work(self, s: Session, task_id: str, username: str) -> tuple[Instance, HumanTask]:
        """Lock the task's instance and check that ``username`` may work the open task now."""
        if self.store.is_sqlite:  # the write transaction holds the database's one write lock already
            ht = self._task(s, task_id)
            row = self._instance(s, ht.instance_id)
        else:
            # Lock the instance first, then read the task: under the lock a racing completion is visible.
            owner = select(HumanTask.instance_id).where(HumanTask.id == task_id).scalar_subquery()
            found = s.scalars(select(Instance).where(Instance.id == owner).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none() if _is_uuid(task_id) else None
            if found is None:
                raise NotFoundError(f"no task '{task_id}'")
            row, ht = found, self._task(s, task_id)
        self._require_open(ht)
        if row.status != "running":
            raise ConflictError(f"instance {row.id} is {row.status}")
        if ht.assignee is not None and ht.assignee != username:
            self._require_candidate(s, ht, username, held=True)
        elif ht.assignee is None:
            self._require_candidate(s, ht, username)
        return row, ht

    def finish_task(self, s: Session, row: Instance, ht: HumanTask, username: str, data: dict[str, Any], *, event: str = audit.TASK_COMPLETE) -> StepContext:
        """Complete the BPMN user task behind ``ht`` with ``data`` and run what follows (one step)."""
        now = self.clock.now()
        task_id = ht.id

        def action(wf: Any) -> None:
            task = wf.get_task_from_id(UUID(task_id))
            if task is None or not task.has_state(TaskState.READY):
                raise ConflictError(f"task {task_id} is no longer waiting")
            task.data.update(data)
            task.run()

        ht.status = "completed"
        ht.completed_at = now
        ht.completed_by = username
        ht.assignee = ht.assignee or username
        ht.decision = data.get("decision") if isinstance(data.get("decision"), str) else None
        audit.record(s, event, now, actor=username, instance_id=row.id, element_id=ht.element_id, task_id=task_id, data={"form": data})
        ctx = self._step(s, row, username, action)
        if ctx.error is None:
            self._emit(s, "task.completed", row, {"task_id": task_id, "element_id": ht.element_id, "by": username})
        return ctx

    # ---- the claim-and-evaluate read models -------------------------------------------------
    def board(self, *, category: str | None = None) -> list[dict[str, Any]]:
        with self.store.read() as s:
            return claims.board(s, self.clock.now(), category=category)

    def file_claim(self, instance_id: str, actor: str, claim: dict[str, Any]) -> InstanceRecord:
        claims.file_claim(self, instance_id, actor, claim)
        return self.get_instance(instance_id)

    def scores(self, period: str | None = None) -> tuple[str, list[dict[str, Any]]]:
        with self.store.read() as s:
            period = claims.validate_period(period, self.clock.now())
            rows = [
                {"username": r.username, "points": r.points, "instance_id": r.instance_id, "reason": r.reason, "awarded_at": r.awarded_at}
                for r in claims.scores(s, period)
            ]
            return period, rows

    def leaderboard(self, period: str | None = None) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        with self.store.read() as s:
            period = claims.validate_period(period, self.clock.now())
            return period, claims.leaderboard(s, period), claims.titles(s, period)

    # ---- jobs ---------------------------------------------------------------------------
    def list_jobs(self, *, instance_id: str | None = None, kind: str | None = None, offset: int = 0, limit: int = 100) -> Page:
        with self.store.read() as s:
            stmt = select(Job)
            if instance_id:
                stmt = stmt.where(Job.instance_id == instance_id)
            if kind:
                stmt = stmt.where(Job.kind == kind)
            rows, total = counted_page(s, stmt, Job.due_at, Job.id, offset=offset, limit=limit)
            return Page([_job_record(j) for j in rows.scalars()], total)

    def execute_job(self, job_id: str, *, actor: str | None = None) -> None:
        """Run one job now, whatever its due time (close a claim window early, retry a delivery)."""
        with self.store.read() as s:
            if s.get(Job, job_id) is None:
                raise NotFoundError(f"no job '{job_id}'")
        self._run_job(job_id, actor=actor, force=True)

    def run_due_jobs(self, *, limit: int = 50, kinds: list[str] | None = None) -> int:
        """Lease due jobs and run each in its own transaction; returns how many ran."""
        with self.store.write() as s:
            ids = jobs.acquire(s, self.worker_id, self.clock.now(), limit=limit, skip_locked=not self.store.is_sqlite, kinds=kinds, lease=self.job_lease)
        for job_id in ids:
            self._run_job(job_id, actor="system", force=False)
        return len(ids)

    def _run_job(self, job_id: str, *, actor: str | None, force: bool) -> None:
        with self.store.read() as s:
            job = s.get(Job, job_id)
            if job is None:
                return
            handler = self.job_handlers.get(job.kind)
        try:
            if handler is None:
                raise RuntimeError(f"no handler for job kind '{job.kind}'")
            handler(self, job, force)
        except (ConflictError, NotFoundError) as exc:
            self._job_failed(job_id, str(exc))
        except Exception as exc:  # a job must never kill the worker; its error stays on the row
            log.exception("job %s failed", job_id)
            self._job_failed(job_id, f"{type(exc).__name__}: {exc}")

    def _job_failed(self, job_id: str, error: str) -> None:
        with self.store.write() as s:
            job = s.get(Job, job_id)
            if job is not None:
                jobs.retry_later(job, self.clock.now(), error)

    # ---- internals ----------------------------------------------------------------------
    def _step(self, s: Session, row: Instance, actor: str | None, action: Callable[[Any], None], *, reopening: bool = False) -> StepContext:
        try:
            ctx = self.runner.step(s, row, actor=actor, action=action, reopening=reopening)
            s.flush()
        except StaleDataError as exc:
            raise ConflictError(f"instance {row.id} was changed concurrently; retry") from exc
        return ctx

    @staticmethod
    def _raise_if_failed(ctx: StepContext) -> None:
        if ctx.error is not None:
            cause = ctx.error if isinstance(ctx.error, ScriptError) else None
            raise cause or ScriptError(f"the diagram failed: {ctx.error}")

    def _emit(self, s: Session, event: str, row: Instance, data: dict[str, Any]) -> None:
        """Outbound events (webhooks subscribe here); written in the step's transaction."""
        for listener in self.listeners:
            listener(s, event, row, data)

    def _instance(self, s: Session, instance_id: str) -> Instance:
        row = s.get(Instance, instance_id)
        if row is None:
            raise NotFoundError(f"no process instance '{instance_id}'")
        return row

    def _lock_instance(self, s: Session, instance_id: str) -> Instance:
        if self.store.is_sqlite:
            return self._instance(s, instance_id)
        row = s.get(Instance, instance_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFoundError(f"no process instance '{instance_id}'")
        return row

    def _task(self, s: Session, task_id: str, *, lock: bool = False) -> HumanTask:
        ht = s.get(HumanTask, task_id, with_for_update=lock and not self.store.is_sqlite) if _is_uuid(task_id) else None
        if ht is None:
            raise NotFoundError(f"no task '{task_id}'")
        return ht

    @staticmethod
    def _require_open(ht: HumanTask) -> None:
        if ht.status != "open":
            raise ConflictError(f"task {ht.id} is already {ht.status}")

    def _require_candidate(self, s: Session, ht: HumanTask, username: str, *, held: bool = False, groups: list[str] | None = None) -> None:
        """403 for someone with no claim on the task; 409 for a candidate when a colleague holds it."""
        mine = groups if groups is not None else identity.groups_of(s, username)
        is_candidate = bool(set(mine) & set(ht.candidate_groups))
        if not is_candidate:
            raise NotAllowedError(f"{username} may not work task {ht.id}")
        if held:
            raise ConflictError(f"task {ht.id} is held by {ht.assignee}")

    def _check_data_names(self, data: dict[str, Any]) -> None:
        clash = sorted(k for k in data if k in HELPER_NAMES or k.startswith("_"))
        if clash:
            raise InvalidInputError(f"reserved field names: {', '.join(clash)}", {k: ["reserved name / 保留字段名"] for k in clash})

    def _instance_record(self, s: Session, row: Instance, *, with_tasks: bool = True) -> InstanceRecord:
        tasks = []
        if with_tasks:
            tasks = [
                _task_record(t)
                for t in s.scalars(select(HumanTask).where(HumanTask.instance_id == row.id, HumanTask.status == "open").order_by(HumanTask.created_at))
            ]
        return InstanceRecord(
            row.id, row.process_key, row.version, row.business_key, row.status, dict(row.data or {}), list(row.active_elements or []),
            tasks, row.started_by, row.created_at, row.updated_at, row.ended_at, row.error, list(row.visited or []),
        )


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name) or default)
    except ValueError:
        return default


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def _task_record(ht: HumanTask | Row) -> TaskRecord:
    return TaskRecord(
        ht.id, ht.instance_id, ht.process_key, ht.business_key, ht.element_id, ht.name, ht.lane, list(ht.candidate_groups or []),
        ht.assignee, ht.status, ht.created_at, ht.due_at, ht.completed_at, ht.completed_by, ht.form,
        ht.kind or "task", ht.parent_id, ht.owner, ht.sign_mode, bool(ht.returned),
    )


def _job_record(job: Job) -> JobRecord:
    return JobRecord(job.id, job.kind, job.instance_id, job.element_id, job.due_at, job.attempts, job.last_error, dict(job.payload or {}))


def _run_timer_job(engine: Engine, job: Job, force: bool) -> None:
    """Fire a timer: one instance step; the job row disappears in the same transaction."""
    with engine.store.write() as s:
        row = engine._lock_instance(s, job.instance_id)
        live = s.get(Job, job.id)
        if live is None:
            return  # fired already, by another worker or by the instance moving on
        if row.status != "running":
            raise ConflictError(f"instance {row.id} is {row.status}")
        now = engine.clock.now()

        def action(wf: Any) -> None:
            if force:
                fire_timer(wf, job.task_id, now)

        ctx = engine._step(s, row, "system", action)
        still = s.get(Job, job.id)
        if still is not None and ctx.error is None:
            if still.due_at <= now and not force:
                raise ConflictError(f"timer {job.id} did not fire at {now.isoformat()}")
            jobs.release(still)
    engine.runner.remember(ctx)
    engine._raise_if_failed(ctx)


