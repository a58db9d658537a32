"""What the OA system integrates with beyond steps: idempotent retries, webhooks, login links, comments.

Webhook deliveries are an outbox: the step that causes an event writes a ``Delivery`` row and a
``webhook`` job in its own transaction, and a worker posts it later. Idempotency keys are
inserted in the same transaction as the work they guard, so a retry can never do it twice.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, identity, jobs, rules
from .clock import iso
from .errors import ConflictError, InvalidInputError, NotFoundError
from .integration_tables import Delivery, IdempotencyKey, LoginLink, TaskComment, Webhook
from .store import Store, counted_page, rows_changed
from .tables import HumanTask, Instance, Job
from .vocabulary import Event, WebhookEvent

if TYPE_CHECKING:
    from .catalog import Catalog  # noqa: F401
    from .clock import Clock
    from .runner import Runner, StepContext

T = TypeVar("T")

WEBHOOK_EVENTS = tuple(WebhookEvent)
WEBHOOK_TIMEOUT = 10.0
WEBHOOK_MAX_ATTEMPTS = 15  # 5 s doubling, capped at 6 h: about three days of trying
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

    def _install_integration(self) -> None:
        """Called once at the end of ``Engine.__init__``: subscribe webhooks, join idempotent writes."""
        self.listeners.append(_enqueue_for_event)
        self.runner.projections.append(_step_events)
        self.job_handlers["webhook"] = functools.partial(_deliver, self)

    def configure_integration(self, *, allow_private_webhooks: bool | None = None, job_lease_seconds: float | None = None) -> None:
        """Settings the app or the worker reads from ``JIEBANG_*`` variables."""
        if allow_private_webhooks is not None:
            self.webhook_allow_private = allow_private_webhooks
        if job_lease_seconds is not None:
            self.job_lease = timedelta(seconds=job_lease_seconds)

    # ---- idempotency ----------------------------------------------------------------------
    def run_once(self, username: str, key: str, fingerprint: str, work: Callable[[], T], render: Callable[[T], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """Run ``work`` once per (user, key); a retry gets the first rendered result and ``True``.

        ``work`` must be one Engine method (it joins this transaction); ``fingerprint`` identifies
        the request body: the same key with another body is refused. Usage::

            body, replayed = engine.run_once("zhang", key, sha256(body), lambda: engine.start(...), dump)
        """
        if not key or len(key) > 200:
            raise InvalidInputError("Idempotency-Key must be 1-200 characters", {"Idempotency-Key": ["1-200 characters / 长度 1-200"]})
        for _ in range(3):
            failure: BaseException | None = None
            try:
                with self.store.write() as s:
                    found = s.scalars(select(IdempotencyKey).where(IdempotencyKey.username == username, IdempotencyKey.key == key)).first()
                    if found is not None:
                        return _replay(found, fingerprint), True
                    row = IdempotencyKey(username=username, key=key, fingerprint=fingerprint, created_at=self.clock.now())
                    s.add(row)
                    s.flush()  # on PostgreSQL a racing twin waits here until this transaction ends
                    with self.store.joining(s) as joined:
                        try:
                            result = work()
                        except Exception as exc:
                            if not joined.done:
                                raise
                            s.delete(row)  # the work committed its own failure (a script error): keep it, not the key
                            failure = exc
                    if failure is None:
                        row.response = render(result)
                        return row.response, False
            except IntegrityError:
                time.sleep(0.05)  # the twin won; its result is committed now, read it on the next pass
                continue
            raise failure
        raise InvalidInputError("Idempotency-Key is in use by a concurrent request", {"Idempotency-Key": ["in use / 正在使用"]})

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
            resolve_target(url, allow_private=self.webhook_allow_private)
        except ValueError as exc:
            errors["url"] = [str(exc)]
        if errors:
            raise InvalidInputError("webhook invalid", errors)
        with self.store.write() as s:
            hook = Webhook(id=str(uuid.uuid4()), url=url, events=sorted(set(events)), secret=secret, active=True, created_by=actor, created_at=self.clock.now())
            s.add(hook)
            s.flush()
            return _webhook_record(hook)

    def list_webhooks(self) -> list[WebhookRecord]:
        with self.store.read() as s:
            return [_webhook_record(h) for h in s.scalars(select(Webhook).order_by(Webhook.created_at, Webhook.id))]

    def delete_webhook(self, webhook_id: str) -> None:
        with self.store.write() as s:
            hook = s.get(Webhook, webhook_id)
            if hook is None:
                raise NotFoundError(f"no webhook '{webhook_id}'")
            hook.active = False  # deliveries stay readable; nothing new is queued

    def list_deliveries(self, webhook_id: str, *, offset: int = 0, limit: int = 50) -> tuple[list[DeliveryRecord], int]:
        with self.store.read() as s:
            if s.get(Webhook, webhook_id) is None:
                raise NotFoundError(f"no webhook '{webhook_id}'")
            stmt = select(Delivery).where(Delivery.webhook_id == webhook_id)
            rows, total = counted_page(s, stmt, Delivery.created_at.desc(), Delivery.id, offset=offset, limit=limit)
            return [_delivery_record(d) for d in rows.scalars()], total

    # ---- login links ----------------------------------------------------------------------
    def create_login_link(self, username: str, next_path: str | None = None) -> tuple[str, datetime]:
        """A one-time sign-in token for the web pages, valid five minutes; only its digest is kept."""
        if next_path is not None and (not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path):
            raise InvalidInputError("next must be a path on this site", {"next": ["a path starting with / / 须为本站路径"]})
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.store.write() as s:
            if not identity.get_user(s, username).active:
                raise ConflictError(f"user '{username}' is deactivated")
            s.add(LoginLink(token_hash=_digest(token), username=username, next_path=next_path, expires_at=now + LOGIN_LINK_TTL))
        return token, now + LOGIN_LINK_TTL

    def consume_login_link(self, token: str) -> tuple[str, str | None] | None:
        """Use a login link: ``(username, next)`` the first time within five minutes, else ``None``."""
        now = self.clock.now()
        with self.store.write() as s:
            used = s.execute(
                update(LoginLink)
                .where(LoginLink.token_hash == _digest(token), LoginLink.used_at.is_(None), LoginLink.expires_at > now)
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
            audit.record(s, TASK_COMMENT, now, actor=username, instance_id=ht.instance_id, element_id=ht.element_id, task_id=ht.id, data={"text": text})
            return _comment_record(row)

    def list_comments(self, task_id: str, username: str) -> list[CommentRecord]:
        with self.store.read() as s:
            ht = _visible_task(s, task_id, username, action="view")  # the history shows remarks to every viewer already
            return [_comment_record(c) for c in s.scalars(select(TaskComment).where(TaskComment.task_id == ht.id).order_by(TaskComment.id))]


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
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


# ---- webhook outbox -----------------------------------------------------------------------
def _enqueue_for_event(session: Session, event: str, row: Instance, data: dict[str, Any]) -> None:
    """Engine listener: queue a delivery for each active webhook subscribed to ``event``."""
    event = WebhookEvent(event).value  # only the vocabulary's webhook events are announced
    _enqueue(session, _subscribers(session), event, row, data)


def _subscribers(session: Session) -> list[Webhook]:
    """Active webhooks, read once per transaction however many events the step announces."""
    hooks = session.info.get("jiebang_webhooks")
    if hooks is None:
        hooks = session.info["jiebang_webhooks"] = list(session.scalars(select(Webhook).where(Webhook.active.is_(True))))
    return hooks


def _enqueue(session: Session, hooks: list[Webhook], event: str, row: Instance, data: dict[str, Any]) -> None:
    hooks = [h for h in hooks if event in (h.events or [])]
    if not hooks:
        return
    now = row.updated_at  # the step's own instant (a manual clock in tests stays in charge)
    body = json.dumps(
        {
            "event": event,
            "at": iso(now),
            "instance": {"id": row.id, "process_key": row.process_key, "business_key": row.business_key, "status": row.status},
            "data": data,
        },
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    for hook in hooks:
        job_id, delivery_id = str(uuid.uuid4()), str(uuid.uuid4())
        session.add(Delivery(id=delivery_id, webhook_id=hook.id, event=event, body=body, status="pending", attempts=[], job_id=job_id, created_at=now))
        session.add(Job(id=job_id, kind="webhook", instance_id=row.id, due_at=now, payload={"delivery_id": delivery_id, "webhook_id": hook.id}, attempts=0, created_at=now))


def _step_events(session: Session, ctx: StepContext) -> None:
    """Runner projection: ``task.created`` for each new user task, ``instance.completed`` at the end."""
    completed = ctx.row.status == "completed" and ctx.error is None
    if not ctx.created_tasks and not completed:
        return
    hooks = _subscribers(session)  # one read per step, only when there is something to announce
    if not hooks:
        return
    for ht in ctx.created_tasks:
        _enqueue(
            session, hooks, "task.created", ctx.row,
            {"task_id": ht.id, "element_id": ht.element_id, "name": ht.name, "lane": ht.lane,
             "candidate_groups": list(ht.candidate_groups or []), "assignee": ht.assignee, "due_at": iso(ht.due_at) if ht.due_at else None},
        )
    if completed:
        _enqueue(session, hooks, "instance.completed", ctx.row, {"data": ctx.data_after})


def _deliver(engine: IntegrationMixin, job: Job, force: bool) -> None:
    """Job handler: post one delivery outside any transaction, then record the attempt."""
    with engine.store.read() as s:
        delivery = s.get(Delivery, (job.payload or {}).get("delivery_id"))
        hook = s.get(Webhook, delivery.webhook_id) if delivery is not None else None
    now = engine.clock.now()
    if delivery is None or hook is None or not hook.active or delivery.status != "pending":
        with engine.store.write() as s:
            live = s.get(Job, job.id)
            if live is not None:
                s.delete(live)
        return
    attempt = post_signed(hook.url, delivery.event, delivery.body.encode(), hook.secret, allow_private=engine.webhook_allow_private)
    attempt["at"] = iso(now)
    with engine.store.write() as s:
        live = s.get(Job, job.id)
        row = s.get(Delivery, delivery.id)
        if live is None or row is None:
            return  # another worker finished it meanwhile
        row.attempts = [*(row.attempts or []), attempt]
        ok = attempt.get("status_code") is not None and 200 <= attempt["status_code"] < 300
        if ok:
            row.status, row.delivered_at = "delivered", now
            s.delete(live)
        elif len(row.attempts) >= WEBHOOK_MAX_ATTEMPTS:
            row.status = "failed"
            s.delete(live)
        else:
            jobs.retry_later(live, now, attempt.get("error") or f"HTTP {attempt.get('status_code')}")


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def resolve_target(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    """Check a webhook URL; returns (scheme, host, port, address to connect to).

    Every address the name resolves to must be public unless ``allow_private``: a hostile URL
    must not reach the intranet. Called at registration and again before each post (DNS can
    change in between), and the post connects to the address checked here.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an http(s) URL with a host / 须为 http(s) 地址")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValueError(f"host does not resolve ({exc}) / 无法解析主机") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if not allow_private and not is_public_address(address):
            raise ValueError(f"target {address} is not a public address / 目标地址不是公网地址（内网、回环或保留地址）")
    return parts.scheme, parts.hostname, port, addresses[0]


