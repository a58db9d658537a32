"""Chinese approval operations as engine features: 转办, 委派, 加签/减签, 会签/或签, 退回, 撤回, 催办, 抄送,
timeout actions, auto-approval of duplicates, typed approval comments.

They work on the human-task projection and, where the workflow must move, through ordinary
instance steps (``Engine.finish_task``, ``reset_from_task_id``), so each is one transaction with
its audit rows. One module per concern; ``ApprovalMixin`` is their façade on ``Engine``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from . import handover, notify, policies, returns, signing
from .common import CcRecord, ReturnTarget

if TYPE_CHECKING:
    from ..engine import Engine
    from ..records import InstanceRecord, Page, TaskRecord
    from ..runner import StepContext
    from ..tables import HumanTask, Instance

__all__ = ["ApprovalMixin", "CcRecord", "ReturnTarget", "complete", "install"]


def install(engine: Engine) -> None:
    """Subscribe the BPMN-declared policies to the runner and the job worker."""
    engine.runner.task_hooks.extend([signing.on_task_created, policies.on_task_created])
    engine.runner.close_hooks.append(policies.on_tasks_closed)
    engine.runner.auto_actions.append(policies.auto_approve)
    engine.job_handlers["task_timeout"] = policies.run_timeout


def complete(engine: Engine, s: Session, row: Instance, ht: HumanTask, username: str, data: dict[str, Any]) -> StepContext | None:
    """Route a submission: a signature, a delegate's work, an owner's part of a signed step, or the step."""
    if ht.kind == "sign":
        return signing.sign(engine, s, row, ht, username, data)
    if ht.owner and ht.assignee != ht.owner:
        handover.delegate_done(engine, s, ht, username, data)
        return None
    return signing.complete_base(engine, s, row, ht, username, data)


class ApprovalMixin:
    """Façade methods for the approval operations; mixed into ``Engine``."""

    def transfer(self: Engine, task_id: str, actor: str, to: str, comment: str | None = None) -> TaskRecord:
        """转办: hand the task to ``to`` for good."""
        return handover.transfer(self, task_id, actor, to, comment)

    def delegate(self: Engine, task_id: str, actor: str, to: str, comment: str | None = None) -> TaskRecord:
        """委派: ``to`` works the task; their completion comes back to ``actor`` to confirm."""
        return handover.delegate(self, task_id, actor, to, comment)

    def add_signers(self: Engine, task_id: str, actor: str, usernames: list[str], mode: str, comment: str | None = None) -> list[TaskRecord]:
        """加签: add approvers before, after or in parallel with the current one on this step."""
        return signing.add_signers(self, task_id, actor, usernames, mode, comment)

    def remove_signer(self: Engine, task_id: str, actor: str, username: str, comment: str | None = None) -> None:
        """减签: remove an added signer who has not acted yet."""
        signing.remove_signer(self, task_id, actor, username, comment)

    def signers(self: Engine, task_id: str, *, viewer: str | None = None) -> list[TaskRecord]:
        """Everyone signing the step; with ``viewer``, only if that person may see the task (rules.py)."""
        return signing.list_signers(self, task_id, viewer=viewer)

    def return_targets(self: Engine, task_id: str, *, viewer: str | None = None) -> list[ReturnTarget]:
        """Where a task may be sent back to: earlier user tasks on its own path, newest first (``viewer``: as in ``signers``)."""
        return returns.targets(self, task_id, viewer=viewer)

    def return_task(self: Engine, task_id: str, actor: str, to_element_id: str | None = None, comment: str = "") -> InstanceRecord:
        """退回: send the instance back to an earlier user task (default: the previous one)."""
        return returns.return_task(self, task_id, actor, to_element_id, comment)

    def withdraw(self: Engine, instance_id: str, actor: str, comment: str = "") -> InstanceRecord:
        """撤回: take back your own last completion while the next task is untouched."""
        return returns.withdraw(self, instance_id, actor, comment)

    def urge(self: Engine, task_id: str, actor: str, comment: str | None = None) -> None:
        """催办: remind the assignee or candidates (a ``task.urged`` event), at most once per interval."""
        notify.urge(self, task_id, actor, comment)

    def copy_to(self: Engine, instance_id: str, actor: str, usernames: list[str]) -> list[str]:
        """抄送: copy the instance to people; returns who was newly copied."""
        return notify.copy_to(self, instance_id, actor, usernames)

    def list_cc(self: Engine, username: str, *, unread_only: bool = False, offset: int = 0, limit: int = 50, q: str | None = None) -> Page:
        """Instances copied to ``username``, newest first; ``q`` searches their title and business key."""
        return notify.list_cc(self, username, unread_only=unread_only, offset=offset, limit=limit, q=q or None)

    def mark_cc_read(self: Engine, instance_id: str, username: str) -> None:
        notify.mark_read(self, instance_id, username)
