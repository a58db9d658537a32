"""Jiebang's engine: BPMN models, instances, tasks, timers, audit, persistence. No Flask here.

The public surface is listed in ``__all__``; everything else is internal and may move.
"""

from .clock import Clock, ManualClock, SystemClock
from .engine import Engine
from .errors import (
    ConflictError,
    DefinitionInvalidError,
    EngineError,
    FormInvalidError,
    HostileDiagramError,
    InvalidInputError,
    MessageInvalidError,
    NotAllowedError,
    NotFoundError,
    Problem,
    SandboxViolationError,
    ScriptError,
    ScriptTimeoutError,
    TooLargeError,
    TooManyAttemptsError,
)
from .payload import check_json_value, check_text, strict_json_loads
from .records import (
    AuditRecord,
    DefinitionRecord,
    InstanceRecord,
    JobRecord,
    Page,
    TaskDetail,
    TaskRecord,
    TokenRecord,
    UserRecord,
)
from .rules import Actor, acting_with, allowed, effective_roles, outranks, refused_grants, require
from .vocabulary import Decision, Event, InstanceStatus, TaskStatus, WebhookEvent

__all__ = [
    "Actor",
    "AuditRecord",
    "Clock",
    "ConflictError",
    "Decision",
    "DefinitionInvalidError",
    "DefinitionRecord",
    "Engine",
    "EngineError",
    "Event",
    "FormInvalidError",
    "HostileDiagramError",
    "InstanceRecord",
    "InstanceStatus",
    "InvalidInputError",
    "JobRecord",
    "ManualClock",
    "MessageInvalidError",
    "NotAllowedError",
    "NotFoundError",
    "Page",
    "Problem",
    "SandboxViolationError",
    "ScriptError",
    "ScriptTimeoutError",
    "SystemClock",
    "TaskDetail",
    "TaskRecord",
    "TaskStatus",
    "TokenRecord",
    "TooLargeError",
    "TooManyAttemptsError",
    "UserRecord",
    "WebhookEvent",
    "acting_with",
    "allowed",
    "check_json_value",
    "check_text",
    "effective_roles",
    "outranks",
    "refused_grants",
    "require",
    "strict_json_loads",
]
