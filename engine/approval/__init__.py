"""Chinese approval operations as engine features: 转办, 委派, 加签/减签, 会签/或签, 退回, 撤回, 催办, 抄送,
timeout actions, auto-approval of duplicates, typed approval comments.

Each operation is a plain function of one ``Step`` (step.py): it works on the human-task
projection and, where the workflow must move, through the step's verbs (``complete_task``,
``advance`` with ``reset_from_task_id``), so each is one transaction with its audit rows. One
module per concern; ``Engine`` opens the step and calls the operation. The BPMN-declared
policies subscribe to the runner and the job worker in ``policies.install``.
"""

from .common import CcRecord, ReturnTarget

__all__ = ["CcRecord", "ReturnTarget"]
