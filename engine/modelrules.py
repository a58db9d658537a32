"""Checks that refuse what a diagram may not hold; unlike ``engine.modelfix`` they rewrite nothing.

Run by ``engine.modelcheck`` after the rewrites, on the same ``Ctx``: the length of the longest
path (SpiffWorkflow recurses along it) and the values of the extension properties the engine
reads at run time (a bad value used to be ignored there, or to stall the worker).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from engine import durations
from engine.approval.common import BPMN_MODES, TIMEOUT_ACTIONS
from engine.modelfix import SPIFF, Ctx, local, owner, q

__all__ = ["CHECKS", "MAX_PATH_ELEMENTS", "PROPERTY_RULES", "check_path_length", "check_properties"]


# SpiffWorkflow predicts a new instance's future by recursing along its flows, one Python frame per
# element, so a path much longer than this exhausts the interpreter's recursion limit at start.
MAX_PATH_ELEMENTS = 500


def check_path_length(ctx: Ctx) -> None:
    """Refuse a process or subprocess whose longest path (loops cut) exceeds MAX_PATH_ELEMENTS."""
    for scope in ctx.root.iter(q("process"), q("subProcess"), q("transaction"), q("adHocSubProcess")):
        longest = _longest_path(scope)
        if longest > MAX_PATH_ELEMENTS:
            ctx.add("process-too-long", scope,
                    f"'{scope.get('id')}' has a path of {longest:,} elements one after another; the limit is "
                    f"{MAX_PATH_ELEMENTS:,}. Split it into subprocesses or call activities.",
                    f"'{scope.get('id')}' 中有一条路径依次包含 {longest:,} 个元素，超过上限 {MAX_PATH_ELEMENTS:,}。"
                    "请拆分为子流程或调用活动。")


def _longest_path(scope: etree._Element) -> int:
    """Elements on the longest path through the scope's flows, back edges of loops ignored; linear, no recursion."""
    successors: dict[str, list[str]] = {}
    for flow in scope.findall(q("sequenceFlow")):
        successors.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for event in scope.findall(q("boundaryEvent")):  # a boundary event continues from its task
        successors.setdefault(event.get("attachedToRef"), []).append(event.get("id"))
    nodes = [n.get("id") for n in scope if n.get("id") and local(n) != "sequenceFlow"]
    finished: list[str] = []  # post-order: every node after all its successors
    state: dict[str, int] = {}  # 1 on the DFS path, 2 finished
    for root in nodes:
        if root in state:
            continue
        stack = [(root, iter(successors.get(root, ())))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[node] = 2
                finished.append(node)
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(successors.get(child, ()))))
    length: dict[str, int] = {}
    for node in finished:  # successors first; a successor still on the path was a back edge
        length[node] = 1 + max((length[c] for c in successors.get(node, ()) if c in length), default=0)
    return max(length.values(), default=0)


def _approval_modes(value: str) -> str | None:
    if value in BPMN_MODES:
        return None
    ratio = value.removeprefix("ratio:") if value.startswith("ratio:") else None
    try:
        if ratio is not None and 0 < float(ratio) <= 1:
            return None
    except ValueError:
        pass
    return f"must be one of {', '.join(BPMN_MODES)} or ratio:R with 0 < R <= 1"


def _one_of(*allowed: str) -> Callable[[str], str | None]:
    return lambda value: None if value in allowed else f"must be one of {', '.join(allowed)}"


# Extension properties the engine reads at run time, and what each must hold.
PROPERTY_RULES: dict[str, Callable[[str], str | None]] = {
    "dueIn": durations.duration_problem,
    "timeout": durations.duration_problem,
    "timeoutAction": _one_of(*TIMEOUT_ACTIONS),
    "approvalMode": _approval_modes,
    "onReject": _one_of("reject", "return"),
    "autoApprove": _one_of("never", "same_person", "consecutive"),
}


def check_properties(ctx: Ctx) -> None:
    """Refuse extension properties the engine would otherwise ignore (or choke on) at run time."""
    for prop in ctx.root.iter(q("property", SPIFF)):
        rule = PROPERTY_RULES.get(prop.get("name") or "")
        value = prop.get("value") or ""
        reason = rule(value) if rule else None
        if reason:
            holder = owner(prop)
            ctx.add("invalid-property", holder,
                    f"'{holder.get('id')}' has property {prop.get('name')}={value!r}, which {reason}.",
                    f"'{holder.get('id')}' 的扩展属性 {prop.get('name')}={value!r} 无效（{reason}）。")



CHECKS = (check_properties, check_path_length)
