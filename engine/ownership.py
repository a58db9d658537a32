"""Who may write which instance variable: the one rule between caller data and the diagram.

The read models and the score ledger trust a handful of variables (``phase``, ``ledger``,
``claims``, the chosen claimant, red/yellow/green...). Only the diagram's own scripts, decision
tables and events write them; caller data never does:

- start data: only the names the process declares on its start event, a start form
  (``formJsonSchemaFilename``) and/or a list (``startVariables="a,b"``); nothing when it declares
  neither;
- task completion data: only the properties the task's form declares (a task without a form
  takes any name that is not engine-owned);
- a board claim reaches the workflow only as the message variable the diagram names, and only
  through the board's checks (``Engine.send_message`` refuses the messages the engine sends itself).

A form or start declaration that names an engine-owned variable is a deploy-time problem.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from .errors import FormInvalidError, Problem
from .sandbox.helpers import HELPER_NAMES

#: Variables only the diagram writes: what board, claims, supervision, acceptance and the ledger
#: rely on (engine/challenge/board.py and the scripts of bpmn/claim_evaluate.bpmn), plus the ``signatures``
#: the engine itself attaches to a signed step. Scratch values a script recomputes right before
#: using them (``total``, ``team``, ``late``) are not listed.
ENGINE_OWNED = frozenset(
    {
        "phase",
        "outcome",
        "rag",
        "ledger",
        "multiplier",
        "on_time",
        "claims",
        "claim",
        "claimant",
        "claimant_leader",
        "claimed_at",
        "allow_submitter_claim",
        "published_at",
        "claim_deadline",
        "republished",
        "supervision_started_at",
        "report_due_at",
        "reported_at",
        "reports_count",
        "overdue_reports",
        "last_report",
        "submitted_at",
        "accepted_at",
        "failed_at",
        "rejected_at",
        "signatures",
    }
)


def is_reserved(name: str) -> bool:
    """Names no data may carry: the script helpers and underscore-prefixed internals."""
    return name in HELPER_NAMES or name.startswith("_")


def declared_names(schema: Mapping[str, Any] | None) -> set[str]:
    """The top-level properties a form declares, including those of its ``allOf``/``if``/``then`` parts."""
    if not isinstance(schema, Mapping):
        return set()
    names = set((schema.get("properties") or {}).keys())
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            names |= declared_names(part)
    for key in ("if", "then", "else"):
        names |= declared_names(schema.get(key))
    return names


def check_caller_data(data: Any, allowed: Collection[str] | None, *, what: str) -> None:
    """Refuse (422, each name under its field) what a caller may not write.

    ``allowed`` is the declared names (``None``: anything not engine-owned or reserved); ``what``
    names the data (``start data``, ``task data``) in the message.
    """
    if not isinstance(data, Mapping):
        raise FormInvalidError(f"{what} must be an object", {"": ["must be an object / 必须是对象"]})
    errors: dict[str, list[str]] = {}
    for name in data:
        if is_reserved(name):
            errors[name] = ["reserved name / 保留字段名"]
        elif name in ENGINE_OWNED:
            errors[name] = ["set by the process only / 该字段只能由流程设置"]
        elif allowed is not None and name not in allowed:
            errors[name] = ["not declared for this step / 未声明的字段"]
    if errors:
        raise FormInvalidError(f"{what} may not set: {', '.join(sorted(errors))}", errors)


def declaration_problems(
    element_id: str, names: Iterable[str], *, source: str, file: str | None = None
) -> list[Problem]:
    """Deploy-time problems for a form or start declaration naming engine-owned or reserved variables."""
    bad = sorted({n for n in names if n in ENGINE_OWNED or is_reserved(n)})
    if not bad:
        return []
    listed = ", ".join(bad)
    return [
        Problem(
            element_id,
            "engine-owned-variable",
            f"'{element_id}': {source} names {listed}, which only the process itself may set. Rename the field.",
            f"'{element_id}'：{source} 声明了只能由流程设置的变量 {listed}，请改名。",
            file,
        )
    ]
