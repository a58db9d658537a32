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
from .rules import acting_with, effective_roles, outranks, refused_grants

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
    "acting_with",
    "check_json_value",
    "check_text",
    "effective_roles",
    "outranks",
    "refused_grants",
    "strict_json_loads",
]
