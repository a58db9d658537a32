"""The one vocabulary of actions, shared by audit rows, permission rules and log lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .tables import AuditEvent

INSTANCE_START = "instance.start"
INSTANCE_COMPLETE = "instance.completed"
INSTANCE_CANCEL = "instance.cancel"
INSTANCE_ERROR = "instance.error"
TASK_CREATE = "task.created"
TASK_CLAIM = "task.claim"
TASK_UNCLAIM = "task.unclaim"
TASK_COMPLETE = "task.complete"
TASK_CANCEL = "task.cancelled"
TASK_DELEGATE_DONE = "task.delegate_done"  # a delegate submitted their work back to the owner
MESSAGE = "message.received"
TIMER_FIRE = "timer.fired"
SCORE_AWARD = "score.awarded"
MODEL_DEPLOY = "model.deploy"
TASK_RELEASED = "task.released"  # its holder was deactivated: back to the candidate queue
TASK_HOLDER_DEACTIVATED = "task.holder_deactivated"  # assigned by its lane; stays for an admin to transfer
USER_DEACTIVATED = "user.deactivated"
USER_ACTIVATED = "user.activated"
TOKEN_REVOKED = "token.revoked"


def record(
    session: Session,
    event: str,
    at: datetime,
    *,
    actor: str | None = None,
    instance_id: str | None = None,
    element_id: str | None = None,
    task_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one row; history is never rewritten."""
    session.add(
        AuditEvent(
            instance_id=instance_id,
            at=at,
            actor=actor,
            event=event,
            element_id=element_id,
            task_id=task_id,
            data=data or {},
        )
    )
