"""Shared pieces of the approval operations: records, typed comments, lookups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidInputError, NotFoundError
from ..integration.tables import TaskComment
from ..tables import HumanTask, User
from ..vocabulary import REFUSALS, Decision

#: The kinds of approval comment, shown on the instance history.
COMMENT_KINDS = (
    "comment",
    "approve",
    "reject",
    "return",
    "transfer",
    "delegate",
    "add_sign",
    "remove_sign",
    "withdraw",
    "urge",
)
REJECT_VALUES = REFUSALS  # submitted decisions that count as a refusal


@dataclass(frozen=True)
class ReturnTarget:
    element_id: str
    name: str
    task_id: str


@dataclass(frozen=True)
class CcRecord:
    instance_id: str
    process_key: str
    business_key: str | None
    title: str | None
    by: str | None
    element_id: str | None
    at: datetime
    read_at: datetime | None


def verdict(data: dict[str, Any]) -> str:
    """approve or reject, from a submission's ``decision``."""
    return (
        Decision.REJECT if data.get("decision") in REJECT_VALUES else Decision.APPROVE
    ).value  # plain text: it goes into task data


def comment(s: Session, ht: HumanTask, actor: str, kind: str, text: str | None, at: datetime) -> None:
    """A typed approval comment; empty text still records the act."""
    s.add(
        TaskComment(
            task_id=ht.id, instance_id=ht.instance_id, author=actor, text=text or "", kind=kind, at=at
        )
    )


def require_users(s: Session, usernames: list[str], field: str = "usernames", *, tenant: str | None) -> None:
    """Every name is a person of ``tenant`` (the object's): another tenant's people are unknown here."""
    if not usernames:
        raise InvalidInputError("no users given", {field: ["at least one user / 至少指定一人"]})
    same = User.tenant.is_(None) if tenant is None else User.tenant == tenant
    known = set(s.scalars(select(User.username).where(User.username.in_(usernames), same)))
    unknown = [u for u in usernames if u not in known]
    if unknown:
        raise InvalidInputError(
            f"unknown users: {', '.join(unknown)}",
            {field: [f"unknown user(s) {', '.join(unknown)} / 用户不存在"]},
        )


def sign_rows(s: Session, base_id: str) -> list[HumanTask]:
    """The current signing's rows (a step sent back and redone supersedes its earlier ones)."""
    return list(
        s.scalars(
            select(HumanTask)
            .where(HumanTask.parent_id == base_id, HumanTask.kind == "sign", HumanTask.status != "superseded")
            .order_by(HumanTask.sign_seq)
        )
    )


def get_task(s: Session, task_id: str) -> HumanTask:
    ht = s.get(HumanTask, task_id)
    if ht is None:
        raise NotFoundError(f"no task '{task_id}'")
    return ht
