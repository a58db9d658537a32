"""Bounds on what SpiffWorkflow builds in the server process for a diagram.

Spiff creates every instance of a parallel multi-instance task at once, from a cardinality
expression or the size of an input collection taken from task data: ``loopCardinality`` of
20,000 held a request thread (and the GIL) for minutes. This caps the instances one
multi-instance activity may create, so the step fails with a clear ScriptError naming the
element, recorded on the instance like any diagram failure. Installed once, when the runner is
imported; it wraps ``MultiInstanceTask.create_child``, the one place both the parallel and the
sequential form create an instance.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from engine.errors import ScriptError

__all__ = ["MAX_INSTANCES", "install"]

#: Most instances one multi-instance activity may create (signers, members, contributions...).
MAX_INSTANCES = 1000

_original_create_child = MultiInstanceTask.create_child


def _bounded_create_child(self: MultiInstanceTask, my_task: Any, item: Any, key_or_index: Any = None) -> Any:
    if len(my_task.children) >= MAX_INSTANCES and sum(1 for _ in self._instances(my_task)) >= MAX_INSTANCES:
        element = self.bpmn_id or self.name
        raise ScriptError(
            f"multi-instance {element!r} would run more than {MAX_INSTANCES:,} instances; "
            "its cardinality or input collection is too large",
            bpmn_id=element,
            task_id=str(my_task.id),
        )
    return _original_create_child(self, my_task, item, key_or_index)


def install() -> None:
    """Put the bound in place (idempotent)."""
    MultiInstanceTask.create_child = _bounded_create_child


install()
