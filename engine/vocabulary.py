"""The engine's words: audit events, webhook events, instance and task statuses, decisions.

Audit rows, webhooks, the API's enums, the pages and the permission rules name things with these
members (they are ``str``, so a stored row or a JSON body holds the plain value). Audit names are
what a row records (``task.complete``: someone completed a task) and stay as stored; webhook names
are the public contract with the OA system (``task.completed``), and each is announced in the same
transaction as the audit event ``AUDITED_AS`` pairs it with, so the two never drift apart.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

__all__ = ["AUDITED_AS", "REFUSALS", "Decision", "Event", "InstanceStatus", "TaskStatus", "WebhookEvent"]


class Event(StrEnum):
    """What an audit row records."""

    MODEL_DEPLOY = "model.deploy"
    INSTANCE_START = "instance.start"
    INSTANCE_COMPLETED = "instance.completed"
    INSTANCE_CANCEL = "instance.cancel"
    INSTANCE_ERROR = "instance.error"
    INSTANCE_RESUMED = "instance.resumed"  # an admin ran a stopped instance again (its incident retried)
    INSTANCE_VARIABLES_SET = "instance.variables_set"  # an admin changed its data, with the values before
    INSTANCE_MIGRATED = "instance.migrated"  # an admin moved it to another version of its process
    INCIDENT_RETRIED = "incident.retried"  # a parked job runs again
    INSTANCE_WITHDRAW = "instance.withdraw"
    INSTANCE_CC = "instance.cc"
    TASK_CREATED = "task.created"
    TASK_CLAIM = "task.claim"
    TASK_UNCLAIM = "task.unclaim"
    TASK_COMPLETE = "task.complete"
    TASK_CANCELLED = "task.cancelled"
    TASK_COMMENTED = "task.commented"
    TASK_RETURN = "task.return"
    TASK_URGE = "task.urge"
    TASK_DELEGATE = "task.delegate"
    TASK_DELEGATE_DONE = "task.delegate_done"
    TASK_TRANSFER = "task.transfer"
    TASK_ADD_SIGNERS = "task.add_signers"
    TASK_REMOVE_SIGNER = "task.remove_signer"
    TASK_SIGN = "task.sign"
    TASK_TIMEOUT = "task.timeout"
    TASK_AUTO_APPROVE = "task.auto_approve"
    TASK_RELEASED = "task.released"  # its holder was deactivated: back to the candidate queue
    TASK_HOLDER_DEACTIVATED = (
        "task.holder_deactivated"  # assigned by its lane; stays for an admin to transfer
    )
    ASSIGNMENT_UNRESOLVED = "assignment.unresolved"  # a post rule found nobody: the task waits, flagged
    ASSIGNMENT_RESOLVED = "assignment.resolved"  # the post changed hands: the task follows it
    MESSAGE_RECEIVED = "message.received"
    TIMER_FIRED = "timer.fired"
    SCORE_AWARDED = "score.awarded"
    USER_DEACTIVATED = "user.deactivated"
    USER_ACTIVATED = "user.activated"
    TOKEN_REVOKED = "token.revoked"
    CAMPAIGN_CREATED = "campaign.created"
    CAMPAIGN_IMPORTED = "campaign.imported"  # one per problem started from an imported list
    CAMPAIGN_PUBLISHED = "campaign.published"  # one per problem the campaign published on the board
    CAMPAIGN_UPDATED = "campaign.updated"  # who may claim its problems changed
    ATTACHMENT_UPLOADED = "attachment.uploaded"
    CAMPAIGN_ASSESSMENT_OPENED = "campaign.assessment_opened"  # one per item given its year-end task
    CAMPAIGN_CARRIED_OVER = "campaign.carried_over"  # on the new item: where it came from
    CAMPAIGN_LISTED = "campaign.listed"  # an annual list's final list started as the campaign's problems
    UNIT_CREATED = "unit.created"
    UNIT_UPDATED = "unit.updated"
    UNIT_DELETED = "unit.deleted"
    USER_POSTS_SET = "user.posts_set"  # the posts a person holds were replaced
    ORG_IMPORTED = "org.imported"  # units and people from a file, counted
    VILLAGE_LEADER_APPOINTED = "village.leader_appointed"  # a 总队长 confirmed; the letter's number
    VILLAGE_LEADER_REPLACED = "village.leader_replaced"  # the previous 总队长 left; open work followed


class WebhookEvent(StrEnum):
    """What a webhook may subscribe to (the public contract: ``X-Jiebang-Event``)."""

    TASK_CREATED = "task.created"
    TASK_COMPLETED = "task.completed"
    TASK_URGED = "task.urged"
    TASK_RETURNED = "task.returned"
    INSTANCE_COMPLETED = "instance.completed"
    INSTANCE_CANCELLED = "instance.cancelled"


# Each webhook event is announced in the step that writes this audit event.
AUDITED_AS: MappingProxyType[WebhookEvent, Event] = MappingProxyType(
    {
        WebhookEvent.TASK_CREATED: Event.TASK_CREATED,
        WebhookEvent.TASK_COMPLETED: Event.TASK_COMPLETE,
        WebhookEvent.TASK_URGED: Event.TASK_URGE,
        WebhookEvent.TASK_RETURNED: Event.TASK_RETURN,
        WebhookEvent.INSTANCE_COMPLETED: Event.INSTANCE_COMPLETED,
        WebhookEvent.INSTANCE_CANCELLED: Event.INSTANCE_CANCEL,
    }
)


class InstanceStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"


class TaskStatus(StrEnum):
    """A row of the task index: a user task, or one signer's part of it (``superseded``/``skipped``/``removed``)."""

    OPEN = "open"
    WAITING = "waiting"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"
    SKIPPED = "skipped"
    REMOVED = "removed"


class Decision(StrEnum):
    """A step's verdict as approvals count it."""

    APPROVE = "approve"
    REJECT = "reject"


# Submitted ``decision`` values that count as a refusal (a diagram's own words for no).
REFUSALS = frozenset({"reject", "fail", "terminate"})
