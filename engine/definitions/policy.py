"""Jiebang's BPMN extension properties, read in one place into frozen policies.

A diagram tunes how the engine treats its elements with ``spiffworkflow:property`` values (the
README's table). They are read here and nowhere else: at deploy every value is checked
(``property_problems``), so a misspelt ``approvalMode`` or a lane rule that names no one is a
problem naming its element instead of a step that silently runs another way; when a version is
parsed, the catalog builds one ``TaskPolicy`` per element and one ``ProcessPolicy`` and caches them
with the model, and the runner and the approval operations read only those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lxml import etree

from .. import durations

__all__ = [
    "APPROVAL_MODES",
    "AUTO_APPROVE",
    "EMPTY",
    "LOCALES",
    "NAME_EN",
    "ON_REJECT",
    "START_VARIABLES",
    "TIMEOUT_ACTIONS",
    "ProcessPolicy",
    "TaskPolicy",
    "diagram_policies",
    "element_names",
    "element_properties",
    "parse_names",
    "process_policy",
    "property_problems",
    "task_policy",
]

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

APPROVAL_MODES = ("all", "any", "sequential")  # besides ratio:R
TIMEOUT_ACTIONS = ("remind", "approve", "reject")
ON_REJECT = ("reject", "return")
AUTO_APPROVE = ("never", "same_person", "consecutive")
LANE_KINDS = ("group", "user", "data")  # besides starter
START_VARIABLES = "startVariables"
NAME_EN = "name_en"  # an element's English name; its ``name`` attribute is the designer's Chinese
LOCALES = ("zh_CN", "en")  # the page languages; the diagram's own name is the zh_CN one
MAX_NAME_CHARS = 200

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class TaskPolicy:
    """What a diagram says about one element (user task or start event) beyond plain BPMN."""

    element_id: str
    form: str | None = None  # formJsonSchemaFilename
    assignee: str | None = None  # the data variable naming the person
    candidate_groups: tuple[str, ...] = ()
    due_in: str | None = None  # ISO duration
    timeout: str | None = None  # ISO duration
    timeout_action: str = "remind"
    cc_groups: tuple[str, ...] = ()
    approval_mode: str | None = None  # all | any | sequential | ratio:R
    approvers: str | None = None  # the data variable listing the signers
    on_reject: str = "reject"
    reject_decision: str = "reject"
    start_variables: tuple[str, ...] = ()

    @property
    def ratio(self) -> float | None:
        """The share of approvals a ``ratio:R`` signing needs, or None for the other modes."""
        if self.approval_mode and self.approval_mode.startswith("ratio:"):
            return float(self.approval_mode.removeprefix("ratio:"))
        return None


EMPTY = TaskPolicy("")


@dataclass(frozen=True)
class ProcessPolicy:
    """What a diagram says about the whole process: auto-approval and who works each lane."""

    auto_approve: str = "never"
    lanes: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({})
    )  # lane name -> rule (``lane:NAME``)


# ---------------------------------------------------------------- checks, one per property
# Each answers why a value is unusable, in English and Chinese, or None.

Reason = tuple[str, str]


def _one_of(*allowed: str) -> Callable[[str], Reason | None]:
    listed = ", ".join(allowed)
    return lambda value: None if value in allowed else (f"must be one of {listed}", f"须为 {listed} 之一")


def _duration(value: str) -> Reason | None:
    reason = durations.duration_problem(value)
    return (
        (reason, f"须为 ISO 8601 时长（如 P14D、PT2H），不超过 {durations.MAX_DAYS:,} 天") if reason else None
    )


def _approval_mode(value: str) -> Reason | None:
    if value in APPROVAL_MODES:
        return None
    ratio = value.removeprefix("ratio:") if value.startswith("ratio:") else None
    try:
        if ratio is not None and 0 < float(ratio) <= 1:
            return None
    except ValueError:
        pass
    modes = ", ".join(APPROVAL_MODES)
    return (
        f"must be one of {modes} or ratio:R with 0 < R <= 1",
        f"须为 {modes} 之一，或 ratio:R（0 < R <= 1）",
    )


def _variable(value: str) -> Reason | None:
    if _NAME.fullmatch(value):
        return None
    return "must name a process variable (letters, digits, _)", "须为流程变量名（字母、数字、下划线）"


def _variables(value: str) -> Reason | None:
    names = parse_names(value)
    if names and all(_NAME.fullmatch(n) for n in names):
        return None
    return "must list process variable names, such as title,category", "须列出流程变量名，如 title,category"


def _groups(value: str) -> Reason | None:
    if parse_names(value):
        return None
    return (
        "must list at least one group, such as reviewers,office",
        "须至少列出一个用户组，如 reviewers,office",
    )


def _decision(value: str) -> Reason | None:
    if _NAME.fullmatch(value):
        return None
    return "must be a decision value such as reject or fail", "须为一个决定值，如 reject 或 fail"


def _form(value: str) -> Reason | None:
    if value.endswith(".json") and not any(c in value for c in "/\\") and not value.startswith("."):
        return None
    return "must be a .json file name without a folder", "须为不含目录的 .json 文件名"


def _lane_rule(value: str) -> Reason | None:
    kind, colon, target = value.partition(":")
    if value == "starter" or (
        colon and kind in LANE_KINDS and target.strip() and (kind != "data" or _NAME.fullmatch(target))
    ):
        return None
    return (
        "must be group:NAME, user:NAME, data:VARIABLE or starter",
        "须为 group:组名、user:用户名、data:变量名 或 starter",
    )


def _name(value: str) -> Reason | None:
    if value.strip() and len(value) <= MAX_NAME_CHARS and value.isprintable():
        return None
    return (
        f"must be a name of 1 to {MAX_NAME_CHARS} characters on one line",
        f"须为一行文字，1 至 {MAX_NAME_CHARS} 个字符",
    )


RULES: dict[str, Callable[[str], Reason | None]] = {
    "formJsonSchemaFilename": _form,
    START_VARIABLES: _variables,
    "assignee": _variable,
    "candidateGroups": _groups,
    "dueIn": _duration,
    "timeout": _duration,
    "timeoutAction": _one_of(*TIMEOUT_ACTIONS),
    "ccGroups": _groups,
    "approvalMode": _approval_mode,
    "approvers": _variable,
    "onReject": _one_of(*ON_REJECT),
    "rejectDecision": _decision,
    "autoApprove": _one_of(*AUTO_APPROVE),
    NAME_EN: _name,
}

# Properties that mean nothing without another one: alone they would be silently ignored.
NEEDS = {
    "timeoutAction": "timeout",
    "approvers": "approvalMode",
    "onReject": "approvalMode",
    "rejectDecision": "approvalMode",
}


def property_problems(props: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """Every unusable property of one element: ``(name, value, why, 为何)``; names the engine does not know pass."""
    out = []
    for name, value in props.items():
        rule = _lane_rule if name.startswith("lane:") else RULES.get(name)
        reason = rule(value) if rule else None
        if reason is None and name in NEEDS and NEEDS[name] not in props:
            reason = (f"has no effect without {NEEDS[name]}", f"缺少 {NEEDS[name]} 时不起作用")
        if reason:
            out.append((name, value, *reason))
    return out


# ---------------------------------------------------------------- building the policies


def parse_names(value: str | None) -> list[str]:
    """``"a, b，c"`` -> ``["a", "b", "c"]`` (full-width commas too: diagrams are written in Chinese)."""
    return [n.strip() for n in (value or "").replace("，", ",").split(",") if n.strip()]


def _valid(props: Mapping[str, str], name: str) -> str | None:
    """The property's value if it passes its check (a version deployed before a check existed keeps running)."""
    value = props.get(name)
    if not value or RULES[name](value) is not None:
        return None
    return value


