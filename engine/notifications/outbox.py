"""Who is told what, through which channel and when: deliveries written in the step that caused them.

A step that opens a task or urges one writes its ``NotificationDelivery`` rows and their
``notification`` jobs in its own transaction (a step that rolls back announces nothing); a task
with a due time also gets two ``notification_due`` jobs (due soon, overdue) that tell its holder
when they fall due, unless the task closed first. ``deliver`` sends outside any transaction and
records the attempt; a failure is retried with back-off and, out of attempts, stays ``failed``.

The rules:
- the people told are the task's assignee, else the signers whose turn it is, else its candidates
  (group members and post holders);
- a tenant's instances use the tenant's active channels; a tenant with none uses the
  installation's (channels without a tenant); another tenant's channels are never used;
- a person is told of the events and through the channel kinds their preferences name (no
  preferences: every event, every channel that can reach them; e-mail needs their address);
- one e-mail per person; a group robot posts once per event, naming everyone it is for;
- quiet hours postpone a delivery to the end of the window (local time); a 催办 by a person is
  urgent and goes at once (it is throttled to one per task per ten minutes); a robot's post waits
  only while every person it names is in quiet hours.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..assignment import holders_of
from ..jobs import leasing
from ..postqueues import is_post_group
from ..runtime.clock import iso
from ..runtime.runner import task_title
from ..tables import Definition, HumanTask, Instance, Job, Membership, User
from . import channels
from .tables import NotificationChannel, NotificationDelivery, NotificationPreference
from .templates import LOCAL_TZ, Facts, NotifyEvent, render

if TYPE_CHECKING:
    from ..runtime.clock import Clock
    from ..runtime.runner import StepContext
    from ..runtime.step import Step, Steps

NOTIFY_MAX_ATTEMPTS = 8  # 5 s doubling: the last try about ten minutes after the first
DUE_NS = uuid.UUID("0c3f4a8e-7d21-4b6e-9a55-2f1e8c6d4b90")
OPEN = ("open", "waiting")
HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


@dataclass
class NotifyConfig:
    base_url: str = "http://localhost:5000"  # where the task pages are (JIEBANG_BASE_URL)
    due_soon_before: timedelta = timedelta(hours=24)  # how long before the due time 即将到期 is sent
    allow_private: bool = False  # robots on the private network (the webhooks' setting)


def due_job_id(task_id: str, event: NotifyEvent) -> str:
    return str(uuid.uuid5(DUE_NS, f"{task_id}:{event.value}"))


# ---- quiet hours --------------------------------------------------------------------------------
def parse_hhmm(value: str) -> time:
    """``"22:00"`` -> time(22, 0); ``ValueError`` otherwise (ASCII digits only, as the API's
    pattern: ``str.isdigit`` would let full-width "２２:００" through the page)."""
    if not HHMM.fullmatch(value):
        raise ValueError(value)
    return time(int(value[:2]), int(value[3:]))


def quiet_until(pref: NotificationPreference | None, now: datetime) -> datetime | None:
    """The end of the quiet window ``now`` falls in (UTC), or None when it is not quiet."""
    if pref is None or not pref.quiet_start or not pref.quiet_end:
        return None
    start, end = parse_hhmm(pref.quiet_start), parse_hhmm(pref.quiet_end)
    local = now.astimezone(LOCAL_TZ)
    clock = local.time().replace(second=0, microsecond=0, tzinfo=None)
    inside = start <= clock < end if start < end else (start > end and (clock >= start or clock < end))
    if not inside:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until.astimezone(now.tzinfo)


# ---- who and through what -----------------------------------------------------------------------
def recipients(s: Session, ht: HumanTask) -> list[str]:
    """The assignee; else, for a task being signed (会签/依次审批), its signers whose turn it is;
    else the active members of the task's groups and holders of its posts."""
    if ht.assignee:
        return [ht.assignee]
    if ht.status == "waiting":
        signers = s.scalars(
            select(HumanTask.assignee).where(
                HumanTask.parent_id == ht.id, HumanTask.kind == "sign", HumanTask.status == "open"
            )
        )
        return sorted({u for u in signers if u})
    groups = list(ht.candidate_groups or [])
    plain_groups = [g for g in groups if not is_post_group(g)]
    people = set(holders_of(s, [g for g in groups if is_post_group(g)]))
    if plain_groups:
        people.update(
            s.scalars(
                select(Membership.username)
                .join(User, User.username == Membership.username)
                .where(Membership.group.in_(plain_groups), User.active.is_(True))
            )
        )
    return sorted(people)


def channels_for(s: Session, tenant: str | None) -> list[NotificationChannel]:
    """The tenant's active channels, else the installation's; read once per transaction."""
    cache: dict[str | None, list[NotificationChannel]] = s.info.setdefault("jiebang_notify_channels", {})
    if tenant not in cache:
        active = list(
            s.scalars(
                select(NotificationChannel)
                .where(NotificationChannel.active.is_(True))
                .order_by(NotificationChannel.created_at, NotificationChannel.id)
            )
        )
        own = [c for c in active if tenant is not None and c.tenant == tenant]
        cache[tenant] = own or [c for c in active if c.tenant is None]
    return cache[tenant]


