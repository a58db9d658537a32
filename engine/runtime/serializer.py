"""Workflow state <-> JSON, with the process spec stored once per version, not per instance.

Spiff's serializer embeds the full spec (about 40 KB) in every save and rebuilds private spec
objects on every load. Here the top-level converter leaves the spec out and restores the
workflow around the cached spec objects of its definition version.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from ..errors import ScriptError

FORMAT_KEY = "serializer_version"


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer:
    """The one configured serializer; ``dumps``/``loads`` are the only entry points."""

    def __init__(self) -> None:
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _SpeclessWorkflowConverter
        self.registry = BpmnWorkflowSerializer.configure(config)
        self.spiff = BpmnWorkflowSerializer(self.registry)
        self._encoder = create_encoder(self.registry)

    def dumps(self, workflow: BpmnWorkflow) -> str:
        self.registry._encoder_mode = True
        try:
            dct = self.registry.convert(workflow)
            dct[FORMAT_KEY] = VERSION
            return json.dumps(dct, cls=self._encoder, separators=(",", ":"))
        finally:
            self.registry._encoder_mode = False

    def loads(self, text: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        dct = json.loads(text)
        version = dct.pop(FORMAT_KEY, VERSION)
        if version in MIGRATIONS:
            MIGRATIONS[version](dct)
        return self.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)

    def data(self, value: Any) -> Any:
        """Task data as JSON-native values (datetimes and UUIDs become their dict forms).

        A script can compute ``float("nan")``; JSON has no such number, so the step is refused
        (ScriptError naming the variable) rather than stored and emitted as invalid JSON.
        """
        cleaned = self.registry.clean(value)
        try:
            return json.loads(json.dumps(cleaned, cls=self._encoder, allow_nan=False))
        except ValueError:
            names = (
                [k for k, v in cleaned.items() if not _representable(v, self._encoder)]
                if isinstance(cleaned, dict)
                else []
            )
            raise ScriptError(
                f"task data variable {', '.join(map(repr, names)) or '(unknown)'} holds NaN or Infinity, which JSON cannot "
                "represent / 流程变量包含 NaN 或 Infinity，无法保存"
            ) from None


def _representable(value: Any, encoder: type[json.JSONEncoder]) -> bool:
    try:
        json.dumps(value, cls=encoder, allow_nan=False)
    except ValueError:
        return False
    return True
