"""SQLAlchemy 2 models: storage only (no wire shapes, no behaviour).

Runtime state lives in ``instance.state`` (Spiff's serialization without the spec, which is
stored once per definition version). Everything the inbox, the scheduler and the message router
ask is copied into indexed projection tables in the same transaction as the step.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UtcDateTime}


class Definition(Base):
    """One deployed version of a process key: its files and the lane mapping."""

    __tablename__ = "definition"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict[str, Any]] = mapped_column(JSON)  # file name -> XML text
    forms: Mapped[dict[str, Any]] = mapped_column(JSON)  # form file name -> JSON Schema
    lanes: Mapped[dict[str, Any]] = mapped_column(JSON)  # lane name -> assignment rule
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # process-level properties
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # normalisations applied
    deployed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The tenant that deployed it and alone sees it; None: shipped or deployed by the installation,
    # shared by every tenant. Versions count per key across tenants, so (key, version) stays unique.
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)


class Instance(Base):
    __tablename__ = "instance"
    __table_args__ = (
        Index("ix_instance_key_status", "process_key", "status"),
        Index("ix_instance_tenant_created", "tenant", "created_at"),
        Index("ix_instance_started_by", "started_by"),  # who sees which (rules.visible_instances)
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition.id"))
    process_key: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    active_elements: Mapped[list[Any]] = mapped_column(JSON)
    visited: Mapped[list[Any]] = mapped_column(JSON, default=list)  # elements completed so far
    started_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # The tenant it belongs to (None: the implicit tenant before the first one exists) and the
    # unit it was started for (``data.unit`` or the starter's unit): visibility by unit subtree.
    tenant: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str | None] = mapped_column(String(64), index=True)

    __mapper_args__ = {"version_id_col": row_version}  # a write over a stale read fails, never merges


class HumanTask(Base):
    """The inbox projection: one row per user task the instance has offered."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_assignee_status", "assignee", "status", "created_at"),
        Index("ix_human_task_instance_status", "instance_id", "status"),
        # where work waits (analytics.py): one process's elements, completed in a period
        Index("ix_human_task_key_element_done", "process_key", "element_id", "completed_at"),
        # who sees which instances (rules.visible_instances): the tasks a person did or owns
        Index("ix_human_task_completed_by", "completed_by"),
        Index(
            "ix_human_task_owner",
            "owner",
            postgresql_where=text("owner IS NOT NULL"),
            sqlite_where=text("owner IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"))
    process_key: Mapped[str] = mapped_column(String(200))
    business_key: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    title: Mapped[str | None] = mapped_column(Text)  # the instance's ``title``, kept current by the runner
    lane: Mapped[str | None] = mapped_column(String(200))
    candidate_groups: Mapped[list[Any]] = mapped_column(JSON)
    assignee: Mapped[str | None] = mapped_column(String(200))
    form: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(200))
    # Approval operations (engine/approval/): a ``sign`` row is one signer's part of the ``task``
    # row ``parent_id``; ``owner`` confirms a delegated task; ``draft`` holds submitted data that
    # is not yet applied to the workflow (a delegate's work, a signing in progress).
    kind: Mapped[str] = mapped_column(String(10), default="task")
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sign_mode: Mapped[str | None] = mapped_column(String(20))
    sign_seq: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(40))
    returned: Mapped[bool] = mapped_column(default=False)
    # Assignment by post (``assignment.py``): the holder the post rule gave the task to, while it
    # follows the post (None: several holders share the queue, or nobody holds it), and why nobody
    # could be given it (``{"reason": "vacant", "post", "units"}``…): an incident admins see.
    post_assignee: Mapped[str | None] = mapped_column(String(200))
    unresolved: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    tenant: Mapped[str | None] = mapped_column(String(64))  # the instance's, copied so checks need no join


class CarbonCopy(Base):
    """An instance copied to a person (抄送), read or not."""

    __tablename__ = "carbon_copy"
    __table_args__ = (UniqueConstraint("instance_id", "username"), Index("ix_cc_user", "username", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"))
    username: Mapped[str] = mapped_column(String(200))
    by: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    tenant: Mapped[str | None] = mapped_column(String(64))


class TaskCandidate(Base):
    """Open, unassigned task x candidate group: the inbox's ``candidate`` index (see ``inbox.reindex``).

    Group names repeat across tenants (every county has a ``taskforce``), so a queue is a group
    *in a tenant*; ``tenant`` is ``""`` for the implicit tenant so the queue is one index range.
    """

    __tablename__ = "task_candidate"
    __table_args__ = (
        Index("ix_task_candidate_task", "task_id"),
        Index("ix_task_candidate_tenant_group", "tenant", "group", "created_at", "task_id"),
    )

    group: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), default="", server_default="")