def task_policy(element_id: str, props: Mapping[str, str] | None) -> TaskPolicy:
    """The policy of one element from its extension properties."""
    props = props or {}
    return TaskPolicy(
        element_id=element_id,
        form=props.get("formJsonSchemaFilename")
        or None,  # a missing file is refused at deploy; keep the name
        assignee=_valid(props, "assignee"),
        candidate_groups=tuple(parse_names(props.get("candidateGroups"))),
        due_in=_valid(props, "dueIn"),
        timeout=_valid(props, "timeout"),
        timeout_action=_valid(props, "timeoutAction") or "remind",
        cc_groups=tuple(parse_names(props.get("ccGroups"))),
        approval_mode=_valid(props, "approvalMode"),
        approvers=_valid(props, "approvers"),
        on_reject=_valid(props, "onReject") or "reject",
        reject_decision=_valid(props, "rejectDecision") or "reject",
        start_variables=tuple(parse_names(props.get(START_VARIABLES))),
    )


def process_policy(props: Mapping[str, str] | None) -> ProcessPolicy:
    """The process element's policy from its own extension properties."""
    props = props or {}
    auto = props.get("autoApprove", "never")
    lanes = {
        name[5:]: value
        for name, value in props.items()
        if name.startswith("lane:") and _lane_rule(value) is None
    }
    return ProcessPolicy(auto if auto in AUTO_APPROVE else "never", MappingProxyType(lanes))