def wants(pref: NotificationPreference | None, event: NotifyEvent, kind: str) -> bool:
    if pref is None:
        return True
    return (pref.events is None or event.value in pref.events) and (
        pref.channels is None or kind in pref.channels
    )


class Notifier:
    """The engine's notification outbox: subscribed to steps, events and jobs in ``install``."""

    def __init__(self, config: NotifyConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock  # an event has no step instant of its own (an urge leaves the instance as it was)

    def install(self, steps: Steps, deliver: Any) -> None:
        steps.runner.projections.append(self.on_step)
        steps.runner.close_hooks.append(self.on_tasks_closed)
        steps.listeners.append(self.on_event)
        steps.offer_hooks.append(self.on_offered)
        steps.job_handlers["notification"] = deliver

        def due(job: Job, force: bool) -> None:
            with steps.write("system") as step:
                self.fire_due(step, job)

        steps.job_handlers["notification_due"] = due

    # ---- causes -----------------------------------------------------------------------------
    def on_step(self, s: Session, ctx: StepContext) -> None:
        """Runner projection: 任务待办 for each new user task, and its due-time jobs."""
        if not ctx.created_tasks or not channels_for(s, ctx.row.tenant):
            return
        for ht in ctx.created_tasks:
            if ht.kind != "task" or ht.status not in OPEN:
                continue
            self.enqueue(s, ctx.row, ht, NotifyEvent.TASK_CREATED, ctx.now)
            if ht.due_at is not None:
                self._schedule_due(s, ht, ctx.now)

    def on_offered(
        self, s: Session, ht: HumanTask, now: datetime, actor: str | None, people: list[str] | None
    ) -> None:
        """Offer hook: 任务待办 for whoever a task now waits for (转办, 委派, a signer's turn), in
        one announcement, never to the person whose action it was."""
        if ht.status not in OPEN and people is None:
            return
        row = s.get(Instance, ht.instance_id)
        if row is None or not channels_for(s, row.tenant):
            return
        told = [p for p in (people if people is not None else recipients(s, ht)) if p != actor]
        if told:
            self.enqueue(s, row, ht, NotifyEvent.TASK_CREATED, now, people=told)

    def on_event(self, s: Session, event: str, row: Instance, data: dict[str, Any]) -> None:
        """Listener: 催办 (a person's, or the system's timeout reminder)."""
        if event != "task.urged" or not channels_for(s, row.tenant):
            return
        ht = s.get(HumanTask, data.get("task_id"))
        if ht is None:
            return
        by = data.get("by")
        urgent = bool(by) and by != "system"
        self.enqueue(
            s,
            row,
            ht,
            NotifyEvent.TASK_URGED,
            self.clock.now(),
            by=by,
            comment=data.get("comment"),
            urgent=urgent,
        )

    def on_tasks_closed(self, s: Session, ctx: StepContext, closed: list[tuple[Any, str]]) -> None:
        """Close hook: a closed task's due-time jobs go with it (a job left behind, of a task due by
        its boundary timer, finds the task closed when it runs and tells nobody)."""
        ids = [
            due_job_id(str(t.id), e)
            for t, _ in closed
            if ctx.model.policy(t.task_spec.bpmn_id).due_in  # only these are sure to have had jobs
            for e in (NotifyEvent.TASK_DUE_SOON, NotifyEvent.TASK_OVERDUE)
        ]
        if ids:
            s.execute(delete(Job).where(Job.kind == "notification_due", Job.id.in_(ids)))

    def _schedule_due(self, s: Session, ht: HumanTask, now: datetime) -> None:
        assert ht.due_at is not None
        for event, at in (
            (NotifyEvent.TASK_DUE_SOON, ht.due_at - self.config.due_soon_before),
            (NotifyEvent.TASK_OVERDUE, ht.due_at),
        ):
            job_id = due_job_id(ht.id, event)
            job = s.get(Job, job_id)
            if at <= now:  # too late for it already (a short deadline has no 即将到期)
                if job is not None:
                    s.delete(job)
                continue
            if job is None:
                s.add(
                    Job(
                        id=job_id,
                        kind="notification_due",
                        instance_id=ht.instance_id,
                        element_id=ht.element_id,
                        task_id=ht.id,
                        due_at=at,
                        payload={"event": event.value},
                        attempts=0,
                        created_at=now,
                        tenant=ht.tenant,
                    )
                )
            else:
                job.due_at, job.attempts, job.last_error = at, 0, None
                leasing.release(job)

    def fire_due(self, step: Step, job: Job) -> None:
        """Job: the task is due soon or overdue; tell its holder if it is still open."""
        s = step.session
        live = s.get(Job, job.id)
        if live is None:
            return
        s.delete(live)
        ht = s.get(HumanTask, job.task_id) if job.task_id else None
        if ht is None or ht.status not in OPEN:
            return
        row = s.get(Instance, ht.instance_id)
        if row is None or row.status != "running" or not channels_for(s, row.tenant):
            return
        self.enqueue(s, row, ht, NotifyEvent(str((job.payload or {}).get("event"))), step.now)

    # ---- writing deliveries -----------------------------------------------------------------
    def enqueue(
        self,
        s: Session,
        row: Instance,
        ht: HumanTask,
        event: NotifyEvent,
        now: datetime,
        *,
        by: str | None = None,
        comment: str | None = None,
        urgent: bool = False,
        people: list[str] | None = None,
    ) -> None:
        """Write the deliveries (and their jobs) telling ``ht``'s people (or ``people``) of ``event``."""
        chans = channels_for(s, row.tenant)
        people = sorted(set(people)) if people is not None else recipients(s, ht)
        if not chans or not people:
            return
        prefs = {
            p.username: p
            for p in s.scalars(
                select(NotificationPreference).where(NotificationPreference.username.in_(people))
            )
        }
        names: dict[str, str] = {
            name: shown
            for name, shown in s.execute(
                select(User.username, User.display_name).where(User.username.in_([*people, by or ""]))
            )
        }
        definition = s.get(Definition, row.definition_id)
        facts = Facts(
            event=event,
            task_name=ht.name,
            process_name=definition.name if definition is not None and definition.name else row.process_key,
            title=task_title(row.data or {}),
            due_at=ht.due_at,
            link=f"{self.config.base_url.rstrip('/')}/tasks/{ht.id}",
            recipients=[],
            by=names.get(by or "", by) if by and by != "system" else None,
            comment=comment,
        )

        def send_at(username: str) -> datetime:
            later = None if urgent else quiet_until(prefs.get(username), now)
            return later or now

        email = next((c for c in chans if c.kind == "email"), None)
        if email is not None:
            for person in people:
                pref = prefs.get(person)
                if pref is None or not pref.email or not wants(pref, event, "email"):
                    continue
                who = replace(facts, recipients=[names.get(person, person)])
                message = render(who, pref.language, markdown=False)
                self._add(
                    s,
                    row,
                    ht,
                    email,
                    event,
                    [person],
                    pref.email,
                    message.subject,
                    message.body,
                    now,
                    send_at(person),
                )
        for robot in (c for c in chans if c.kind in channels.ROBOTS):
            told = [p for p in people if wants(prefs.get(p), event, robot.kind)]
            if not told:
                continue
            who = replace(facts, recipients=[names.get(p, p) for p in told])
            markdown = (robot.settings or {}).get("format", "markdown") == "markdown"
            message = render(who, "zh_CN", markdown=markdown)  # a group reads the county's language
            at = min(send_at(p) for p in told)
            self._add(s, row, ht, robot, event, told, None, message.subject, message.body, now, at)

    @staticmethod
    def _add(
        s: Session,
        row: Instance,
        ht: HumanTask,
        channel: NotificationChannel,
        event: NotifyEvent,
        people: list[str],
        address: str | None,
        subject: str,
        body: str,
        now: datetime,
        at: datetime,
    ) -> None:
        job_id, delivery_id = str(uuid.uuid4()), str(uuid.uuid4())
        s.add(
            NotificationDelivery(
                id=delivery_id,
                channel_id=channel.id,
                event=event.value,
                recipients=people,
                address=address,
                subject=subject,
                body=body,
                task_id=ht.id,
                instance_id=row.id,
                status="pending",
                attempts=[],
                job_id=job_id,
                created_at=now,
                not_before=at,
                tenant=row.tenant,
            )
        )
        s.add(
            Job(
                id=job_id,
                kind="notification",
                instance_id=row.id,
                due_at=at,
                payload={"delivery_id": delivery_id},
                attempts=0,
                created_at=now,
                tenant=row.tenant,
            )
        )


def send(
    channel: NotificationChannel, delivery: NotificationDelivery, *, allow_private: bool
) -> dict[str, Any]:
    """One attempt at a delivery through its channel."""
    settings = dict(channel.settings or {})
    if channel.kind == "email":
        return channels.send_email(
            settings, channel.secret, delivery.address or "", delivery.subject, delivery.body
        )
    return channels.send_robot(
        channel.kind, settings, channel.secret, delivery.subject, delivery.body, allow_private=allow_private
    )


def drop_job(s: Session, job_id: str) -> None:
    live = s.get(Job, job_id)
    if live is not None:
        s.delete(live)


def record_attempt(
    s: Session, job_id: str, delivery_id: str, attempt: dict[str, Any], now: datetime, *, last: bool = False
) -> None:
    """Keep an attempt: delivered, retried later with back-off, or failed after the last one."""
    live = s.get(Job, job_id)
    row = s.get(NotificationDelivery, delivery_id)
    if live is None or row is None:
        return  # another worker finished it meanwhile
    attempt["at"] = iso(now)
    row.attempts = [*(row.attempts or []), attempt]
    if attempt.get("error") is None:
        row.status, row.delivered_at = "delivered", now
        s.delete(live)
    elif last or len(row.attempts) >= NOTIFY_MAX_ATTEMPTS:
        row.status = "failed"
        s.delete(live)
    else:
        leasing.retry_later(live, now, str(attempt["error"]))
