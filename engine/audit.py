"""The append-only audit log; its event names are ``engine.vocabulary.Event``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .tables import AuditEvent
from .vocabulary import Event

# The names the engine's modules write under (members of the one vocabulary).
INSTANCE_START = Event.INSTANCE_START
INSTANCE_COMPLETE = Event.INSTANCE_COMPLETED
INSTANCE_CANCEL = Event.INSTANCE_CANCEL
INSTANCE_ERROR = Event.INSTANCE_ERROR
TASK_CREATE = Event.TASK_CREATED
TASK_CLAIM = Event.TASK_CLAIM
TASK_UNCLAIM = Event.TASK_UNCLAIM
TASK_COMPLETE = Event.TASK_COMPLETE
TASK_CANCEL = Event.TASK_CANCELLED
TASK_DELEGATE_DONE = Event.TASK_DELEGATE_DONE  # a delegate submitted their work back to the owner
MESSAGE = Event.MESSAGE_RECEIVED
TIMER_FIRE = Event.TIMER_FIRED
SCORE_AWARD = Event.SCORE_AWARDED
MODEL_DEPLOY = Event.MODEL_DEPLOY
TASK_RELEASED = Event.TASK_RELEASED  # its holder was deactivated: back to the candidate queue
TASK_HOLDER_DEACTIVATED = (
    Event.TASK_HOLDER_DEACTIVATED
)  # assigned by its lane; stays for an admin to transfer
USER_DEACTIVATED = Event.USER_DEACTIVATED
USER_ACTIVATED = Event.USER_ACTIVATED
TOKEN_REVOKED = Event.TOKEN_REVOKED
UNIT_CREATED = Event.UNIT_CREATED
UNIT_UPDATED = Event.UNIT_UPDATED
UNIT_DELETED = Event.UNIT_DELETED
USER_POSTS_SET = Event.USER_POSTS_SET
ORG_IMPORTED = Event.ORG_IMPORTED


def record(
    session: Session,
    event: Event | str,
    at: datetime,
    *,
    actor: str | None = None,
    instance_id: str | None = None,
    element_id: str | None = None,
    task_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one row; history is never rewritten. ``event`` must be a word of the vocabulary."""
    event = Event(event)  # a misspelt name fails here, in the step, not unnoticed in the history
    session.add(
        AuditEvent(
            instance_id=instance_id,
            at=at,
            actor=actor,
            event=event.value,
            element_id=element_id,
            task_id=task_id,
            data=data or {},
        )
    )
