"""Keep a live instance's task tree bounded, whatever loops its diagram draws.

SpiffWorkflow appends every pass through a gateway back-edge *below* the previous one: the tree
deepens by a few levels per iteration, step cost grows with history and, at about 1,000 levels,
``get_tasks`` stops finding READY tasks and ``is_descendant_of`` overflows the stack.

Finished history above the live part of the tree is not needed to run the diagram: every open
structure (a boundary-event split, a parallel split whose join waits, a multi-instance parent)
is an ancestor of its unfinished tasks, so it lies at or below their lowest common ancestor. We
keep that ancestor, ``KEEP_LEVELS`` finished levels above it (recent history, for returns and
inspection), and re-hang that chain under the root. What is dropped is already in the audit log.
Compaction runs when the chain above the live part is ``SLACK_LEVELS`` longer than that, so
its cost is amortised and the tree's size, hence a step's cost, stays within a narrow band.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

KEEP_LEVELS = 16
SLACK_LEVELS = 8


def compact(workflow: BpmnWorkflow, keep_levels: int = KEEP_LEVELS) -> int:
    """Drop finished history from every (sub)workflow tree; returns how many tasks were dropped."""
    dropped = 0
    for tree in [workflow, *list(workflow.subprocesses.values())]:
        if tree.task_tree is None or (
            tree is not workflow and tree.parent_task_id not in workflow.subprocesses
        ):
            continue
        dropped += _compact_tree(workflow, tree, keep_levels)
    return dropped


def _compact_tree(
    top: BpmnWorkflow, tree: BpmnWorkflow, keep_levels: int
) -> int:  # the top workflow or a subworkflow
    unfinished = [t for t in tree.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not unfinished:
        return 0
    anchor = _lowest_common_ancestor(unfinished)
    chain = []
    node = anchor.parent
    while node is not None and node is not tree.task_tree:
        chain.append(node)
        node = node.parent
    if len(chain) <= keep_levels + SLACK_LEVELS:
        return 0
    keep_top = chain[keep_levels - 1] if keep_levels else anchor
    root = tree.task_tree
    old_children = [c for c in root.children if c is not keep_top]

    keep_top.parent._children.remove(keep_top.id)
    keep_top._parent = root.id
    root._children = [keep_top.id]

    stack = list(old_children)
    removed = 0
    while stack:
        task = stack.pop()
        stack.extend(task.children)
        if (
            task.id in top.subprocesses
        ):  # while its task is still in the tree: Spiff looks every subprocess's parent up
            removed += len(top.delete_subprocess(task))
        del tree.tasks[task.id]
        removed += 1
    if tree.last_task is not None and tree.last_task.id not in tree.tasks:
        tree.last_task = None
    return removed


def _lowest_common_ancestor(tasks: list[Task]) -> Task:
    path = []
    node = tasks[0]
    while node is not None:
        path.append(node)
        node = node.parent
    index = {id(t): i for i, t in enumerate(path)}
    deepest_common = 0
    for task in tasks[1:]:
        node = task
        while id(node) not in index:
            node = node.parent
        deepest_common = max(deepest_common, index[id(node)])
    return path[deepest_common]
