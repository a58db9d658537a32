"""Messages between instances: a message one instance throws reaches the instance that waits for it.

Spiff correlates a message only inside the instance that threw it; what nothing there caught is
left in ``bpmn_events`` (the runner drains it into ``StepContext.thrown``). Here, still inside
the throwing step's transaction, each such message is delivered to exactly one other instance of
the same tenant:

- one waiting for it by name (an intermediate catch event, a receive task, a boundary event, an
  event subprocess's message start), narrowed by the business key the payload names in
  ``business_key`` and by the correlation keys the message carries (Spiff's
  ``correlationProperty`` on the thrower, ``processVariableCorrelation`` on the catcher);
- otherwise a new instance of the deployed process whose start event waits for that message.

No receiver, or several, fails the throwing step with ``UnroutableMessageError``: the whole
transaction rolls back, then the throwing instance stops there with a ``message`` incident
(``Steps.write``) until an admin has made a receiver and retries. The receiver is locked before
delivery and its subscription re-read under the lock, so two workers throwing at once deliver
each message once, in turn; the one that finds it taken fails with ``UndeliveredMessageError``
and is simply tried again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import UndeliveredMessageError, UnroutableMessageError
from ..tables import Instance, MessageSubscription
from .runner import StepContext, message_event


class Step(Protocol):
    """What delivery needs of the throwing step (``runtime/step.Step``, which calls ``relay``)."""

    session: Session
    actor: str | None
    relay_depth: int

    def lock_other(self, instance_id: str) -> Instance: ...

    def start_by_message(
        self,
        name: str,
        source: Instance,
        business_key: str | None,
        payload: Any,
        correlations: dict[str, Any],
    ) -> bool: ...

    def record(self, event: str, *, actor: str | None, **fields: Any) -> None: ...

    def advance(self, row: Instance, action: Callable[[Any], None]) -> StepContext: ...


#: How deep one step's messages may set off further messages (A throws to B, which throws to C...).
MAX_RELAY_DEPTH = 8


def relay(step: Step, ctx: StepContext) -> None:
    """Deliver every message ``ctx``'s instance threw and did not catch itself."""
    if ctx.error is not None or not ctx.thrown:
        return
    thrown, ctx.thrown = ctx.thrown, []
    if step.relay_depth >= MAX_RELAY_DEPTH:
        raise UnroutableMessageError(
            f"messages between instances went {MAX_RELAY_DEPTH} deep in one step; the diagrams throw in a circle",
            instance_id=ctx.row.id,
        )
    step.relay_depth += 1
    try:
        for event in thrown:
            deliver(step, ctx.row, event, thrower(ctx, event.event_definition.name))
    finally:
        step.relay_depth -= 1


def thrower(ctx: StepContext, name: str) -> str | None:
    """The element of this step that threw message ``name`` (a throw or end event, a send task)."""
    for spec in ctx.model.spec.task_specs.values():
        definition = getattr(spec, "event_definition", None)
        if spec.bpmn_id in ctx.visited and getattr(definition, "name", None) == name:
            return str(spec.bpmn_id)
    return None


def business_key_of(payload: Any) -> str | None:
    """The business key a thrown message is addressed to: its payload's ``business_key``, if any."""
    if isinstance(payload, dict):
        key = payload.get("business_key")
        if isinstance(key, str) and key:
            return key
    return None


def correlated(carried: dict[str, Any], waiting: dict[str, Any] | None) -> bool:
    """Spiff's rule, read from the index: a message without keys, or a waiter that has none yet,
    matches; otherwise one key the message carries must equal the waiter's."""
    if not carried or not waiting:
        return True
    return any(carried.get(key) == waiting.get(key) for key in carried)


def deliver(step: Step, source: Instance, event: BpmnEvent, element: str | None = None) -> None:
    name = event.event_definition.name
    payload = event.payload
    correlations = dict(event.correlations or {})
    key = business_key_of(payload)
    where = _describe(name, key, correlations)
    targets = _waiting(step, source, name, key, correlations)
    if len(targets) > 1:
        raise UnroutableMessageError(
            f"{len(targets)} instances wait for {where}; name a business_key or a correlation key",
            message=name,
            instance_id=source.id,
            element_id=element,
        )
    if not targets:
        started = step.start_by_message(name, source, key, payload, correlations)
        if started:
            return
        raise UnroutableMessageError(
            f"no instance waits for {where}, thrown by instance {source.id}",
            message=name,
            instance_id=source.id,
            element_id=element,
        )
    target = step.lock_other(targets[0])
    still = step.session.scalar(
        select(MessageSubscription.task_id)
        .where(MessageSubscription.instance_id == target.id, MessageSubscription.message_name == name)
        .limit(1)
    )
    if still is None or target.status != "running":  # another step delivered first: try again later
        raise UndeliveredMessageError(
            f"instance {target.id} no longer waits for {where}; it was delivered by another step",
            message=name,
            instance_id=source.id,
        )
    step.record(
        audit.MESSAGE,
        actor=step.actor,
        instance_id=target.id,
        data={"name": name, "payload": payload, "from_instance": source.id},
    )
    fresh = message_event(name, payload, correlations)

    def catch(wf: Any) -> None:
        if wf.event_manager.catch(fresh, internal=False) == 0:
            raise UnroutableMessageError(
                f"instance {target.id} refused {where}: its correlation keys do not match",
                message=name,
                instance_id=source.id,
                element_id=element,
            )

    ctx = step.advance(target, catch)
    if ctx.error is not None:  # the receiver failed on it: nothing of this step may stay
        raise UnroutableMessageError(
            f"instance {target.id} failed on {where}: {ctx.error}",
            message=name,
            instance_id=source.id,
            element_id=element,
        )


def _waiting(
    step: Step, source: Instance, name: str, key: str | None, correlations: dict[str, Any]
) -> list[str]:
    """The other running instances of the thrower's tenant waiting for ``name`` that match."""
    stmt = (
        select(MessageSubscription.instance_id, MessageSubscription.correlations)
        .join(Instance, Instance.id == MessageSubscription.instance_id)
        .where(
            MessageSubscription.message_name == name,
            Instance.status == "running",
            Instance.id != source.id,
            Instance.tenant.is_(None) if source.tenant is None else Instance.tenant == source.tenant,
        )
    )
    if key is not None:
        stmt = stmt.where(MessageSubscription.business_key == key)
    found = {
        instance_id
        for instance_id, waiting in step.session.execute(stmt)
        if correlated(correlations, waiting)
    }
    return sorted(found)


def _describe(name: str, key: str | None, correlations: dict[str, Any]) -> str:
    what = f"message '{name}'"
    if key is not None:
        what += f" with business key '{key}'"
    if correlations:
        what += f" with correlation keys {correlations}"
    return what
