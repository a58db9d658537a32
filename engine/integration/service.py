"""What the OA system integrates with beyond steps: idempotent retries, webhooks, login links, comments.

Webhook deliveries are an outbox: the step that causes an event writes a ``Delivery`` row and a
``webhook`` job in its own transaction, and a worker posts it later. Idempotency keys are
inserted in the same transaction as the work they guard, so a retry can never do it twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit, identity, rules
from ..errors import ConflictError, InvalidInputError, NotFoundError
from ..store import Store, counted_page, rows_changed
from ..tables import HumanTask
from ..vocabulary import Event, WebhookEvent
from . import outbox
from .tables import Delivery, IdempotencyKey, LoginLink, TaskComment, Webhook
from .transport import HttpTransport, Transport

if TYPE_CHECKING:
    from ..definitions.catalog import Catalog  # noqa: F401
    from ..runtime.clock import Clock
    from ..runtime.runner import Runner

T = TypeVar("T")

WEBHOOK_EVENTS = tuple(WebhookEvent)
LOGIN_LINK_TTL = timedelta(minutes=5)
TASK_COMMENT = Event.TASK_COMMENTED


@dataclass(frozen=True)
class WebhookRecord:
    id: str
    url: str
    events: list[str]
    active: bool
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    id: str
    webhook_id: str
    event: str
    status: str
    attempts: list[dict[str, Any]]
    payload: dict[str, Any]
    job_id: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class CommentRecord:
    id: int
    task_id: str
    instance_id: str
    author: str
    text: str
    at: datetime
    kind: str = "comment"  # approve, reject, return, transfer, delegate, add_sign, ... (approval/common.py)


class IntegrationMixin:
    """Façade methods for integration concerns; mixed into ``Engine``."""

    if TYPE_CHECKING:
        store: Store
        clock: Clock
        runner: Runner
        listeners: list[Any]
        job_handlers: dict[str, Any]
        job_lease: timedelta

    webhook_allow_private: bool = False
    #: How deliveries reach their targets; tests put a ``FakeTransport`` here.
    transport: Transport = HttpTransport()

    def _install_integration(self) -> None:
        """Called once at the end of ``Engine.__init__``: subscribe webhooks, join idempotent writes."""
        self.listeners.append(outbox.enqueue_for_event)
        self.runner.projections.append(outbox.enqueue_step_events)
        self.job_handlers["webhook"] = functools.partial(outbox.deliver, self)

    def configure_integration(
        self, *, allow_private_webhooks: bool | None = None, job_lease_seconds: float | None = None
    ) -> None:
        """Settings the app or the worker reads from ``JIEBANG_*`` variables."""
        if allow_private_webhooks is not None:
            self.webhook_allow_private = allow_private_webhooks
        if job_lease_seconds is not None:
            self.job_lease = timedelta(seconds=job_lease_seconds)

    # ---- idempotency ----------------------------------------------------------------------
    def run_once(
        self,
        username: str,
        key: str,
        fingerprint: str,
        work: Callable[[], T],
        render: Callable[[T], dict[str, Any]],
    ) -> tuple[dict[str, Any], bool]:
        """Run ``work`` once per (user, key); a retry gets the first rendered result and ``True``.

        ``work`` must be one Engine method (it joins this transaction); ``fingerprint`` identifies
        the request body: the same key with another body is refused. Usage::

            body, replayed = engine.run_once("zhang", key, sha256(body), lambda: engine.start(...), dump)
        """
        if not key or len(key) > 200:
            raise InvalidInputError(
                "Idempotency-Key must be 1-200 characters",
                {"Idempotency-Key": ["1-200 characters / 长度 1-200"]},
            )
        for _ in range(3):
            failure: BaseException | None = None
            try:
                with self.store.write() as s:
                    found = s.scalars(
                        select(IdempotencyKey).where(
                            IdempotencyKey.username == username, IdempotencyKey.key == key
                        )
                    ).first()
                    if found is not None:
                        return _replay(found, fingerprint), True
                    row = IdempotencyKey(
                        username=username, key=key, fingerprint=fingerprint, created_at=self.clock.now()
                    )
                    s.add(row)
                    s.flush()  # on PostgreSQL a racing twin waits here until this transaction ends
                    with self.store.joining(s) as joined:
                        try:
                            result = work()
                        except Exception as exc:
                            if not joined.done:
                                raise
                            s.delete(
                                row
                            )  # the work committed its own failure (a script error): keep it, not the key
                            failure = exc
                    if failure is None:
                        row.response = render(result)
                        return row.response, False
            except IntegrityError:
                time.sleep(0.05)  # the twin won; its result is committed now, read it on the next pass
                continue
            raise failure
        raise InvalidInputError(
            "Idempotency-Key is in use by a concurrent request", {"Idempotency-Key": ["in use / 正在使用"]}
        )

    # ---- webhooks -------------------------------------------------------------------------
    def create_webhook(self, url: str, events: list[str], secret: str, *, actor: str | None) -> WebhookRecord:
        """Subscribe ``url`` to ``events``; a target that is not a public address is refused unless allowed."""
        errors: dict[str, list[str]] = {}
        unknown = [e for e in events if e not in WEBHOOK_EVENTS]
        if not events or unknown:
            errors["events"] = [f"choose from {', '.join(WEBHOOK_EVENTS)} / 事件无效"]
        if not secret:
            errors["secret"] = ["required / 必填项"]
        try:
            self.transport.check_target(url, allow_private=self.webhook_allow_private)
        except ValueError as exc:
            errors["url"] = [str(exc)]
        if errors:
            raise InvalidInputError("webhook invalid", errors)
        with self.store.write() as s:
            hook = Webhook(
                id=str(uuid.uuid4()),
                url=url,
                events=sorted(set(events)),
                secret=secret,
                active=True,
                created_by=actor,
                created_at=self.clock.now(),
                tenant=rules.actor_of(s, actor).tenant if actor is not None else None,
            )
            s.add(hook)
            s.flush()
            return _webhook_record(hook)

    def list_webhooks(self, *, viewer: str | None = None) -> list[WebhookRecord]:
        """Webhooks; with ``viewer``, their tenant's (the installation's people see every one)."""
        with self.store.read() as s:
            stmt = select(Webhook).order_by(Webhook.created_at, Webhook.id)
            where = rules.tenant_filter(rules.actor_of(s, viewer), Webhook.tenant) if viewer else None
            if where is not None:
                stmt = stmt.where(where)
            return [_webhook_record(h) for h in s.scalars(stmt)]

    def delete_webhook(self, webhook_id: str, *, viewer: str | None = None) -> None:
        with self.store.write() as s:
            hook = _webhook(s, webhook_id, viewer)
            hook.active = False  # deliveries stay readable; nothing new is queued

    def list_deliveries(
        self, webhook_id: str, *, offset: int = 0, limit: int = 50, viewer: str | None = None
    ) -> tuple[list[DeliveryRecord], int]:
        with self.store.read() as s:
            _webhook(s, webhook_id, viewer)
            stmt = select(Delivery).where(Delivery.webhook_id == webhook_id)
            rows, total = counted_page(
                s, stmt, Delivery.created_at.desc(), Delivery.id, offset=offset, limit=limit
            )
            return [_delivery_record(d) for d in rows.scalars()], total

    # ---- login links ----------------------------------------------------------------------
    def create_login_link(self, username: str, next_path: str | None = None) -> tuple[str, datetime]:
        """A one-time sign-in token for the web pages, valid five minutes; only its digest is kept."""
        if next_path is not None and (
            not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path
        ):
            raise InvalidInputError(
                "next must be a path on this site", {"next": ["a path starting with / / 须为本站路径"]}
            )
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.store.write() as s:
            if not identity.get_user(s, username).active:
                raise ConflictError(f"user '{username}' is deactivated")
            s.add(
                LoginLink(
                    token_hash=_digest(token),
                    username=username,
                    tenant=identity.get_user(s, username).tenant,
                    next_path=next_path,
                    expires_at=now + LOGIN_LINK_TTL,
                )
            )
        return token, now + LOGIN_LINK_TTL

    def consume_login_link(self, token: str) -> tuple[str, str | None] | None:
        """Use a login link: ``(username, next)`` the first time within five minutes, else ``None``."""
        now = self.clock.now()
        with self.store.write() as s:
            used = s.execute(
                update(LoginLink)
                .where(
                    LoginLink.token_hash == _digest(token),
                    LoginLink.used_at.is_(None),
                    LoginLink.expires_at > now,
                )
                .values(used_at=now)
            )
            if rows_changed(used) != 1:
                return None
            link = s.get_one(LoginLink, _digest(token))
            if not identity.get_user(s, link.username).active:
                return None
            return link.username, link.next_path

    # ---- comments -------------------------------------------------------------------------
    def add_comment(self, task_id: str, username: str, text: str) -> CommentRecord:
        """An approval remark by someone involved in the task."""
        if not text or not text.strip():
            raise InvalidInputError("comment is empty", {"text": ["required / 必填项"]})
        with self.store.write() as s:
            ht = _visible_task(s, task_id, username)
            now = self.clock.now()
            row = TaskComment(task_id=ht.id, instance_id=ht.instance_id, author=username, text=text, at=now)
            s.add(row)
            s.flush()
            audit.record(
                s,
                TASK_COMMENT,
                now,
                actor=username,
                instance_id=ht.instance_id,
                element_id=ht.element_id,
                task_id=ht.id,
                data={"text": text},
            )
            return _comment_record(row)

    def list_comments(self, task_id: str, username: str) -> list[CommentRecord]:
        with self.store.read() as s:
            ht = _visible_task(
                s, task_id, username, action="view"
            )  # the history shows remarks to every viewer already
            return [
                _comment_record(c)
                for c in s.scalars(
                    select(TaskComment).where(TaskComment.task_id == ht.id).order_by(TaskComment.id)
                )
            ]


# ---- idempotency helpers ------------------------------------------------------------------
def _replay(found: IdempotencyKey, fingerprint: str) -> dict[str, Any]:
    if found.fingerprint != fingerprint:
        raise InvalidInputError(
            "Idempotency-Key was used with a different request body",
            {"Idempotency-Key": ["reused with a different body / 幂等键已用于不同的请求"]},
        )
    return dict(found.response or {})


def fingerprint(*parts: Any) -> str:
    """A stable digest of a request (route + body) for ``run_once``."""
    return hashlib.sha256(
        json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


# ---- small helpers ------------------------------------------------------------------------
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _visible_task(s: Session, task_id: str, username: str, *, action: str = "comment") -> HumanTask:
    """The task, if the rulebook lets ``username`` do ``action`` to it (write remarks, by default)."""
    try:
        uuid.UUID(task_id)
    except (ValueError, TypeError):
        raise NotFoundError(f"no task '{task_id}'") from None
    ht = s.get(HumanTask, task_id)
    if ht is None:
        raise NotFoundError(f"no task '{task_id}'")
    rules.require(action, rules.actor_of(s, username), ht)
    return ht


def _webhook(s: Session, webhook_id: str, viewer: str | None) -> Webhook:
    """A webhook ``viewer`` may see (another tenant's is not found)."""
    hook = s.get(Webhook, webhook_id)
    if hook is None or (viewer is not None and not rules.in_tenant(rules.actor_of(s, viewer), hook.tenant)):
        raise NotFoundError(f"no webhook '{webhook_id}'")
    return hook


def _webhook_record(h: Webhook) -> WebhookRecord:
    return WebhookRecord(h.id, h.url, list(h.events or []), bool(h.active), h.created_by, h.created_at)


def _delivery_record(d: Delivery) -> DeliveryRecord:
    return DeliveryRecord(
        d.id,
        d.webhook_id,
        d.event,
        d.status,
        list(d.attempts or []),
        json.loads(d.body),
        d.job_id,
        d.created_at,
        d.delivered_at,
    )


def _comment_record(c: TaskComment) -> CommentRecord:
    return CommentRecord(c.id, c.task_id, c.instance_id, c.author, c.text, c.at, c.kind or "comment")
