"""Checks that refuse what a diagram may not hold; unlike ``engine.definitions.modelfix`` they rewrite nothing.

Run by ``engine.definitions.modelcheck`` after the rewrites, on the same ``Ctx``: the length of the longest
path (SpiffWorkflow recurses along it) and the values of the extension properties the engine
reads at run time, with the checks of ``engine.definitions.policy`` (a bad value used to be ignored there, or to
stall the worker).
"""

from __future__ import annotations

from lxml import etree

from engine.definitions import policy
from engine.definitions.modelfix import SPIFF, Ctx, local, owner, q

__all__ = ["CHECKS", "MAX_PATH_ELEMENTS", "check_path_length", "check_properties"]


# SpiffWorkflow predicts a new instance's future by recursing along its flows, one Python frame per
# element, so a path much longer than this exhausts the interpreter's recursion limit at start.
MAX_PATH_ELEMENTS = 500


def check_path_length(ctx: Ctx) -> None:
    """Refuse a process or subprocess whose longest path (loops cut) exceeds MAX_PATH_ELEMENTS."""
    for scope in ctx.root.iter(q("process"), q("subProcess"), q("transaction"), q("adHocSubProcess")):
        longest = _longest_path(scope)
        if longest > MAX_PATH_ELEMENTS:
            ctx.add(
                "process-too-long",
                scope,
                f"'{scope.get('id')}' has a path of {longest:,} elements one after another; the limit is "
                f"{MAX_PATH_ELEMENTS:,}. Split it into subprocesses or call activities.",
                f"'{scope.get('id')}' 中有一条路径依次包含 {longest:,} 个元素，超过上限 {MAX_PATH_ELEMENTS:,}。"
                "请拆分为子流程或调用活动。",
            )


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


def check_properties(ctx: Ctx) -> None:
    """Refuse extension properties the engine would otherwise ignore (or choke on) at run time."""
    for block in ctx.root.iter(q("properties", SPIFF)):
        holder = owner(block)
        props = {
            p.get("name"): p.get("value") or "" for p in block.iter(q("property", SPIFF)) if p.get("name")
        }
        for name, value, why, why_zh in policy.property_problems(props):
            ctx.add(
                "invalid-property",
                holder,
                f"'{holder.get('id')}' has property {name}={value!r}, which {why}.",
                f"'{holder.get('id')}' 的扩展属性 {name}={value!r} 无效：{why_zh}。",
            )


CHECKS = (check_properties, check_path_length)
