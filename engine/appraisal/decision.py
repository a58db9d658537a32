"""A scheme's DMN combination rule: a decision deployed with a process (``process_key``) whose
table takes the dimension scores as inputs and outputs ``total``. It is evaluated the way a
diagram's business rule task is: Spiff's DMN engine, with the runner's sandboxed script engine
reading the cells (which deploy checked like any diagram's DMN).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from ..definitions import modelcheck
from ..definitions.catalog import Catalog
from ..errors import InvalidInputError, ScriptError
from ..runtime.step import Step

OUTPUT = "total"


def _decision(s: Session, catalog: Catalog, tenant: str | None, definition: dict[str, Any]) -> Any:
    key, decision = definition.get("process_key"), definition.get("decision")
    row = catalog.latest(s, str(key or ""), missing_ok=True, tenant=tenant)
    if row is None:
        raise InvalidInputError(f"no process {key}", {"process_key": [f"no process '{key}' / 流程不存在"]})
    parser = modelcheck.spiff_parser()
    for name, text in row.files.items():
        if name.lower().endswith(".dmn"):
            parser.add_dmn_str(text.encode("utf-8"), filename=name)
    if decision not in parser.dmn_parsers:
        raise InvalidInputError(
            f"no decision {decision} in {key}",
            {"decision": [f"no decision '{decision}' in {key} / 决策不存在"]},
        )
    return parser.get_engine(decision, None)


def check(step: Step, tenant: str | None, definition: dict[str, Any]) -> None:
    """Refuse (422) a DMN rule whose process or decision is not deployed for ``tenant``."""
    _decision(step.session, step.runner.catalog, tenant, definition)


def total(step: Step, tenant: str | None, definition: dict[str, Any], dims: dict[str, float]) -> float:
    """The decision's ``total`` for one subject's dimension scores."""
    engine = _decision(step.session, step.runner.catalog, tenant, definition)
    task = SimpleNamespace(data=dict(dims), workflow=SimpleNamespace(script_engine=step.runner.script_engine))
    try:
        out = engine.result(task)
    except Exception as exc:  # a cell that fails on these inputs: the scheme's author must fix it
        raise ScriptError(f"decision {definition.get('decision')} failed: {exc}") from exc
    value = out.get(OUTPUT)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScriptError(f"decision {definition.get('decision')} gave no number '{OUTPUT}' for {dims}")
    return float(value)