def spec_properties(task_spec: Any) -> dict[str, str]:
    """The extension properties SpiffWorkflow parsed onto a task spec."""
    return dict((getattr(task_spec, "extensions", None) or {}).get("properties") or {})


def spec_policies(specs: Iterable[Any]) -> dict[str, TaskPolicy]:
    """Element id -> policy for every task spec of a parsed process and its subprocesses that has properties."""
    out: dict[str, TaskPolicy] = {}
    for spec in specs:
        for ts in spec.task_specs.values():
            props = spec_properties(ts)
            element_id = getattr(ts, "bpmn_id", None)
            if (
                element_id and props
            ):  # a multi-instance wrapper and its child share the id; one holds the properties
                out[element_id] = task_policy(element_id, props)
    return out


def element_properties(element: etree._Element) -> dict[str, str]:
    """An XML element's own ``spiffworkflow:property`` values (not those of elements inside it)."""
    ext = element.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is None:
        return {}
    return {p.get("name"): p.get("value") or "" for p in ext.iter(f"{{{SPIFF_NS}}}property") if p.get("name")}


def diagram_policies(
    root: etree._Element, tags: tuple[str, ...] = ("userTask", "startEvent")
) -> dict[str, TaskPolicy]:
    """Element id -> policy for the elements of the given BPMN tags in a diagram's XML."""
    out: dict[str, TaskPolicy] = {}
    for tag in tags:
        for element in root.iter(f"{{{BPMN_NS}}}{tag}"):
            props = element_properties(element)
            if props and element.get("id"):
                out[element.get("id")] = task_policy(element.get("id"), props)
    return out


def element_names(root: etree._Element) -> dict[str, dict[str, str]]:
    """Element id -> its name per page language, for every named element of a diagram's XML.

    The ``name`` attribute is the Chinese name (the designer's language); the ``name_en`` property
    beside it, when the designer gave one and it passes its check, is the English name. The
    process, its participant, lanes, flow nodes and sequence flows alike: ids are unique in a
    document, so one mapping holds them all.
    """
    out: dict[str, dict[str, str]] = {}
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        element_id = element.get("id")
        if not element_id:
            continue
        names = {}
        if (element.get("name") or "").strip():
            names["zh_CN"] = element.get("name").strip()
        english = _valid(element_properties(element), NAME_EN)
        if english:
            names["en"] = english.strip()
        if names:
            out[element_id] = names
    # The designer edits a pool's name (the participant's); the process it holds takes it where it names none.
    for pool in root.iter(f"{{{BPMN_NS}}}participant"):
        if pool.get("processRef") and pool.get("id") in out:
            for locale, name in out[pool.get("id")].items():
                out.setdefault(pool.get("processRef"), {}).setdefault(locale, name)
    return out
