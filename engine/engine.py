"""The Engine façade: the one object the API, the pages, the CLI and the worker talk to.

Each public method is one unit of work in its own transaction, takes plain values (usernames,
dicts) and returns records from ``records.py``. Usage::

    engine = Engine("sqlite:///jiebang.sqlite3")
    inst = engine.start("claim_evaluate", actor="zhang", data={...})
    task = engine.list_tasks("zhang", scope="mine").items[0]
    engine.complete(task.id, "zhang", {"title": ...})

The module is long because it is the whole public surface in one place; each method that
changes something opens one ``Step`` (runtime/step.py) and calls one operation (operations.py,
approval/*, challenge/board.py); the reads are short queries over catalog, inbox and rules.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import (
    analytics,
    assignment,
    audit,
    identity,
    inbox,
    observe,
    operations,
    organisation,
    orgimport,
    postqueues,
    rules,
)
from .analytics import ProcessAnalytics
from .appraisal import AppraisalMixin
from .approval import ReturnTarget, handover, notify, policies, returns, signing
from .attachments import AttachmentsMixin
from .campaigns import CampaignsMixin
from .challenge import board as challenge
from .definitions import forms as formlib
from .definitions.catalog import MAX_VERSION, Catalog, parse_prepared
from .definitions.diff import DefinitionDiff, diff_versions
from .errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    Problem,
)
from .frontline import FrontlineMixin
from .incidents import IncidentsMixin
from .integration.service import IntegrationMixin
from .jobs import leasing as jobs
from .jobs import loop, timers
from .migration import MigrationMixin
from .notifications import NotificationsMixin
from .observe import Gauges, Observer
from .records import (
    AuditRecord,
    DefinitionRecord,
    InstanceRecord,
    OrgImportReport,
    Page,
    PostRecord,
    TaskDetail,
    TaskRecord,
    TokenRecord,
    UnitDetail,
    UnitRecord,
    UserRecord,
    job_record,
    task_record,
)
from .runtime.clock import Clock, SystemClock
from .runtime.runner import Runner
from .runtime.step import CompletionCheck, JobHandler, Listener, Steps
from .runtime.taskdata import DEFAULT_MAX_DATA_BYTES
from .sandbox.environment import make_script_engine
from .sanhao import SanhaoMixin
from .store import Store, counted_page
from .tables import (
    AuditEvent,
    Definition,
    HumanTask,
    Instance,
    Job,
    MessageSubscription,
    ScoreEntry,
    Unit,
    User,
)
from .villages import VillagesMixin

SCOPES = ("mine", "candidate", "involved", "cc")
DISCARD_REASON = "发起人撤销草稿"  # recorded as the reason, like a reason a person types


def shipped_dirs() -> tuple[Path, Path]:
    import bpmn
    import forms

    return Path(bpmn.__file__).parent, Path(forms.__file__).parent


class Engine(
    IntegrationMixin,
    NotificationsMixin,
    CampaignsMixin,
    AttachmentsMixin,
    IncidentsMixin,
    MigrationMixin,
    AppraisalMixin,
    FrontlineMixin,
    SanhaoMixin,
    VillagesMixin,
):
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
            self.catalog,
            self.clock,
            lambda: make_script_engine(
                self.clock.now, time_limit=script_time_limit, max_data_bytes=data_limit
            ),
            max_data_bytes=data_limit,
        )
        self.lane_groups = dict(lane_groups or {})
        self.runner.lane_groups = self.lane_groups
        self.steps = Steps(self.store, self.clock, self.runner)
        self.job_handlers: dict[str, JobHandler] = self.steps.job_handlers
        self.job_handlers["timer"] = timers.timer_handler(self.steps)
        self.listeners: list[Listener] = self.steps.listeners
        self.completion_checks: list[CompletionCheck] = self.steps.completion_checks
        self.engine_messages: set[str] = self.steps.engine_messages
        self.token_lifetime: timedelta | None = None  # new tokens' default lifetime; see configure_identity
        self.job_lease = jobs.LEASE  # how long a taken job stays with this worker (JIEBANG_JOB_LEASE_SECONDS)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        observe.install(self.store)
        challenge.install(self.steps)
        policies.install(self.steps)
        self._install_campaigns()
        self._install_attachments()
        self._install_incidents()
        self._install_frontline()
        self._install_sanhao()
        self._install_villages()
        self._install_notifications()
        if deploy_shipped:
            self.deploy_shipped(bpmn_dir)
        self._install_integration()

    # ---- identity -----------------------------------------------------------------------
    def configure_identity(self, *, token_lifetime: timedelta | str | None) -> None:
        """Set the lifetime new tokens get unless told otherwise: ``90d``, ``12h``, ``never``/``None``."""
        self.token_lifetime = (
            identity.parse_lifetime(token_lifetime, "TOKEN_EXPIRES_IN")
            if isinstance(token_lifetime, str)
            else token_lifetime
        )

    def upsert_user(
        self,
        username: str,
        *,
        display_name: str | None = None,
        groups: list[str] | None = None,
        roles: list[str] | None = None,
        active: bool | None = None,
        posts: Sequence[Mapping[str, Any]] | None = None,
        actor: str | None = None,
    ) -> UserRecord:
        """Create or update a user. Deactivating ends their sessions and tokens at once and puts the
        open tasks they hold back in their groups' queue (audited); reactivating restores only login.

        ``posts`` (``[{unit, post, rank?}]``) replaces the posts the user holds, in the same
        transaction: a refused post leaves the user as they were.
        """
        now = self.clock.now()
        with self.store.write() as s:
            was = s.get(User, username)
            was_active = bool(was.active) if was is not None else True
            if was is None and actor is not None:  # a new person joins their creator's tenant
                tenant = self._tenant_of(s, actor)
                if tenant is not None:
                    identity.upsert_user(s, username, now=now, display_name=display_name)
                    s.get_one(User, username).tenant = tenant
            user = identity.upsert_user(
                s, username, now=now, display_name=display_name, groups=groups, roles=roles, active=active
            )
            if posts is not None:
                self._set_posts(s, username, posts, actor=actor, now=now)
            if was_active and not user.active:
                self._release_tasks_of(s, username, actor=actor, now=now)
                audit.record(s, audit.USER_DEACTIVATED, now, actor=actor, data={"username": username})
            elif not was_active and user.active:
                audit.record(s, audit.USER_ACTIVATED, now, actor=actor, data={"username": username})
                # back in their posts: the tasks waiting for a post only they hold come to them
                assignment.reresolve(s, postqueues.held_groups(s, username), now=now, actor=actor)
            return user

    def _release_tasks_of(self, s: Session, username: str, *, actor: str | None, now: datetime) -> None:
        """Open tasks held by a deactivated user go back to their candidate groups' queue.

        A task assigned by its lane (no candidate group) has no queue to go back to; it stays for an
        admin to transfer, and the audit says so.
        """
        held = s.scalars(
            select(HumanTask)
            .where(HumanTask.assignee == username, HumanTask.status == "open")
            .with_for_update()
        ).all()
        for ht in held:
            released = bool(ht.candidate_groups)
            if released:
                ht.assignee = None
                inbox.reindex(s, ht)
            audit.record(
                s,
                audit.TASK_RELEASED if released else audit.TASK_HOLDER_DEACTIVATED,
                now,
                actor=actor,
                instance_id=ht.instance_id,
                element_id=ht.element_id,
                task_id=ht.id,
                data={"username": username},
            )
            if released and ht.post_assignee == username:  # it followed their post: to whoever holds it now
                ht.assignee = username
                assignment.follow_post(s, ht, now=now, actor=actor)

    def _set_posts(
        self,
        s: Session,
        username: str,
        posts: Sequence[Mapping[str, Any]],
        *,
        actor: str | None,
        now: datetime,
    ) -> list[PostRecord]:
        wanted = [
            organisation.PostAssignment(str(p.get("unit", "")), str(p.get("post", "")), p.get("rank"))
            for p in posts
        ]
        if actor is not None:  # whoever gives posts needs the tenants the person leaves and joins
            me = rules.actor_of(s, actor)
            rules.require("manage_users", me)
            tenants = organisation.tenants_of_codes(s, [p.unit for p in wanted])
            current = organisation.tenant_of(s, username)
            for tenant in sorted(tenants | ({current} if current else set())):
                rules.require_org("assign_posts", rules.may_assign_posts(s, me, tenant))
        held = organisation.set_posts(s, username, wanted, now=now, actor=actor)
        audit.record(
            s,
            audit.USER_POSTS_SET,
            now,
            actor=actor,
            data={"username": username, "posts": [[p.unit, p.post, p.rank] for p in held]},
        )
        return held

    def posts_of(self, username: str) -> list[PostRecord]:
        """The posts a user holds, by unit from the root down."""
        with self.store.read() as s:
            return organisation.posts_of(s, username)

    # ---- organisation -------------------------------------------------------------------
    def put_unit(
        self,
        code: str,
        *,
        name: str,
        kind: str,
        parent: str | None = None,
        attributes: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> UnitRecord:
        """Create or update a unit; without ``parent`` it is a tenant's root (installation admins only).

        ``actor`` None is the command line. Audited as ``unit.created`` or ``unit.updated``.
        """
        now = self.clock.now()
        with self.store.write() as s:
            existing = s.scalar(select(Unit).where(Unit.code == code))
            if actor is not None:
                tenant = (
                    existing.tenant
                    if existing is not None
                    else (organisation.tenant_of_parent(s, parent) if parent is not None else None)
                )
                me = rules.actor_of(s, actor)
                if existing is not None and not rules.sees_tenant(s, actor, existing.tenant):
                    raise NotFoundError(f"no unit '{code}'")
                rules.require_org("manage_org", rules.may_manage_org(s, me, tenant))
            record = organisation.upsert_unit(
                s, code, name=name, kind=kind, parent=parent, attributes=attributes, now=now
            )
            audit.record(
                s,
                audit.UNIT_UPDATED if existing is not None else audit.UNIT_CREATED,
                now,
                actor=actor,
                data={"code": code, "name": record.name, "kind": kind, "parent": parent},
            )
            return record

    def get_unit(self, code: str, *, viewer: str | None = None) -> UnitDetail:
        """A unit with its children and members; another tenant's unit is unknown (404) to ``viewer``."""
        with self.store.read() as s:
            if viewer is not None and not rules.sees_tenant(s, viewer, organisation.tenant_of_unit(s, code)):
                raise NotFoundError(f"no unit '{code}'")
            return organisation.get_unit(s, code)

    def list_units(
        self,
        *,
        viewer: str | None = None,
        parent: str | None = None,
        kind: str | None = None,
        q: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Page:
        """Units from the root down, of ``viewer``'s tenant (every tenant for the installation's people)."""
        with self.store.read() as s:
            tenant = rules.tenant_of_actor(s, viewer) if viewer is not None else None
            items, total = organisation.list_units(
                s, tenant=tenant, parent=parent, kind=kind, q=q, offset=offset, limit=limit
            )
            return Page(items, total)

    def delete_unit(self, code: str, *, actor: str | None = None) -> None:
        """Remove a unit with no units under it, nobody in a post and no instance filed under it (409)."""
        now = self.clock.now()
        with self.store.write() as s:
            tenant = organisation.tenant_of_unit(s, code)
            if actor is not None:
                if not rules.sees_tenant(s, actor, tenant):
                    raise NotFoundError(f"no unit '{code}'")
                rules.require_org("manage_org", rules.may_manage_org(s, rules.actor_of(s, actor), tenant))
            organisation.delete_unit(s, code)
            audit.record(s, audit.UNIT_DELETED, now, actor=actor, data={"code": code, "tenant": tenant})

    def may_manage_org(self, username: str, tenant: str | None) -> bool:
        """Whether ``username`` may change units of ``tenant`` (``None``: create tenants); for the pages' buttons."""
        with self.store.read() as s:
            return rules.may_manage_org(s, rules.actor_of(s, username), tenant)

    def import_org(
        self, content: bytes, filename: str, *, dry_run: bool = False, actor: str | None = None
    ) -> OrgImportReport:
        """Units and people from an .xlsx or .csv file, all or nothing (see orgimport.py).

        Any bad cell leaves everything as it was and raises ``ImportInvalidError`` carrying the
        report (each problem with sheet, row and column); ``dry_run`` checks and counts only.
        """
        now = self.clock.now()
        with self.store.write() as s:
            found = orgimport.check(s, content, filename)
            if actor is not None:
                me = rules.actor_of(s, actor)
                for tenant in sorted(found.tenants, key=lambda t: t or ""):
                    rules.require_org("manage_org", rules.may_manage_org(s, me, tenant))
            if found.errors:
                raise orgimport.refuse(found)
            report = found.report()
            if not dry_run:
                orgimport.apply(s, found, now=now)
                audit.record(
                    s,
                    audit.ORG_IMPORTED,
                    now,
                    actor=actor,
                    data={"file": filename[:200], "units": report.units, "users": report.users},
                )
            return report

    @staticmethod
    def org_template() -> bytes:
        """The .xlsx template of ``import_org``: Chinese headers, example rows, the unit kinds."""
        return orgimport.template()

    def manages_unit(self, username: str, unit_code: str, *, role: str = "admin") -> bool:
        """Whether ``username`` holds ``role`` over unit ``unit_code`` (plainly in its tenant, or
        scoped over a unit above it): what the organisation's routes ask (rules.py)."""
        with self.store.read() as s:
            return rules.manages_unit(s, rules.actor_of(s, username), unit_code, role=role)

    def manages_user(self, username: str, target: str) -> bool:
        """Whether ``username`` administers person ``target`` (their tenant; a scoped admin: the
        units ``target`` holds posts in lie in the admin's subtree)."""
        with self.store.read() as s:
            return rules.manages_user(s, rules.actor_of(s, username), target)

    def display_names(self, usernames: Iterable[str]) -> dict[str, str]:
        """Each known username's display name (pages show people by name, never by login)."""
        wanted = sorted({u for u in usernames if u})
        if not wanted:
            return {}
        with self.store.read() as s:
            rows = s.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
            return {username: name or username for username, name in rows}

    def user_exists(self, username: str) -> bool:
        with self.store.read() as s:
            return s.get(User, username) is not None

    def get_user(self, username: str, *, viewer: str | None = None) -> UserRecord:
        """A user; with ``viewer``, another tenant's person is not found."""
        with self.store.read() as s:
            record = identity.get_user(s, username)
            if viewer is not None and not rules.in_tenant(rules.actor_of(s, viewer), record.tenant):
                raise NotFoundError(f"no user '{username}'")
            return record

    def list_users(
        self, query: str | None = None, limit: int = 50, *, viewer: str | None = None
    ) -> list[UserRecord]:
        """Users by name; with ``viewer``, only the people of their tenant (rules.py)."""
        with self.store.read() as s:
            where = rules.user_filter(rules.actor_of(s, viewer)) if viewer is not None else None
            return identity.list_users(s, query, limit, where)

    def list_groups(self, *, viewer: str | None = None) -> dict[str, list[str]]:
        """Groups and members; with ``viewer``, only the members in their tenant."""
        with self.store.read() as s:
            where = rules.user_filter(rules.actor_of(s, viewer)) if viewer is not None else None
            return identity.list_groups(s, where)

    def create_token(self, username: str, *, lifetime: timedelta | str | None = None) -> str:
        """A new API token's secret (shown once); see ``issue_token``."""
        return self.issue_token(username, lifetime=lifetime)[0]

    def issue_token(
        self, username: str, *, lifetime: timedelta | str | None = None
    ) -> tuple[str, TokenRecord]:
        """A new API token for an active user: its secret and its record. ``lifetime`` ``None`` takes
        the configured default; a text such as ``90d`` or ``never`` is parsed (422 when unreadable)."""
        if lifetime is None:
            chosen = self.token_lifetime
        else:
            chosen = identity.parse_lifetime(lifetime) if isinstance(lifetime, str) else lifetime
        with self.store.write() as s:
            return identity.create_token(s, username, now=self.clock.now(), lifetime=chosen)

    def list_tokens(self, username: str) -> list[TokenRecord]:
        with self.store.read() as s:
            return identity.list_tokens(s, username, now=self.clock.now())

    def revoke_token(self, token_or_id: str, *, actor: UserRecord | None = None) -> TokenRecord:
        """Revoke a token by id or secret; it answers 401 from the next request on.

        ``actor`` (over the API) may revoke their own tokens, an admin anyone's; another user's
        token is reported as not found so ids tell nothing. ``None`` is the trusted CLI.
        """
        now = self.clock.now()
        with self.store.write() as s:
            row = identity.find_token(s, token_or_id)
            owner = s.get(User, row.username)
            if (
                actor is not None
                and row.username != actor.username
                and (
                    not rules.allowed("manage_tokens", rules.Actor.of(actor))
                    or not rules.in_tenant(rules.Actor.of(actor), owner.tenant if owner else None)
                )
            ):
                raise NotFoundError("no such token")
            record = identity.revoke_token(s, row, now=now)
            audit.record(
                s,
                audit.TOKEN_REVOKED,
                now,
                actor=actor.username if actor else None,
                data={"token_id": row.id, "username": row.username},
            )
            return record

    def authenticate(self, token: str) -> UserRecord | None:
        """The user a bearer token belongs to, if the token is live and the user active.

        Checked in the database on every request (one indexed query), so revocation, expiry and
        deactivation hold at once in every server process; the last-used stamp is written at most
        once a minute.
        """
        now = self.clock.now()
        with self.store.read() as s:
            found = identity.authenticate_token(s, token, now=now)
        if found is None:
            return None
        user, token_id, last_used = found
        if last_used is None or now - last_used >= identity.TOUCH_EVERY:
            with self.store.write() as s:
                identity.touch_token(s, token_id, now=now)
        return user

    def set_password(self, username: str, password: str) -> None:
        """Set a password; the user's open web sessions end."""
        with self.store.write() as s:
            identity.set_password(s, username, password, now=self.clock.now())

    def check_password(self, username: str, password: str) -> UserRecord | None:
        """The active user if the password is right (no throttling; ``log_in`` is what login forms call)."""
        with self.store.read() as s:
            return identity.check_password(s, username, password)

    def log_in(self, username: str, password: str, *, client: str | None = None) -> UserRecord | None:
        """Check a password under the login throttle: the user, or ``None`` for a wrong name or password.

        Raises ``TooManyAttemptsError`` while the username or the client address is locked out.
        Unknown users, wrong passwords and deactivated users take the same path and time.
        """
        keys = identity.throttle_keys(username, client)
        with self.store.write() as s:
            identity.begin_attempt(s, keys, now=self.clock.now())
        user = self.check_password(username, password)
        if user is not None:
            with self.store.write() as s:
                identity.attempt_succeeded(s, keys)
        return user

    def open_session(self, username: str) -> str:
        """Start a web session for an active user; the id returned is what the cookie carries."""
        with self.store.write() as s:
            return identity.open_session(s, username, now=self.clock.now())

    def session_user(
        self, session_id: str, *, max_age: timedelta = identity.SESSION_MAX_AGE
    ) -> UserRecord | None:
        """The user of a live web session no older than ``max_age`` (checked on every request;
        last-seen written once a minute)."""
        now = self.clock.now()
        with self.store.read() as s:
            found = identity.session_user(s, session_id, now=now, max_age=max_age)
        if found is None:
            return None
        user, last_seen = found
        if now - last_seen >= identity.TOUCH_EVERY:
            with self.store.write() as s:
                identity.touch_session(s, session_id, now=now)
        return user

    def end_session(self, session_id: str) -> None:
        """Log a web session out: its cookie is worthless from now on."""
        with self.store.write() as s:
            identity.end_session(s, session_id, now=self.clock.now())

    # ---- definitions --------------------------------------------------------------------
    def deploy(self, files: Mapping[str, bytes], *, actor: str | None = None) -> DefinitionRecord:
        """Deploy BPMN/DMN (+ forms) as the next version of its key; identical content is not re-versioned.

        Validating and parsing a large diagram takes seconds; both happen before the write
        transaction opens, so on SQLite other writers are not queued behind them.
        """
        with self.store.read() as s:
            tenant = self._tenant_of(s, actor)
            unchanged = self.catalog.unchanged(s, files, tenant=tenant) is not None
        prepared = None if unchanged else self.catalog.prepare(files)
        if prepared is not None:
            parse_prepared(prepared)
        with self.store.write() as s:
            row = self.catalog.deploy(
                s, files, now=self.clock.now(), deployed_by=actor, prepared=prepared, tenant=tenant
            )
            audit.record(
                s,
                audit.MODEL_DEPLOY,
                self.clock.now(),
                actor=actor,
                data={"key": row.key, "version": row.version},
            )
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
            with self.store.read() as s:  # every start lands here: what is deployed already costs a read
                same = self.catalog.unchanged(s, files)
                if same is not None:
                    self.catalog.model(same)
                    out.append(self._definition_record(s, same))
                    continue
            out.append(self.deploy(files, actor="system"))
        return out

    @staticmethod
    def _tenant_of(s: Session, username: str | None) -> str | None:
        """The tenant ``username`` acts in (None for the system, the installation and unknown names)."""
        return rules.actor_of(s, username).tenant if username is not None else None

    def list_definitions(self, *, viewer: str | None = None) -> list[DefinitionRecord]:
        """The newest version of each key ``viewer`` sees: their tenant's own, and the shared keys
        it has not deployed itself (without ``viewer``: the shared ones)."""
        with self.store.read() as s:
            tenant = self._tenant_of(s, viewer)
            mine = Definition.tenant.is_(None) if tenant is None else Definition.tenant == tenant
            visible = mine
            if tenant is not None:
                owned = select(Definition.key).where(Definition.tenant == tenant)
                visible = mine | (Definition.tenant.is_(None) & Definition.key.not_in(owned))
            newest = (
                select(Definition.key, func.max(Definition.version).label("v"))
                .where(visible)
                .group_by(Definition.key)
                .subquery()
            )
            rows = s.scalars(
                select(Definition)
                .join(newest, (Definition.key == newest.c.key) & (Definition.version == newest.c.v))
                .order_by(Definition.key)
            )
            return [self._definition_record(s, r) for r in rows]

    def get_definition(
        self, key: str, version: int | None = None, *, viewer: str | None = None
    ) -> DefinitionRecord:
        """A definition as ``viewer``'s tenant sees it (another tenant's own keys are not found)."""
        with self.store.read() as s:
            return self._definition_record(
                s, self.catalog.get_row(s, key, version, tenant=self._tenant_of(s, viewer))
            )

    def definition_files(self, key: str, version: int, *, viewer: str | None = None) -> dict[str, str]:
        """The files of one version; with ``viewer``, only of a version their tenant sees (versions
        count per key across tenants, so without one the version names its row: an instance's)."""
        with self.store.read() as s:
            if viewer is None:
                if not 1 <= version <= MAX_VERSION:
                    raise NotFoundError(f"process definition '{key}' has no version {version}")
                row = s.scalars(
                    select(Definition).where(Definition.key == key, Definition.version == version)
                ).first()
                if row is None:
                    raise NotFoundError(f"process definition '{key}' has no version {version}")
                return dict(row.files)
            return dict(self.catalog.get_row(s, key, version, tenant=self._tenant_of(s, viewer)).files)

    def diff_definition(
        self, key: str, *, from_version: int | None = None, to_version: int | None = None, viewer: str
    ) -> DefinitionDiff:
        """What changed from one version of ``key`` to another (default: the newest against the one
        before it), element by element; versions the viewer's tenant does not see are 404."""
        with self.store.read() as s:
            tenant = self._tenant_of(s, viewer)
            newest = self.catalog.get_row(s, key, tenant=tenant).version
            to_version = newest if to_version is None else to_version
            from_version = to_version - 1 if from_version is None else from_version
            if from_version < 1:
                raise InvalidInputError(
                    f"v{to_version} of '{key}' has no earlier version to compare with",
                    {"from": ["give the version to compare with / 请指定要比较的版本"]},
                )
            old = self.catalog.get_row(s, key, from_version, tenant=tenant)
            new = self.catalog.get_row(s, key, to_version, tenant=tenant)
            return diff_versions(
                key, from_version, old.files, to_version, new.files, old_forms=old.forms, new_forms=new.forms
            )

    def analytics(
        self, key: str, *, since: datetime | None = None, until: datetime | None = None, viewer: str
    ) -> ProcessAnalytics:
        """Per element of ``key``: passed, median and p95 wait, open now and overdue, over
        ``[since, until)`` (default: the last 30 days), for the viewer's tenant (designers and admins)."""
        now = self.clock.now()
        since, until = analytics.period(since, until, now)
        days = analytics.whole_days(since, until, now)
        if len(days) < analytics.DAILY_FROM_DAYS:
            days = []
        if days:
            with self.store.read() as s:
                actor = rules.actor_of(s, viewer)
                rules.require("deploy", actor)
                self.catalog.get_row(s, key, tenant=actor.tenant)  # 404 before any day is counted
                missing = len(analytics.counted(s, days)) < len(days)
            if missing:
                with contextlib.suppress(IntegrityError), self.store.write() as w:
                    analytics.count_days(w, days, now)  # a racing count of the same days wins instead
        with self.store.read() as s:
            actor = rules.actor_of(s, viewer)
            rules.require("deploy", actor)
            row = self.catalog.get_row(s, key, tenant=actor.tenant)  # 404 for a key the tenant does not see
            if days and len(analytics.counted(s, days)) < len(days):
                days = []  # not all counted (a racing count not committed yet): read every task
            found = analytics.element_stats(
                s,
                key,
                since=since,
                until=until,
                now=now,
                visible=lambda column: rules.tenant_filter(actor, column),
                days=days or None,
            )
            names: dict[str, Mapping[str, str]] = {}  # a step only older versions have keeps its name
            for version in s.scalars(
                select(Definition)
                .where(Definition.key == key, self.catalog.owner(s, key, actor.tenant))
                .order_by(Definition.version)
            ):
                names.update(self.catalog.model(version).names)
            names.update(self.catalog.model(row).names)
            items = [
                dataclasses.replace(e, name=names.get(e.element_id, {}).get("zh_CN", e.element_id))
                for e in found
            ]
            return ProcessAnalytics(key, since, until, items)

    def _definition_record(self, s: Session, row: Definition) -> DefinitionRecord:
        model = self.catalog.model(row)
        same_owner = Definition.tenant.is_(None) if row.tenant is None else Definition.tenant == row.tenant
        versions = list(
            s.scalars(
                select(Definition.version)
                .where(Definition.key == row.key, same_owner)
                .order_by(Definition.version)
            )
        )
        lanes = {lane: self.runner.lane_rule(model, lane) for lane in model.lanes}
        return DefinitionRecord(
            row.id,
            row.key,
            row.version,
            row.name,
            lanes,
            dict(model.task_forms),
            row.created_at,
            row.deployed_by,
            list(row.notes or []),
            versions,
            (model.names.get(row.key) or {}).get("en"),
            {element_id: dict(names) for element_id, names in model.names.items()},
        )

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
        data = {} if data is None else data
        with self.steps.write(actor) as step:
            return operations.start(step, process_key, version=version, business_key=business_key, data=data)

    def get_instance(self, instance_id: str, *, viewer: str | None = None) -> InstanceRecord:
        """An instance; with ``viewer``, only if that person may see it (rules.py)."""
        with self.steps.read(viewer) as step:
            row = step.instance(instance_id)
            if viewer is None:
                return step.instance_record(row)
            actor = rules.actor_of(step.session, viewer)
            rules.require("view", actor, row)
            return dataclasses.replace(step.instance_record(row), actions=rules.actions(actor, row))

    def list_instances(
        self,
        *,
        process_key: str | None = None,
        status: str | None = None,
        business_key: str | None = None,
        offset: int = 0,
        limit: int = 50,
        viewer: str | None = None,
        unit: str | None = None,
    ) -> Page:
        """Instances, newest first; with ``viewer``, only those that person may see (rules.py);
        ``unit``: only those of that unit and the units under it."""
        with self.steps.read(viewer) as step:
            s = step.session
            stmt = select(Instance)
            visible = rules.visible_instances(s, viewer) if viewer is not None else None
            if visible is not None:
                stmt = stmt.where(visible)
            if unit:
                stmt = stmt.where(self._unit_condition(s, viewer, unit, Instance.unit))
            if process_key:
                stmt = stmt.where(Instance.process_key == process_key)
            if status:
                stmt = stmt.where(Instance.status == status)
            if business_key:
                stmt = stmt.where(Instance.business_key == business_key)
            rows, total = counted_page(
                s, stmt, Instance.created_at.desc(), Instance.id, offset=offset, limit=limit
            )
            return Page([step.instance_record(r, with_tasks=False) for r in rows.scalars()], total)

    def unresolved_tasks(self, *, limit: int = 200) -> list[TaskRecord]:
        """Open tasks nobody could be given (无人担任: a vacant post, no unit in the data), newest
        first: what an admin must fix by filling the post or transferring the task."""
        with self.store.read() as s:
            return [task_record(ht) for ht in assignment.unresolved_tasks(s, limit=limit)]

    @staticmethod
    def _unit_condition(s: Session, viewer: str | None, unit: str, column: Any) -> Any:
        """``column`` within ``unit``'s subtree; a unit the viewer's tenant does not hold is not found."""
        actor = rules.actor_of(s, viewer) if viewer is not None else rules.Actor("", roles=["admin"])
        return rules.unit_filter(s, actor, unit, column)

    def history(self, instance_id: str, *, viewer: str | None = None) -> list[AuditRecord]:
        with self.steps.read(viewer) as step:
            step.require_view(step.instance(instance_id), viewer)
            rows = step.session.scalars(
                select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
            )
            return [
                AuditRecord(
                    r.id, r.instance_id, r.at, r.actor, r.event, r.element_id, r.task_id, dict(r.data or {})
                )
                for r in rows
            ]

    def cancel(self, instance_id: str, *, actor: str | None, reason: str = "") -> InstanceRecord:
        """Stop an instance for good (its starter or an admin; ``actor=None`` is the system itself)."""
        with self.steps.write(actor) as step:
            return operations.cancel(step, instance_id, reason)

    def discard(self, instance_id: str, *, actor: str) -> InstanceRecord:
        """Drop an untouched draft (an accidental 发起): its starter cancels it without a reason.

        Once anyone else has worked on it, or the starter has submitted it, ``discard`` is refused
        (403) and the instance takes the ordinary ``cancel`` with a reason, or a withdrawal.
        """
        with self.steps.write(actor) as step:
            rules.require("discard", rules.actor_of(step.session, actor), step.lock_instance(instance_id))
            return operations.cancel(step, instance_id, DISCARD_REASON)

    def send_message(
        self,
        name: str,
        *,
        actor: str | None,
        payload: dict[str, Any] | None = None,
        business_key: str | None = None,
        instance_id: str | None = None,
    ) -> list[str]:
        """Deliver a message to every instance waiting for it (by instance id or business key).

        Messages the engine sends itself (a board claim) are refused: their payload is checked on
        the way in (``file_claim``), and a raw message would skip that.
        """
        if name in self.steps.engine_messages:
            raise InvalidInputError(
                f"'{name}' is sent by the engine only",
                {
                    "name": [
                        "sent by the engine only; claims are filed on the board / 该消息只能由系统发送，揭榜请通过榜单"
                    ]
                },
            )
        return self.deliver_message(
            name, actor=actor, payload=payload, business_key=business_key, instance_id=instance_id
        )

    def deliver_message(
        self,
        name: str,
        *,
        actor: str | None,
        payload: dict[str, Any] | None = None,
        business_key: str | None = None,
        instance_id: str | None = None,
    ) -> list[str]:
        """``send_message`` for the engine's own senders (challenge/board.py), which check the payload first."""
        operations.require_message_target(name, business_key, instance_id)
        payload = dict(payload or {})
        self.runner.check_input(payload, "message payload")
        with self.store.read() as s:
            stmt = (
                select(MessageSubscription.instance_id)
                .where(MessageSubscription.message_name == name)
                .distinct()
            )
            if instance_id is not None:
                stmt = stmt.where(MessageSubscription.instance_id == instance_id)
            if business_key is not None:
                stmt = stmt.where(MessageSubscription.business_key == business_key)
            if (
                actor is not None and s.get(User, actor) is not None
            ):  # a person: their tenant's instances only
                where = rules.tenant_filter(rules.actor_of(s, actor), Instance.tenant)
                if where is not None:
                    stmt = stmt.join(Instance, Instance.id == MessageSubscription.instance_id).where(where)
            targets = sorted(s.scalars(stmt))
        if not targets:
            raise NotFoundError(f"no instance waits for message '{name}'")
        delivered = []
        for target in targets:
            with self.steps.write(actor) as step:
                ctx = operations.deliver_message(step, target, name, payload)
            if ctx is not None:
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
        q: str | None = None,
        unit: str | None = None,
    ) -> Page:
        """One page of ``username``'s inbox, newest first (``groups``: theirs, when the caller knows them).

        ``q`` keeps the tasks whose instance title, task name or business key contains it; ``unit``
        the tasks of instances of that unit and the units under it. A group's queue is the group's
        in the person's tenant: every county has a ``taskforce``.
        """
        if scope not in SCOPES:
            raise InvalidInputError(
                f"unknown scope '{scope}'", {"scope": [f"one of {', '.join(SCOPES)} / 范围无效"]}
            )
        if scope == "cc":
            return self.list_cc(
                username, offset=offset, limit=limit, q=q
            )  # items are CcRecord: instances copied to me
        unit_ids = None
        if groups is None or unit:
            with self.store.read() as s:
                if groups is None:
                    groups = identity.groups_of(s, username)
                if unit:
                    unit_ids = select(Instance.id).where(
                        self._unit_condition(s, username, unit, Instance.unit)
                    )
        with self.store.statement() as conn:
            rows, total = inbox.page(
                conn,
                username,
                postqueues.plain_groups(groups),  # the posts they hold are read in the same statement
                scope,
                status=status,
                process_key=process_key,
                business_key=business_key,
                offset=offset,
                limit=limit,
                q=q or None,
                instances=unit_ids,
            )
        return Page([task_record(r) for r in rows], total)

    def get_task(self, task_id: str, username: str | None = None) -> TaskDetail:
        """A task with its form and the data the form starts from; with ``username``, only if visible to them."""
        with self.steps.read(username) as step:
            ht = step.task(task_id)
            row = step.instance(ht.instance_id)
            record = task_record(ht)
            if username is not None:
                actor = rules.actor_of(step.session, username)
                rules.require("view", actor, ht)
                record = dataclasses.replace(record, actions=rules.actions(actor, ht))
            schema = step.form_for(row, ht.element_id)
            start = {
                **(row.data or {}),
                **(ht.draft or {}),
            }  # a delegate's or an earlier signer's work comes first
            return TaskDetail(record, schema, formlib.form_data(schema, start))

    def claim(self, task_id: str, username: str, *, groups: list[str] | None = None) -> TaskRecord:
        """Take a task from a group queue (``groups``: the person's, when the caller knows them)."""
        with self.steps.write(username) as step:
            return operations.claim(step, task_id, username, groups=groups)

    def unclaim(self, task_id: str, username: str) -> TaskRecord:
        with self.steps.write(username) as step:
            return operations.unclaim(step, task_id, username)

    def complete(self, task_id: str, username: str, data: dict[str, Any] | None) -> InstanceRecord:
        """Validate ``data`` against the task's form, complete the task and run what follows.

        A delegated task completed by its delegate goes back to its owner to confirm; a signer's
        part of a task counts towards the step, which completes once its signing rule is met.
        """
        data = data if data is not None else {}
        with self.steps.write(username) as step:
            return operations.complete(step, task_id, username, data)

    # ---- approval operations (approval/*) -----------------------------------------------
    def transfer(self, task_id: str, actor: str, to: str, comment: str | None = None) -> TaskRecord:
        """转办: hand the task to ``to`` for good."""
        with self.steps.write(actor) as step:
            return handover.transfer(step, task_id, actor, to, comment)

    def delegate(self, task_id: str, actor: str, to: str, comment: str | None = None) -> TaskRecord:
        """委派: ``to`` works the task; their completion comes back to ``actor`` to confirm."""
        with self.steps.write(actor) as step:
            return handover.delegate(step, task_id, actor, to, comment)

    def add_signers(
        self, task_id: str, actor: str, usernames: list[str], mode: str, comment: str | None = None
    ) -> list[TaskRecord]:
        """加签: add approvers before, after or in parallel with the current one on this step."""
        with self.steps.write(actor) as step:
            return signing.add_signers(step, task_id, actor, usernames, mode, comment)

    def remove_signer(self, task_id: str, actor: str, username: str, comment: str | None = None) -> None:
        """减签: remove an added signer who has not acted yet."""
        with self.steps.write(actor) as step:
            signing.remove_signer(step, task_id, actor, username, comment)

    def signers(self, task_id: str, *, viewer: str | None = None) -> list[TaskRecord]:
        """Everyone signing the step; with ``viewer``, only if that person may see the task (rules.py)."""
        with self.steps.read(viewer) as step:
            return signing.list_signers(step, task_id, viewer=viewer)

    def return_targets(self, task_id: str, *, viewer: str | None = None) -> list[ReturnTarget]:
        """Where a task may be sent back to: earlier user tasks on its own path, newest first (``viewer``: as in ``signers``)."""
        with self.steps.read(viewer) as step:
            return returns.targets(step, task_id, viewer=viewer)

    def return_task(
        self, task_id: str, actor: str, to_element_id: str | None = None, comment: str = ""
    ) -> InstanceRecord:
        """退回: send the instance back to an earlier user task (default: the previous one)."""
        with self.steps.write(actor) as step:
            return returns.return_task(step, task_id, actor, to_element_id, comment)

    def withdraw(self, instance_id: str, actor: str, comment: str = "") -> InstanceRecord:
        """撤回: take back your own last completion while the next task is untouched."""
        with self.steps.write(actor) as step:
            return returns.withdraw(step, instance_id, actor, comment)

    def urge(self, task_id: str, actor: str, comment: str | None = None) -> None:
        """催办: remind the assignee or candidates (a ``task.urged`` event), at most once per interval."""
        with self.steps.write(actor) as step:
            notify.urge(step, task_id, actor, comment)

    def copy_to(self, instance_id: str, actor: str, usernames: list[str]) -> list[str]:
        """抄送: copy the instance to people; returns who was newly copied."""
        with self.steps.write(actor) as step:
            return notify.copy_to(step, instance_id, actor, usernames)

    def list_cc(
        self,
        username: str,
        *,
        unread_only: bool = False,
        offset: int = 0,
        limit: int = 50,
        q: str | None = None,
    ) -> Page:
        """Instances copied to ``username`` (items are ``CcRecord``), newest first; ``q`` searches their title and business key."""
        with self.steps.read(username) as step:
            return notify.list_cc(
                step, username, unread_only=unread_only, offset=offset, limit=limit, q=q or None
            )

    def mark_cc_read(self, instance_id: str, username: str) -> None:
        with self.steps.write(username) as step:
            notify.mark_read(step, instance_id, username)

    # ---- the claim-and-evaluate read models -------------------------------------------------
    def board(
        self, *, category: str | None = None, viewer: str | None = None, unit: str | None = None
    ) -> list[dict[str, Any]]:
        """The board: with ``viewer``, their tenant's challenges; ``unit``: that unit's subtree's."""
        with self.store.read() as s:
            where = None
            if viewer is not None:
                where = rules.tenant_filter(rules.actor_of(s, viewer), Instance.tenant)
            if unit:
                by_unit = self._unit_condition(s, viewer, unit, Instance.unit)
                where = by_unit if where is None else where & by_unit
            return challenge.board(s, self.clock.now(), category=category, where=where)

    def challenge(self, instance_id: str, *, viewer: str) -> dict[str, Any]:
        """One challenge as its public page shows it to any cadre (``read_challenge``, rules.py):
        what the board shows plus details, goals, milestones, support and whether ``viewer`` may claim."""
        with self.store.read() as s:
            row = s.get(Instance, instance_id)
            if row is None:
                raise NotFoundError(f"no challenge '{instance_id}' on the board")
            actor = rules.actor_of(s, viewer)
            if not rules.allowed("read_challenge", actor, row):
                raise NotFoundError(f"no challenge '{instance_id}' on the board")
            item = challenge.challenge_detail(row, self.clock.now())
            refusal = self._claim_refusal(s, row, viewer)
            item["claim_ranks"] = self._claim_ranks_of(s, row)
            item["ineligible"] = refusal
            item["may_claim"] = (
                item["open_for_claims"] and refusal is None and rules.allowed("file_claim", actor, row)
            )
            item["claimed"] = any(c.get("filed_by", c.get("leader")) == viewer for c in item["claims"])
            return item

    def file_claim(self, instance_id: str, actor: str, claim: dict[str, Any]) -> dict[str, Any]:
        """File a claim; returns only what the claimant may see: their claim and the challenge as the board shows it."""
        with self.steps.write(actor) as step:
            filed = challenge.file_claim(step, instance_id, actor, claim)
            return {
                "instance_id": instance_id,
                "claim": filed,
                "challenge": challenge.board_item(step.locked_instance(), step.now),
            }

    @staticmethod
    def _ledger_filter(s: Session, viewer: str | None) -> Any:
        return (
            rules.tenant_filter(rules.actor_of(s, viewer), ScoreEntry.tenant) if viewer is not None else None
        )

    def scores(
        self, period: str | None = None, *, viewer: str | None = None
    ) -> tuple[str, list[dict[str, Any]]]:
        """A month's ledger; with ``viewer``, their tenant's."""
        with self.store.read() as s:
            period = challenge.validate_period(period, self.clock.now())
            return period, _ledger_rows(s, period, self._ledger_filter(s, viewer))

    def score_export(
        self, period: str | None = None, *, viewer: str | None = None
    ) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
        """What a month's score workbook holds, read at one moment: the period, the leaderboard and the ledger."""
        with self.store.read() as s:
            period = challenge.validate_period(period, self.clock.now())
            where = self._ledger_filter(s, viewer)
            return period, challenge.leaderboard(s, period, where), _ledger_rows(s, period, where)

    def leaderboard(
        self, period: str | None = None, *, viewer: str | None = None
    ) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        """A month's ranking and titles; with ``viewer``, among their tenant's people."""
        with self.store.read() as s:
            period = challenge.validate_period(period, self.clock.now())
            where = self._ledger_filter(s, viewer)
            return period, challenge.leaderboard(s, period, where), challenge.titles(s, period, where)

    # ---- jobs ---------------------------------------------------------------------------
    def list_jobs(
        self,
        *,
        instance_id: str | None = None,
        kind: str | None = None,
        offset: int = 0,
        limit: int = 100,
        viewer: str | None = None,
    ) -> Page:
        """Jobs by due time; with ``viewer``, their tenant's."""
        with self.store.read() as s:
            stmt = select(Job)
            where = rules.tenant_filter(rules.actor_of(s, viewer), Job.tenant) if viewer is not None else None
            if where is not None:
                stmt = stmt.where(where)
            if instance_id:
                stmt = stmt.where(Job.instance_id == instance_id)
            if kind:
                stmt = stmt.where(Job.kind == kind)
            rows, total = counted_page(s, stmt, Job.due_at, Job.id, offset=offset, limit=limit)
            return Page([job_record(j) for j in rows.scalars()], total)

    def execute_job(self, job_id: str, *, actor: str | None = None) -> None:
        """Run one job now, whatever its due time (close a claim window early, retry a delivery)."""
        with self.store.read() as s:
            job = s.get(Job, job_id)
            if job is None or (
                actor is not None and not rules.in_tenant(rules.actor_of(s, actor), job.tenant)
            ):
                raise NotFoundError(f"no job '{job_id}'")
        loop.run_job(self.steps, job_id, force=True)

    def observe(self, observer: Observer) -> None:
        """Call ``observer`` with a ``Tally`` of what each committed write did (instances started
        and ended, tasks created and completed, deliveries given up): the server's metrics."""
        self.store.observers.append(observer)

    def operational_gauges(self) -> Gauges:
        """Jobs due, late and failing, instances stopped by an error, and each group's queue, now."""
        with self.store.read() as s:
            return observe.gauges(s, self.clock.now())

    def run_due_jobs(self, *, limit: int = 50, kinds: list[str] | None = None) -> int:
        """Lease due jobs and run each in its own transaction; returns how many ran."""
        return loop.run_due(
            self.steps, worker_id=self.worker_id, lease=self.job_lease, limit=limit, kinds=kinds
        )


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name) or default)
    except ValueError:
        return default


def _ledger_rows(s: Session, period: str, where: Any = None) -> list[dict[str, Any]]:
    rows = challenge.scores(s, period, where)
    units = {r.subject for r in rows if r.subject_kind == "unit"}
    people = {r.subject for r in rows if r.subject_kind == "person"}
    named = (
        {k: v for k, v in s.execute(select(Unit.code, Unit.name).where(Unit.code.in_(units)))}
        if units
        else {}
    )
    if people:
        named.update(
            {
                k: v
                for k, v in s.execute(
                    select(User.username, User.display_name).where(User.username.in_(people))
                )
            }
        )
    return [
        {
            "username": r.username,
            "subject_kind": r.subject_kind,
            "subject": r.subject,
            "name": named.get(r.subject, r.subject),
            "dimension": r.dimension,
            "scheme": r.scheme,
            "period": r.period,
            "points": r.points,
            "instance_id": r.instance_id,
            "reason": r.reason,
            "awarded_at": r.awarded_at,
        }
        for r in rows
    ]
