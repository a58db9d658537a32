"""Who may see and do what: the one rulebook the API, the pages and the engine ask.

``allowed(action, actor, target)`` answers whether ``actor`` may do ``action`` to ``target`` (an
``Instance`` or ``HumanTask`` row, or ``None`` for actions on the installation itself);
``require`` raises ``NotAllowedError`` instead, and ``actions`` lists what the actor may do to a
target in its present state (the buttons a page shows). Actions are named after the audit
vocabulary. The rulebook says *who*; whether the target's state lets the action happen now (a
task already held, an instance already ended) stays the operation's 409.

An instance is visible to admins and the OA service account, its starter, anyone who holds,
held or delegated one of its tasks or worked one as a delegate, members of a candidate group of
one of its open tasks or holders of one of its posts (``assignment.py``), the people it was copied to and the people it awarded points to
(``_involvement`` tests one instance's rows; ``visible_instances`` reads the same ways in as a union
of index ranges, for lists). A task
is visible to whoever may see its instance. A challenge of the built-in process, once on the board,
is public (``read_challenge``): every cadre reads its page, claims and countdown, never its raw data.

Tenants: everything an instance owns carries the instance's tenant, and a person sees only their
own tenant's objects; another tenant's object is *not found* (404, never 403, so ids leak
nothing). Admins and the OA service without a tenant belong to the installation and see every
tenant; everyone else without a tenant lives in the implicit tenant (None) of the data written
before the first tenant existed. Group names repeat across tenants, so a candidate group counts
only within the task's tenant.

Scoped roles: ``admin@<unit>`` (any role may be scoped) holds over that unit's subtree only:
``manages_unit`` answers for the organisation's routes and user management, and a scoped role or
a leading post (``LEADING_POSTS``) in a unit shows the instances of the units under it.

Roles are privileges: ``admin`` holds every privilege, ``oa-service`` the service's own. Acting
on someone's behalf never raises privileges: while a service acts as a person
(``acting_with``), that person's roles count only as far as the service holds them too. Nobody
grants a role they do not hold (only admins grant ``admin`` and ``oa-service``), and nobody mints
a token or a login link for someone who holds a privilege they lack.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, object_session

from . import audit, postqueues
from .errors import NotAllowedError, NotFoundError
from .records import UserRecord
from .tables import (
    AuditEvent,
    CarbonCopy,
    HumanTask,
    Instance,
    Membership,
    ScoreEntry,
    TaskCandidate,
    Unit,
    User,
    UserPost,
)

PRIVILEGED_ROLES = ("admin", "oa-service")
CHALLENGE_PROCESS = "claim_evaluate"
# The phases of a challenge once the committee has published it: from then on it is public (公开公示).
PUBLIC_PHASES = ("published", "in_progress", "under_acceptance", "rectifying", "accepted", "failed")
_IMPLIED = {"admin": frozenset(PRIVILEGED_ROLES), "oa-service": frozenset({"oa-service"})}

#: The posts that lead a unit: their holders see the instances of every unit under it.
LEADING_POSTS = ("书记", "副书记", "县长", "镇长", "乡长", "主任", "局长", "部长", "队长", "总队长")

# The roles of the service acting on someone's behalf in this request (None: nobody is acting).
_acting_cap: ContextVar[frozenset[str] | None] = ContextVar("jiebang_acting_cap", default=None)
# Who this request authenticated as (the API sets it): their roles, groups and tenant were read
# with the token or session, so the rules ask the database nothing more about them.
_asking: ContextVar[Actor | None] = ContextVar("jiebang_asking", default=None)


def acting_with(service_roles: Iterable[str] | None) -> None:
    """Cap every role check of this request (thread or task) at ``service_roles``; ``None`` lifts the cap."""
    _acting_cap.set(None if service_roles is None else privileges(service_roles))


def effective_roles(roles: Iterable[str]) -> set[str]:
    """A person's roles as they count now: capped by the acting service's privileges, if one acts."""
    cap = _acting_cap.get()
    return set(roles) if cap is None else set(roles) & cap


def privileges(roles: Iterable[str]) -> frozenset[str]:
    """Everything a set of roles allows (``admin`` includes the service's privileges)."""
    out: set[str] = set()
    for role in roles:
        out |= _IMPLIED.get(role, {role})
    return frozenset(out)


def outranks(target_roles: Iterable[str], caller_roles: Iterable[str]) -> bool:
    """True when the target holds a privilege the caller lacks (so no token or login link for them)."""
    return bool(privileges(target_roles) - privileges(caller_roles))


def refused_grants(
    caller_roles: Iterable[str],
    current: Iterable[str],
    wanted: Iterable[str],
    *,
    covers: Callable[[str, str], bool] | None = None,
) -> list[str]:
    """The role changes (granted or withdrawn) the caller may not make.

    Nobody changes a role they do not hold, and only admins change ``admin`` or ``oa-service``.
    A scoped role ``role@unit`` may be changed by a plain admin, or by whoever holds ``role`` or
    ``admin`` over that unit (``covers(role, unit)``: the caller's scoped roles reach the unit),
    so nobody grants above themselves.
    """
    mine = set(caller_roles)
    if "admin" in mine:
        return []

    def may(role: str) -> bool:
        name, _, unit = role.partition("@")
        if unit:
            return covers is not None and covers(name, unit)
        return role not in PRIVILEGED_ROLES and role in mine

    return sorted(r for r in set(current) ^ set(wanted) if not may(r))


def split_role(role: str) -> tuple[str, str | None]:
    """``admin@town1`` → ``("admin", "town1")``; a plain role has no unit."""
    name, _, unit = role.partition("@")
    return name, unit or None


# ---- who is asking ------------------------------------------------------------------------------
class Actor:
    """A person as the rules see them: roles as they count now (capped while a service acts),
    groups, and the tenant they belong to (None: the installation, or the implicit tenant).

    Roles may be scoped (``admin@town1``); ``"admin" in actor.roles`` is the plain role only. An
    actor read from the database loads its user row (roles and tenant) and its groups only when
    a rule asks for them, so a check that needs neither costs no statement.
    """

    __slots__ = ("_groups", "_load_groups", "_load_user", "_roles", "_tenant", "username")

    def __init__(
        self,
        username: str,
        roles: Iterable[str] = (),
        groups: Iterable[str] = (),
        tenant: str | None = None,
        *,
        load_user: Callable[[], tuple[Iterable[str], str | None]] | None = None,
        load_groups: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self.username = username
        self._roles, self._groups, self._tenant = frozenset(roles), frozenset(groups), tenant
        self._load_user, self._load_groups = load_user, load_groups  # run once, on first read

    def _loaded(self) -> None:
        if self._load_user is not None:
            roles, tenant = self._load_user()
            self._roles, self._tenant, self._load_user = frozenset(roles), tenant, None

    @property
    def roles(self) -> frozenset[str]:
        self._loaded()
        return self._roles

    @property
    def tenant(self) -> str | None:
        self._loaded()
        return self._tenant

    def scopes(self, role: str) -> list[str]:
        """The units ``role`` is held over (``admin@town1`` → ``town1``)."""
        return sorted(u for name, u in map(split_role, self.roles) if name == role and u is not None)

    @property
    def groups(self) -> frozenset[str]:
        if self._load_groups is not None:
            self._groups, self._load_groups = frozenset(self._load_groups()), None
        return self._groups

    def __repr__(self) -> str:
        return f"Actor({self.username!r})"

    @classmethod
    def of(cls, user: UserRecord) -> Actor:
        """The actor for an authenticated user record (its roles are already the effective ones)."""
        return cls(user.username, user.roles, user.groups, user.tenant)


def asking(actor: Actor | None) -> None:
    """Who this request (thread or task) authenticated as; ``actor_of`` answers them from memory.

    The API sets it once per request from the token's or session's user record, so the tenant
    and groups read with the user cost no further statement; ``None`` forgets it.
    """
    _asking.set(actor)


def actor_of(s: Session, username: str, *, groups: Iterable[str] | None = None) -> Actor:
    """The actor ``username`` from the database; ``groups`` when the caller knows them already."""
    known = _asking.get()
    if known is not None and known.username == username:
        return known

    def load_user() -> tuple[set[str], str | None]:
        user = s.get(User, username)
        return (effective_roles(user.roles or []), user.tenant) if user is not None else (set(), None)

    def load_groups() -> list[str]:
        return list(s.scalars(select(Membership.group).where(Membership.username == username)))

    return Actor(
        username,
        groups=groups or (),
        load_user=load_user,
        load_groups=None if groups is not None else load_groups,
    )


# ---- tenants and units --------------------------------------------------------------------------
def sees_every_tenant(actor: Actor) -> bool:
    """Admins and the OA service of the installation itself (no tenant) see every tenant's data."""
    return actor.tenant is None and bool(actor.roles & set(PRIVILEGED_ROLES))


def in_tenant(actor: Actor, tenant: str | None) -> bool:
    """Whether an object of ``tenant`` exists as far as ``actor`` can tell."""
    return tenant == actor.tenant or sees_every_tenant(actor)


def tenant_filter(actor: Actor, column: Any) -> ColumnElement[bool] | None:
    """The condition keeping ``column`` (a ``tenant`` column) within the actor's tenant; None: all."""
    if sees_every_tenant(actor):
        return None
    return column.is_(None) if actor.tenant is None else column == actor.tenant


def _unit_row(s: Session, code: str) -> Unit | None:
    return s.scalar(select(Unit).where(Unit.code == code))


def manages_unit(s: Session, actor: Actor, unit_code: str, *, role: str = "admin") -> bool:
    """Whether ``actor`` holds ``role`` over unit ``unit_code``: plainly within its tenant (or the
    installation's, over every tenant), or scoped (``admin@town1``) over that unit's subtree."""
    unit = _unit_row(s, unit_code)
    if unit is None or not in_tenant(actor, unit.tenant):
        return False
    if role in actor.roles:
        return True
    scopes = actor.scopes(role)
    if not scopes:
        return False
    paths = s.scalars(select(Unit.path).where(Unit.code.in_(scopes), Unit.tenant == unit.tenant))
    return any(unit.path.startswith(path) for path in paths)


def manages_user(s: Session, actor: Actor, username: str) -> bool:
    """Whether ``actor`` administers person ``username``: a plain admin of their tenant, or a
    scoped admin over every unit they hold a post in (a person without posts: plain admins only).
    Someone not yet known is managed by whoever may manage users at all."""
    user = s.get(User, username)
    if user is None:
        return True
    if not in_tenant(actor, user.tenant):
        return False
    if actor.roles & set(PRIVILEGED_ROLES):
        return True
    units = list(
        s.scalars(
            select(Unit.code).join(UserPost, UserPost.unit_id == Unit.id).where(UserPost.username == username)
        )
    )
    return bool(units) and all(manages_unit(s, actor, code) for code in units)


def user_filter(actor: Actor) -> ColumnElement[bool] | None:
    """The condition on ``User`` rows the actor may list: their tenant's people (None: everyone)."""
    return tenant_filter(actor, User.tenant)


# ---- the rules ----------------------------------------------------------------------------------
def _session(target: Any) -> Session:
    s = object_session(target)
    if s is None:
        raise ValueError("the rulebook reads rows attached to a session")
    return s


def _instance(target: Instance | HumanTask) -> Instance:
    if isinstance(target, Instance):
        return target
    row = _session(target).get(Instance, target.instance_id)
    assert row is not None, f"task {target.id} has no instance"
    return row


def _is_admin(actor: Actor, target: Instance | HumanTask | None = None) -> bool:
    """A plain admin (of the target's tenant: ``allowed`` checks that first), or a scoped one over
    the unit the target's instance belongs to."""
    if "admin" in actor.roles:
        return True
    if target is None or not actor.scopes("admin"):
        return False
    row = _instance(target)
    return row.unit is not None and manages_unit(_session(row), actor, row.unit)


def _may_view(actor: Actor, target: Instance | HumanTask) -> bool:
    """Involved in the instance (``_involvement``), or privileged. ``allowed`` has checked the tenant,
    so a privileged role, the starter and those who worked a task of it are answered without the
    full condition (building and running it costs several milliseconds of CPU on every history or
    instance read)."""
    row = _instance(target)
    if row.started_by == actor.username or actor.roles & set(PRIVILEGED_ROLES) or _worked_on(actor, row):
        return True
    scoped = actor.scopes("admin") + actor.scopes("oa-service")
    values: dict[str, Any] = {"instance": row.id, "username": actor.username}
    if scoped:
        values["units"] = scoped
    return bool(_session(row).scalar(_involvement_check(bool(scoped)), values))


@functools.cache
def _involvement_check(scoped: bool) -> Select[tuple[bool]]:
    """Whether one instance is visible through ``_involvement``, built once per shape with every
    value bound: building the condition (seven subqueries) cost more CPU than running it."""
    units: BindParameter[Any] | None = bindparam("units", expanding=True) if scoped else None
    condition = _involvement(bindparam("username", type_=String), units)
    return select(exists().where(Instance.id == bindparam("instance"), condition))


def _worked_on(actor: Actor, row: Instance) -> bool:
    """Held, completed or owns a task of the instance: ``_involvement``'s ``worked``, for one instance."""
    found = (
        select(HumanTask.id)
        .where(
            HumanTask.instance_id == row.id,
            or_(
                HumanTask.assignee == actor.username,
                HumanTask.completed_by == actor.username,
                HumanTask.owner == actor.username,
            ),
        )
        .limit(1)
    )
    return _session(row).scalar(found) is not None


def _is_candidate(actor: Actor, ht: HumanTask) -> bool:
    """A member of one of the task's groups, or a holder of one of its posts (``post:<unit>:<post>``)."""
    groups = set(ht.candidate_groups or [])
    posts = {g for g in groups if postqueues.is_post_group(g)}
    if actor.groups & (groups - posts):
        return True
    return bool(posts) and bool(posts & set(postqueues.held_groups(_session(ht), actor.username)))


def _holds(actor: Actor, ht: HumanTask) -> bool:
    return ht.assignee == actor.username


def _may_work(actor: Actor, ht: HumanTask) -> bool:
    """The holder, or a member of a candidate group (who gets a 409 when a colleague holds it)."""
    return _holds(actor, ht) or _is_candidate(actor, ht)


def _completed_one(actor: Actor, row: Instance) -> bool:
    found = (
        select(HumanTask.id)
        .where(HumanTask.instance_id == row.id, HumanTask.completed_by == actor.username)
        .limit(1)
    )
    return _session(row).scalar(found) is not None


def _involved(actor: Actor, target: Instance | HumanTask) -> bool:
    """The starter, anyone who completed a task of the instance, or an admin (urge and CC)."""
    row = _instance(target)
    return row.started_by == actor.username or _is_admin(actor, row) or _completed_one(actor, row)


def _may_comment(actor: Actor, ht: HumanTask) -> bool:
    """Writing remarks on a task: its holder or who completed it, its candidates, the starter, an admin.

    Reading them is ``view``: the instance's history shows every remark to whoever may see it.
    """
    return (
        actor.username in (ht.assignee, ht.completed_by)
        or _is_candidate(actor, ht)
        or _is_admin(actor, ht)
        or _instance(ht).started_by == actor.username
    )


def _may_cancel(actor: Actor, row: Instance) -> bool:
    return row.started_by == actor.username or _is_admin(actor, row)


def _may_file_claim(actor: Actor, row: Instance) -> bool:
    """Anyone claims a challenge on the board, its submitter too unless the committee ruled it out."""
    return not (row.started_by == actor.username and (row.data or {}).get("allow_submitter_claim") is False)


def _may_attach_pledge(actor: Actor, row: Instance) -> bool:
    """Whoever may claim a challenge on the board signs and uploads a 军令状 for the claim."""
    open_for_claims = row.process_key == CHALLENGE_PROCESS and (row.data or {}).get("phase") == "published"
    return (open_for_claims and _may_file_claim(actor, row)) or _may_view(actor, row)


def _is_public_challenge(_actor: Actor, row: Instance) -> bool:
    """A challenge the committee published: anyone logged in reads its page (details, claims, countdown)."""
    return row.process_key == CHALLENGE_PROCESS and (row.data or {}).get("phase") in PUBLIC_PHASES


def is_untouched_draft(row: Instance) -> bool:
    """Started but not in anyone else's hands: nobody but the starter ever completed a step, and
    every open step is the starter's. What an accidental 发起 leaves behind, or a submission the
    starter withdrew before review; its starter drops it (``discard``).
    """
    if row.status != "running" or row.started_by is None:
        return False
    tasks = list(
        _session(row).execute(
            select(HumanTask.status, HumanTask.assignee, HumanTask.completed_by).where(
                HumanTask.instance_id == row.id
            )
        )
    )
    open_ones = [assignee for status, assignee, _done in tasks if status in ("open", "waiting")]
    others_worked = any(done not in (None, row.started_by) for _status, _assignee, done in tasks)
    return bool(open_ones) and not others_worked and all(a == row.started_by for a in open_ones)


def _may_discard(actor: Actor, row: Instance) -> bool:
    """The starter (or an admin) drops an untouched draft without giving a reason."""
    return _may_cancel(actor, row) and is_untouched_draft(row)


def _may_withdraw(actor: Actor, row: Instance) -> bool:
    """The starter or someone who completed a step; only the last step's worker withdraws it (409 otherwise)."""
    return row.started_by == actor.username or _completed_one(actor, row)


def _administers_unit(actor: Actor, unit: Unit) -> bool:
    """An admin of the unit's tenant (or of the installation), or ``admin@<code>`` of the unit or a unit above it."""
    if "admin" in actor.roles:
        tenant = _session(unit).scalar(select(User.tenant).where(User.username == actor.username))
        return tenant is None or tenant == unit.tenant
    scoped = {r.removeprefix("admin@") for r in actor.roles if r.startswith("admin@")}
    if not scoped:
        return False
    above = [int(i) for i in unit.path.strip("/").split("/") if i.isdigit()]
    codes = set(_session(unit).scalars(select(Unit.code).where(Unit.id.in_(above))))
    return bool(scoped & (codes | {unit.code}))


def campaign_units(s: Session, actor: Actor) -> list[Unit]:
    """The units ``actor`` may run a campaign for (``_administers_unit`` for every unit, in one query)."""
    stmt = select(Unit).order_by(Unit.path)
    if "admin" in actor.roles:
        tenant = s.scalar(select(User.tenant).where(User.username == actor.username))
        return list(s.scalars(stmt if tenant is None else stmt.where(Unit.tenant == tenant)))
    scoped = {r.removeprefix("admin@") for r in actor.roles if r.startswith("admin@")}
    if not scoped:
        return []
    tops = list(s.scalars(select(Unit).where(Unit.code.in_(scoped))))
    if not tops:
        return []
    return list(s.scalars(stmt.where(or_(*(Unit.path.startswith(u.path, autoescape=True) for u in tops)))))


def _assesses(actor: Actor, unit: Unit) -> bool:
    """The county's evaluation group (考评组: group ``evaluator`` in the unit's tenant, whose items'
    tasks they work) or an admin of the organiser unit."""
    return ("evaluator" in actor.groups and in_tenant(actor, unit.tenant)) or _administers_unit(actor, unit)


def _reads_archives(actor: Actor, _target: Any) -> bool:
    """Admins and organisers (an admin of some unit) read people's growth archives (成长档案)."""
    return "admin" in actor.roles or bool(actor.scopes("admin"))


def _organises(actor: Actor, _target: Any) -> bool:
    """The organisation department: admins, admins of a unit (``admin@zzb``) and the group
    ``organiser``, who run front-line dispatch (五个一线) for their tenant."""
    return "admin" in actor.roles or bool(actor.scopes("admin")) or "organiser" in actor.groups


def leads_person(s: Session, actor: Actor, username: str) -> bool:
    """Whether ``actor`` holds a leading post (``LEADING_POSTS``) in a unit where ``username``
    holds a post, or in a unit above it: the person's unit leaders."""
    units = list(
        s.scalars(
            select(Unit.path).join(UserPost, UserPost.unit_id == Unit.id).where(UserPost.username == username)
        )
    )
    ids = {int(i) for path in units for i in path.strip("/").split("/") if i.isdigit()}
    if not ids:
        return False
    found = s.scalar(
        select(UserPost.id)
        .where(
            UserPost.username == actor.username, UserPost.post.in_(LEADING_POSTS), UserPost.unit_id.in_(ids)
        )
        .limit(1)
    )
    return found is not None


def reads_archive_of(s: Session, actor: Actor, username: str) -> bool:
    """Who reads a person's growth archive (成长档案): the person, their unit leaders
    (``leads_person``) and the organisation department (``read_archives``)."""
    return actor.username == username or allowed("read_archives", actor) or leads_person(s, actor, username)


def _role(*roles: str) -> Callable[[Actor, Any], bool]:
    return lambda actor, _target: bool(actor.roles & set(roles))


Rule = Callable[[Actor, Any], bool]

#: Task actions: the target is a ``HumanTask``.
TASK_RULES: dict[str, Rule] = {
    "view": _may_view,
    "claim": _is_candidate,
    "unclaim": _may_work,  # the holder gives it back; a colleague learns who holds it (409)
    "complete": _may_work,
    "transfer": _may_work,
    "delegate": _may_work,
    "add_signers": _may_work,
    "remove_signer": _holds,
    "return": _may_work,
    "urge": _involved,
    "cc": _involved,
    "comment": _may_comment,
}

#: Instance actions: the target is an ``Instance``.
INSTANCE_RULES: dict[str, Rule] = {
    "view": _may_view,
    "cancel": _may_cancel,
    "discard": _may_discard,
    "withdraw": _may_withdraw,
    "cc": _involved,
    "execute_job": _is_admin,
    "file_claim": _may_file_claim,
    "read_challenge": _is_public_challenge,
    "attach_pledge": _may_attach_pledge,  # a 军令状 uploaded before its claim is filed
    "attach_evidence": _may_view,  # evidence for a progress or completion report
    "read_attachments": _may_view,  # everyone's files; a cadre always reads their own upload
}

#: Unit actions: the target is a ``Unit`` (a campaign is run by its organiser unit's admins).
UNIT_RULES: dict[str, Rule] = {
    "create_campaign": _administers_unit,
    "manage_campaign": _administers_unit,  # import its list, publish it, open the assessment, carry over
    "assess_campaign": _assesses,  # the 考评组's page of every item
    "appoint_leader": _administers_unit,  # propose a village's 总队长 (总队长制)
    "view_villages": lambda actor, unit: in_tenant(actor, unit.tenant),  # leaders, lists, presence
}

#: Actions on the installation itself (no target): who holds which role.
ROLE_RULES: dict[str, Rule] = {
    "deploy": _role("admin"),
    "execute_job": _role("admin"),
    "view_jobs": _role("admin"),
    "view_raw_data": _role("admin"),  # an instance's data as stored (JSON); others read the summary
    "view_incidents": _role("admin"),  # tasks nobody could be given (a vacant post…), stopped instances
    "repair_instances": _role("admin"),  # retry, resume, change an instance's data
    "migrate_instances": _role("admin"),  # move running instances to another version of their process
    "manage_webhooks": _role("admin"),
    "manage_notifications": _role("admin"),  # channels (e-mail, 钉钉, 企业微信) and every delivery's log
    "manage_tokens": _role("admin"),  # list or revoke someone else's tokens, issue tokens
    "manage_users": _role("admin", "oa-service"),  # the org sync
    "manage_admins": _role("admin"),  # deactivate or reactivate an admin (granting roles: ``refused_grants``)
    "act_as": _role("oa-service"),  # send X-Acting-User: the OA relays its people
    "send_message": _role("admin", "oa-service"),
    "issue_login_link": _role("oa-service"),
    "manage_org": _role("admin"),  # units and posts; which tenant's: ``may_manage_org``
    "read_archives": _reads_archives,  # anyone's 成长档案 (of their tenant); everyone reads their own
    # the installation's metrics name every tenant's processes and groups: its own admins only
    "read_metrics": lambda actor, _target: "admin" in actor.roles and sees_every_tenant(actor),
    "manage_appraisal": _reads_archives,  # organisers: schemes, panels, award lists, objections (appraisal/)
    "manage_frontline": _organises,  # the front-line posts, dispatch dashboard and list entries (五个一线)
}

REFUSALS = {
    "view": "{who} is not involved in {what}",
    "claim": "{who} may not work {what}",
    "complete": "{who} may not work {what}",
    "unclaim": "{who} may not work {what}",
    "remove_signer": "only the approver who added signers removes them / 仅加签人可减签",
    "urge": "only the starter or people who worked this instance may urge / 仅发起人或经办人可催办",
    "cc": "only the starter or people who worked this instance may copy it / 仅发起人或经办人可抄送",
    "comment": "{who} is not involved in {what}",
    "cancel": "only the starter or an admin may cancel an instance / 仅发起人或管理员可撤销",
    "discard": "only the starter drops a draft nobody has worked on / 仅发起人可撤销未提交的草稿",
    "withdraw": "only the starter or the last approver withdraws / 仅发起人或上一环节处理人可撤回",
    "file_claim": "the submitter may not claim this challenge",
    "create_campaign": "only an admin of the organiser unit runs a campaign / 仅牵头组织单位的管理员可开展批次",
    "manage_campaign": "only an admin of the organiser unit runs a campaign / 仅牵头组织单位的管理员可开展批次",
    "assess_campaign": "only the evaluation group assesses a campaign / 仅考评组成员和管理员可进行年终考评",
    "read_archives": "only the person, admins and organisers read a growth archive / 仅本人、管理员和组织单位可查看成长档案",
    "read_metrics": "only the installation's admins read its metrics / 仅系统管理员可查看运行指标",
    "repair_instances": "only admins repair stopped instances / 仅管理员可修复出错的流程",
    "migrate_instances": "only admins move instances to another version / 仅管理员可迁移流程实例",
    "manage_appraisal": "only admins and organisers run appraisals / 仅管理员和组织单位可组织测评评选",
    "manage_frontline": "only the organisation department runs front-line dispatch / 仅组织部门可管理五个一线选派",
    "read_challenge": "instance {what} is not a challenge on the board / 该事项不在榜单上",
    "attach_pledge": "{what} is not open for claims / 该事项当前不接受揭榜",
    "attach_evidence": "{who} is not involved in {what}",
    "read_attachments": "{who} is not involved in {what}",
    "manage_org": "only an admin of this tenant may change its units / 仅本县（租户）管理员可维护组织",
    "appoint_leader": "only an admin of the village or a unit above it proposes its 总队长 / 仅本村或上级单位管理员可提名总队长",
    "view_villages": "{who} is not of this county / 非本县人员",
    "assign_posts": "only an admin or the OA service of this tenant may give its posts / 仅本县（租户）管理员可任免职务",
}


def _rules_for(target: Any) -> dict[str, Rule]:
    if target is None:
        return ROLE_RULES
    if isinstance(target, Unit):
        return UNIT_RULES
    return TASK_RULES if isinstance(target, HumanTask) else INSTANCE_RULES


Target = Instance | HumanTask | Unit | None


def allowed(action: str, actor: Actor, target: Target = None) -> bool:
    """May ``actor`` do ``action`` to ``target``? An action the target does not have is refused,
    and so is everything on another tenant's object."""
    rule = _rules_for(target).get(action)
    if rule is None or (isinstance(target, Instance | HumanTask) and not in_tenant(actor, target.tenant)):
        return False
    return rule(actor, target)


def require_tenant(actor: Actor, target: Instance | HumanTask) -> None:
    """``NotFoundError`` (404) for another tenant's object: its id tells the actor nothing."""
    if not in_tenant(actor, target.tenant):
        what = "task" if isinstance(target, HumanTask) else "process instance"
        raise NotFoundError(f"no {what} '{target.id}'")


def require(action: str, actor: Actor, target: Target = None) -> None:
    """``allowed`` or ``NotAllowedError`` (403), with a message naming the refusal; another
    tenant's object is ``NotFoundError`` (404)."""
    if isinstance(target, Instance | HumanTask):  # units: the organisation's own rules below
        require_tenant(actor, target)
    if allowed(action, actor, target):
        return
    template = REFUSALS.get(
        action, "requires permission to {action}" if target is None else "{who} may not {action} {what}"
    )
    kind = {HumanTask: "task", Instance: "instance", Unit: "unit"}[type(target)] if target is not None else ""
    what = "" if target is None else f"{kind} {target.id}"
    raise NotAllowedError(template.format(who=actor.username, what=what, action=action))


def actions(actor: Actor, target: Instance | HumanTask) -> list[str]:
    """What ``actor`` may do to ``target`` now: allowed, and possible in its present state.

    The pages render their buttons from this list, so a button shows only what the engine would do.
    """
    possible = (
        _task_actions(actor, target) if isinstance(target, HumanTask) else _instance_actions(actor, target)
    )
    return [a for a in possible if allowed(a, actor, target)]


def _task_actions(actor: Actor, ht: HumanTask) -> list[str]:
    out = ["view", "comment"]
    if ht.status in ("open", "waiting"):
        out += ["urge", "cc"]
        if ht.kind == "task" and _holds(actor, ht):
            out.append("remove_signer")  # also while signers added before the holder are signing
    if ht.status != "open":
        return out
    if ht.assignee is None:
        out += ["claim", "complete"]
    elif _holds(actor, ht):
        out += ["complete", "transfer", "delegate"]
        if ht.candidate_groups:
            out.append("unclaim")
        if ht.kind == "task":
            out += ["add_signers", "return"]
    return out


def _instance_actions(actor: Actor, row: Instance) -> list[str]:
    out = ["view", "cc", "execute_job"]
    if row.status in ("running", "error"):
        out.append("cancel")
    if row.status == "running":
        out.append("discard")
        last = last_step(_session(row), row.id)
        if last is not None and last.completed_by == actor.username:
            out.append("withdraw")
    return out


def last_step(s: Session, instance_id: str) -> HumanTask | None:
    """The instance's most recently completed step (not a signer's part): what a withdrawal takes back."""
    return s.scalars(
        select(HumanTask)
        .where(
            HumanTask.instance_id == instance_id, HumanTask.kind == "task", HumanTask.status == "completed"
        )
        .order_by(HumanTask.completed_at.desc(), HumanTask.created_at.desc())
        .limit(1)
    ).first()


# ---- who sees which instance --------------------------------------------------------------------
def visible_instances(s: Session, username: str) -> ColumnElement[bool] | None:
    """The condition on ``Instance`` rows ``username`` may see, for lists; ``None`` when they see
    every instance.

    The same ways in as ``_involvement``, but as membership in the union of the ids each way reads
    from its own index: the list and its total then visit the person's instances only, where the
    ORed correlated conditions had to be tested on every instance of the tenant (seconds at
    100,000 instances). One instance is still checked with ``_involvement``, which reads only that
    instance's rows."""
    actor = actor_of(s, username)
    if actor.roles & set(PRIVILEGED_ROLES):
        return tenant_filter(actor, Instance.tenant)
    ids = Instance.id.in_(_involved_ids(actor.username, actor.scopes("admin") + actor.scopes("oa-service")))
    # The tenant is checked on the rows the ids found, written so that no index serves it: a
    # planner without statistics (SQLite) would otherwise walk the tenant's whole index instead.
    return and_(ids, func.coalesce(Instance.tenant, "") == (actor.tenant or ""))


def _overseen(
    username: str | ColumnElement[str], scoped_units: BindParameter[Any] | None
) -> ColumnElement[bool]:
    """Instances of units under one the person leads (a post in ``LEADING_POSTS``) or holds a
    scoped role over."""
    inst_unit, over = aliased(Unit), aliased(Unit)
    leads = select(UserPost.unit_id).where(UserPost.username == username, UserPost.post.in_(LEADING_POSTS))
    return exists().where(
        inst_unit.code == Instance.unit,
        or_(over.id.in_(leads), over.code.in_(scoped_units) if scoped_units is not None else false()),
        over.tenant == inst_unit.tenant,
        inst_unit.path.startswith(over.path),
    )


def _candidate_groups(username: str | ColumnElement[str]) -> CompoundSelect[Any]:
    return (
        select(Membership.group)
        .where(Membership.username == username, ~Membership.group.startswith(postqueues.POST_GROUP))
        .union(postqueues.held_groups_query(username))
    )


def _involved_ids(username: str, scoped_units: list[str]) -> CompoundSelect[Any]:
    """The ids of the instances ``username`` is involved in: ``_involvement``'s ways in, each an
    index range (``ix_instance_started_by``, ``ix_human_task_assignee_status``, …)."""
    inst_unit, over = aliased(Unit), aliased(Unit)
    leads = select(UserPost.unit_id).where(UserPost.username == username, UserPost.post.in_(LEADING_POSTS))
    units_overseen = (  # read first, so that their instances are an index range (ix_instance_unit)
        select(inst_unit.code)
        .join(over, and_(over.tenant == inst_unit.tenant, inst_unit.path.startswith(over.path)))
        .where(or_(over.id.in_(leads), over.code.in_(scoped_units) if scoped_units else false()))
    )
    overseen = select(Instance.id).where(Instance.unit.in_(units_overseen))
    return union(
        select(Instance.id).where(Instance.started_by == username),
        select(HumanTask.instance_id).where(HumanTask.assignee == username),
        select(HumanTask.instance_id).where(HumanTask.completed_by == username),
        select(HumanTask.instance_id).where(HumanTask.owner == username),
        select(AuditEvent.instance_id).where(
            AuditEvent.event == _DELEGATE_DONE, AuditEvent.actor == username
        ),
        select(HumanTask.instance_id)
        .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
        .where(TaskCandidate.group.in_(_candidate_groups(username))),
        select(CarbonCopy.instance_id).where(CarbonCopy.username == username),
        select(ScoreEntry.instance_id).where(
            ScoreEntry.username == username, ScoreEntry.instance_id.isnot(None)
        ),
        overseen,
    )


# In the statement's text, not a parameter: ``ix_audit_delegate_done`` is partial on this event, and
# PostgreSQL's generic plan for a prepared statement cannot use a partial index whose condition
# compares with a parameter (it read all of audit_event instead).
_DELEGATE_DONE: ColumnElement[str] = literal_column(f"'{audit.TASK_DELEGATE_DONE.value}'")


def _involvement(
    username: ColumnElement[str], scoped_units: BindParameter[Any] | None
) -> ColumnElement[bool]:
    worked = exists().where(
        HumanTask.instance_id == Instance.id,
        or_(HumanTask.assignee == username, HumanTask.completed_by == username, HumanTask.owner == username),
    )
    delegated = exists().where(  # a delegate hands the task back to its owner: their work still counts
        AuditEvent.instance_id == Instance.id,
        AuditEvent.actor == username,
        AuditEvent.event == _DELEGATE_DONE,
    )
    candidate = exists().where(
        TaskCandidate.task_id == HumanTask.id,
        HumanTask.instance_id == Instance.id,
        TaskCandidate.group.in_(_candidate_groups(username)),
    )
    copied = exists().where(CarbonCopy.instance_id == Instance.id, CarbonCopy.username == username)
    scored = exists().where(ScoreEntry.instance_id == Instance.id, ScoreEntry.username == username)
    overseen = _overseen(username, scoped_units)
    return or_(Instance.started_by == username, worked, delegated, candidate, copied, scored, overseen)


# ---- the organisation: who sees and changes which tenant's units and posts ----------------------
def tenant_of_actor(s: Session, username: str) -> str | None:
    """The tenant a person belongs to (``None``: the installation's own people, who see every tenant)."""
    return s.scalar(select(User.tenant).where(User.username == username))


def sees_tenant(s: Session, username: str | None, tenant: str) -> bool:
    """Whether ``username`` may see units of ``tenant`` (another tenant's units answer 404).

    ``None`` is the command line, which runs on the server and sees everything.
    """
    if username is None:
        return True
    mine = tenant_of_actor(s, username)
    return mine is None or mine == tenant


def may_manage_org(s: Session, actor: Actor, tenant: str | None) -> bool:
    """Change units of ``tenant`` (``None``: create a new tenant).

    An admin without a tenant administers the installation: every tenant, and new ones. An admin
    of a tenant changes units within it only. Scoped admins (``admin@unit``) extend this rule.
    """
    if not allowed("manage_org", actor):
        return False
    mine = tenant_of_actor(s, actor.username)
    return mine is None or (tenant is not None and mine == tenant)


def may_assign_posts(s: Session, actor: Actor, tenant: str) -> bool:
    """Give people posts in units of ``tenant``: whoever syncs users (admin, OA service) within their tenant."""
    if not allowed("manage_users", actor):
        return False
    mine = tenant_of_actor(s, actor.username)
    return mine is None or mine == tenant


def require_org(action: str, permitted: bool) -> None:
    """``NotAllowedError`` (403) naming the refusal when an organisation rule said no."""
    if not permitted:
        raise NotAllowedError(REFUSALS[action])


def unit_filter(
    s: Session, actor: Actor, unit_code: str, column: InstrumentedAttribute[Any]
) -> ColumnElement[bool]:
    """``column`` (a unit code) names ``unit_code`` or a unit under it; an unknown unit, or one of
    another tenant, is not found."""
    unit = _unit_row(s, unit_code)
    if unit is None or not in_tenant(actor, unit.tenant):
        raise NotFoundError(f"no unit '{unit_code}'")
    return column.in_(select(Unit.code).where(Unit.path.startswith(unit.path, autoescape=True)))