# Special-purpose ranges (IANA registries, RFC 6890 and successors) that Python 3.11's ``is_global``
# still calls global, or that only carry another address inside.
_NOT_PUBLIC = [ipaddress.ip_network(n) for n in (
    "192.0.0.0/24",     # IETF protocol assignments: 192.0.0.8 dummy, 192.0.0.170 NAT64 discovery, ...
    "192.88.99.0/24",   # 6to4 relay anycast (deprecated)
    "64:ff9b:1::/48",   # local-use IPv4/IPv6 translation
    "fec0::/10",        # site-local (deprecated)
    "5f00::/16",        # SRv6 SIDs
    "3fff::/20",        # documentation
)]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo).

    A host that routes these forms reaches the IPv4 address inside, so that one must be public too.
    """
    inner: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        inner.append(ip.ipv4_mapped)
    if ip in _NAT64 or ip in _COMPATIBLE:
        inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        inner.append(ip.sixtofour)
    if ip.teredo is not None:
        inner.extend(ip.teredo)
    return inner


def is_public_address(address: str) -> bool:
    """Whether a webhook may connect to ``address``: globally routable, unicast, nothing private inside."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if not ip.is_global or ip.is_multicast or any(ip in net for net in _NOT_PUBLIC if net.version == ip.version):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(is_public_address(str(v4)) for v4 in embedded_ipv4(ip))
    return True


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post_signed(url: str, event: str, body: bytes, secret: str, *, allow_private: bool) -> dict[str, Any]:
    """POST ``body`` with the event and signature headers; returns the attempt as a dict.

    http.client rather than urllib.request: the connection must go to the address that
    ``resolve_target`` checked (no second lookup an attacker's DNS could answer differently).
    """
    started = time.monotonic()
    try:
        scheme, host, port, address = resolve_target(url, allow_private=allow_private)
    except ValueError as exc:
        return {"status_code": None, "error": f"refused: {exc}", "duration_ms": 0}
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn_cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = conn_cls(host, port, address, WEBHOOK_TIMEOUT)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Jiebang-Webhook/1",
        "X-Jiebang-Event": event,
        "X-Jiebang-Signature": sign(body, secret),
    }
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read(65536)
        status: int | None = resp.status
        error = None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except (OSError, http.client.HTTPException) as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return {"status_code": status, "error": error, "duration_ms": int((time.monotonic() - started) * 1000)}


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


def _webhook_record(h: Webhook) -> WebhookRecord:
    return WebhookRecord(h.id, h.url, list(h.events or []), bool(h.active), h.created_by, h.created_at)


def _delivery_record(d: Delivery) -> DeliveryRecord:
    return DeliveryRecord(d.id, d.webhook_id, d.event, d.status, list(d.attempts or []), json.loads(d.body), d.job_id, d.created_at, d.delivered_at)


def _comment_record(c: TaskComment) -> CommentRecord:
    return CommentRecord(c.id, c.task_id, c.instance_id, c.author, c.text, c.at, c.kind or "comment")
