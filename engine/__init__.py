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

__all__ = [
    "AuditRecord",
    "Clock",
    "ConflictError",
    "DefinitionInvalidError",
    "DefinitionRecord",
    "Engine",
    "EngineError",
    "FormInvalidError",
    "HostileDiagramError",
    "InstanceRecord",
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
    "TokenRecord",
    "TooLargeError",
    "TooManyAttemptsError",
    "UserRecord",
]
