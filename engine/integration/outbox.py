"""The webhook outbox: a step that causes an event writes its deliveries; a job posts each later.

The ``Delivery`` row and its ``webhook`` job are written in the transaction of the step that
caused the event, so an event is announced exactly when its step commits. ``deliver`` posts
outside any transaction through the engine's ``Transport`` and records the attempt.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..jobs import leasing as jobs
from ..runtime.clock import iso
from ..store import Store
from ..tables import Instance, Job
from ..vocabulary import WebhookEvent
from .tables import Delivery, Webhook
from .transport import Transport

if TYPE_CHECKING:
    from ..runtime.clock import Clock
    from ..runtime.runner import StepContext

WEBHOOK_MAX_ATTEMPTS = 15  # 5 s doubling, capped at 6 h: about three days of trying


class OutboxHost(Protocol):
    """What ``deliver`` needs of the engine."""

    store: Store
    clock: Clock
    transport: Transport
    webhook_allow_private: bool


def enqueue_for_event(session: Session, event: str, row: Instance, data: dict[str, Any]) -> None:
    """Engine listener: queue a delivery for each active webhook subscribed to ``event``."""
    event = WebhookEvent(event).value  # only the vocabulary's webhook events are announced
    _enqueue(session, _subscribers(session), event, row, data)


def _subscribers(session: Session) -> list[Webhook]:
    """Active webhooks, read once per transaction however many events the step announces."""
    hooks = session.info.get("jiebang_webhooks")
    if hooks is None:
        hooks = session.info["jiebang_webhooks"] = list(
            session.scalars(select(Webhook).where(Webhook.active.is_(True)))
        )
    return hooks


def _enqueue(session: Session, hooks: list[Webhook], event: str, row: Instance, data: dict[str, Any]) -> None:
    # A tenant's webhooks hear only its own instances; the installation's (no tenant) hear all.
    hooks = [h for h in hooks if event in (h.events or []) and h.tenant in (None, row.tenant)]
    if not hooks:
        return
    now = row.updated_at  # the step's own instant (a manual clock in tests stays in charge)
    body = json.dumps(
        {
            "event": event,
            "at": iso(now),
            "instance": {
                "id": row.id,
                "process_key": row.process_key,
                "business_key": row.business_key,
                "status": row.status,
            },
            "data": data,
        },
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    for hook in hooks:
        job_id, delivery_id = str(uuid.uuid4()), str(uuid.uuid4())
        session.add(
            Delivery(
                id=delivery_id,
                webhook_id=hook.id,
                event=event,
                body=body,
                status="pending",
                attempts=[],
                job_id=job_id,
                created_at=now,
                tenant=row.tenant,
            )
        )
        session.add(
            Job(
                id=job_id,
                kind="webhook",
                instance_id=row.id,
                due_at=now,
                payload={"delivery_id": delivery_id, "webhook_id": hook.id},
                attempts=0,
                created_at=now,
                tenant=row.tenant,
            )
        )


def enqueue_step_events(session: Session, ctx: StepContext) -> None:
    """Runner projection: ``task.created`` for each new user task, ``instance.completed`` at the end."""
    completed = ctx.row.status == "completed" and ctx.error is None
    if not ctx.created_tasks and not completed:
        return
    hooks = _subscribers(session)  # one read per step, only when there is something to announce
    if not hooks:
        return
    for ht in ctx.created_tasks:
        _enqueue(
            session,
            hooks,
            "task.created",
            ctx.row,
            {
                "task_id": ht.id,
                "element_id": ht.element_id,
                "name": ht.name,
                "lane": ht.lane,
                "candidate_groups": list(ht.candidate_groups or []),
                "assignee": ht.assignee,
                "due_at": iso(ht.due_at) if ht.due_at else None,
            },
        )
    if completed:
        _enqueue(session, hooks, "instance.completed", ctx.row, {"data": ctx.data_after})


def deliver(engine: OutboxHost, job: Job, force: bool) -> None:
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
    attempt = engine.transport.post(
        hook.url,
        delivery.event,
        delivery.body.encode(),
        hook.secret,
        allow_private=engine.webhook_allow_private,
    )
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