class WaitDay(Base):
    """One day's waits at one element, as a histogram (analytics.py): counted once, when the day is
    over, so a year's percentiles read 365 small rows per element instead of every task."""

    __tablename__ = "task_wait_day"
    __table_args__ = (Index("ix_task_wait_day_key_day", "process_key", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)  # UTC
    process_key: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    tenant: Mapped[str | None] = mapped_column(String(64))
    passed: Mapped[int] = mapped_column(Integer)
    buckets: Mapped[dict[str, Any]] = mapped_column(JSON)  # {bucket: count}; see analytics.bucket_of


class WaitDayDone(Base):
    """The days whose waits are counted in ``task_wait_day``; the key makes counting a day twice fail."""

    __tablename__ = "task_wait_day_done"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Job(Base):
    """Work due at a time: timers, timeouts, webhook deliveries."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_due", "due_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    element_id: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(36))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    tenant: Mapped[str | None] = mapped_column(String(64))


class MessageSubscription(Base):
    """The correlation index: which instance waits for which message."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_msgsub_name", "message_name", "business_key"),)

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str | None] = mapped_column(String(200))
    # the waiting (sub)process's correlation keys, e.g. {"MainCorrelationKey": {"county": "pingli"}}:
    # a message thrown by another instance reaches this one only when a key it carries matches
    correlations: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class AuditEvent(Base):
    """Append-only history; never updated, never deleted."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_instance", "instance_id", "id"),
        Index(  # who sees which instances: a delegate's work counts (rules.visible_instances)
            "ix_audit_delegate_done",
            "actor",
            "instance_id",
            postgresql_where=text("event = 'task.delegate_done'"),
            sqlite_where=text("event = 'task.delegate_done'"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    instance_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str | None] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(60))
    element_id: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def _subject_default(context: Any) -> Any:
    """A row written the way the claim ledger always wrote them (a username only) is that person's."""
    return context.get_current_parameters().get("username")


class ScoreEntry(Base):
    """A row of the performance ledger (三亮三评三运用): a person's or a unit's points for a month,
    quarter or year (``appraisal.periods``). A panel's result is one row per dimension plus its
    total (``dimension`` empty), marked with the ``scheme`` it was scored on; claim points carry
    no scheme. ``username`` is the person for person rows (the subject), empty for units."""

    __tablename__ = "score_entry"
    __table_args__ = (
        Index("ix_score_period_user", "period", "username"),
        Index("ix_score_tenant_period", "tenant", "period"),
        Index("ix_score_subject", "subject_kind", "subject", "period"),
        Index("ix_score_user_instance", "username", "instance_id"),  # who sees which instances
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(10))  # YYYY-MM, YYYY-Qn or YYYY
    username: Mapped[str | None] = mapped_column(String(200))
    subject_kind: Mapped[str] = mapped_column(String(10), default="person", server_default="person")
    subject: Mapped[str] = mapped_column(String(200), default=_subject_default)  # a username or a unit code
    dimension: Mapped[str | None] = mapped_column(String(64))
    scheme: Mapped[str | None] = mapped_column(String(64))
    points: Mapped[float] = mapped_column(Float)
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    awarded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    tenant: Mapped[str | None] = mapped_column(String(64))


class User(Base):
    __tablename__ = "app_user"

    username: Mapped[str] = mapped_column(String(200), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(300))
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    active: Mapped[bool] = mapped_column(
        default=True, server_default=true()
    )  # false: no login, tokens or sessions
    # The root code of the units the user holds posts in (``organisation.set_posts`` keeps it);
    # None: no tenant (the installation's own people, and everyone before the first tenant exists).
    tenant: Mapped[str | None] = mapped_column(String(64), index=True)


class Unit(Base):
    """A node of an organisation tree; a root is a tenant (a county), whose code every descendant
    carries in ``tenant``. ``path`` lists the ids from the root down (``/3/17/240/``) so a subtree
    is one indexed prefix match."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(1000), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UserPost(Base):
    """A person holding a post (书记, 镇长, 驻村第一书记…) in a unit, with a rank (科级, 股级…)."""

    __tablename__ = "user_post"
    __table_args__ = (
        UniqueConstraint("username", "unit_id", "post"),
        Index("ix_user_post_unit_post", "unit_id", "post"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(ForeignKey("app_user.username", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    post: Mapped[str] = mapped_column(String(100))
    rank: Mapped[str | None] = mapped_column(String(50))


class Membership(Base):
    __tablename__ = "membership"

    group: Mapped[str] = mapped_column(String(200), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("app_user.username", ondelete="CASCADE"), primary_key=True
    )


Index("ix_membership_user", Membership.username)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(ForeignKey("app_user.username", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: never
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # refreshed at most once a minute


class WebSession(Base):
    """A logged-in browser: the cookie carries only the id, whose digest is the key here.

    Logging out, deactivating the user or changing their password sets ``revoked_at``; a cookie
    whose record is revoked or missing is anonymous.
    """

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("app_user.username", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginFailures(Base):
    """Recent failed logins per username or per client address (``key`` is ``user:`` or ``addr:`` + a digest).

    Kept in the database so every server process sees the same count.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_last", "last_failure_at"),)

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
