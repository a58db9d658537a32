"""The engine's error tree: every failure a caller can act on is one of these.

    EngineError
    ├── NotFoundError            unknown definition, instance, task, job, user
    ├── NotAllowedError          the actor may not do this action
    ├── ConflictError            state forbids it now: claimed, completed, concurrent change
    │   └── UndeliveredMessageError  a message a diagram threw was not delivered
    │       └── UnroutableMessageError  … because no instance, or several, wait for it
    ├── InvalidInputError        bad content; ``errors`` maps a field path to messages
    │   ├── FormInvalidError     task data fails the task's JSON Schema
    │   ├── DefinitionInvalidError   a diagram cannot be deployed; ``problems`` per element
    │   │   └── HostileDiagramError  refused before parsing finished (entities, size, depth)
    │   ├── MessageInvalidError  a message nothing can correlate, or a bad payload
    │   └── ImportInvalidError   an organisation file with bad cells; ``report`` lists each
    ├── TooLargeError            a body or file over the configured limit
    ├── TooManyAttemptsError     logins refused for a while after repeated failures
    └── ScriptError              a diagram's script or expression failed or was stopped
        ├── SandboxViolationError    reached for the OS, files, network or internals
        ├── ScriptTimeoutError       ran past its time budget
        └── TaskDataError            left data that is not JSON or too big to store

The API maps each class to one HTTP status in a single table (api/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram, pinned to the element that carries it."""

    element_id: str | None
    code: str
    message: str
    message_zh: str
    file: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "element_id": self.element_id,
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
            "file": self.file,
            "line": self.line,
        }


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    title = "Engine error"

    def __init__(self, detail: str = "", **context: object) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.context = context


class NotFoundError(EngineError):
    title = "Not found"


class NotAllowedError(EngineError):
    title = "Not allowed"


class ConflictError(EngineError):
    title = "Conflict"


class UndeliveredMessageError(ConflictError):
    """A message thrown inside one instance was not delivered to another.

    The throwing step fails as a whole, so nothing is lost. This one (the receiver was taken by
    a step running at the same time) is worth trying again: the task stays open, a timer's job
    is retried. ``context`` names the message, the throwing instance and element, and the key.
    """

    title = "Message not delivered"


class UnroutableMessageError(UndeliveredMessageError):
    """No instance waits for the message, or several do, or it set off messages in a circle: the
    diagram or its data is at fault, so the throwing instance stops with an incident (retrying
    the same step alone would fail the same way)."""


class TooManyAttemptsError(EngineError):
    """Too many failed logins for a username or from an address; ``retry_after`` seconds to wait."""

    title = "Too many attempts"

    def __init__(self, detail: str = "", *, retry_after: int = 1) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class InvalidInputError(EngineError):
    title = "Invalid input"

    def __init__(
        self, detail: str = "", errors: dict[str, list[str]] | None = None, **context: object
    ) -> None:
        super().__init__(detail, **context)
        self.errors: dict[str, list[str]] = errors or {}


class FormInvalidError(InvalidInputError):
    title = "Form data invalid"


class DefinitionInvalidError(InvalidInputError):
    title = "Diagram invalid"

    def __init__(self, detail: str = "", problems: list[Problem] | None = None, **context: object) -> None:
        self.problems: list[Problem] = list(problems or [])
        errors: dict[str, list[str]] = {}
        for p in self.problems:
            errors.setdefault(p.element_id or "(diagram)", []).append(f"{p.message} / {p.message_zh}")
        super().__init__(
            detail or "; ".join(f"{p.element_id}: {p.message}" for p in self.problems), errors, **context
        )


class HostileDiagramError(DefinitionInvalidError):
    title = "Diagram refused"


class MessageInvalidError(InvalidInputError):
    title = "Message invalid"


class ImportInvalidError(InvalidInputError):
    """An organisation file refused as a whole; ``report`` says where each bad cell is."""

    title = "Import invalid"

    def __init__(self, detail: str, report: object) -> None:
        super().__init__(detail)
        self.report = report  # an OrgImportReport (records.py), whose ``errors`` are not empty


class TooLargeError(EngineError):
    title = "Too large"


class ScriptError(EngineError):
    title = "Script failed"


class JobFailedError(ScriptError):
    """A job an admin ran again (retrying its incident) failed again."""

    title = "Job failed"


class SandboxViolationError(ScriptError):
    title = "Script not allowed"


class ScriptTimeoutError(ScriptError):
    title = "Script ran too long"


class TaskDataError(ScriptError):
    """Task data that cannot be stored: not JSON data, nested too deeply, or too big."""

    title = "Task data not storable"
