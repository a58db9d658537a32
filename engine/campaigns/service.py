"""Campaign operations: create, read, import a list, publish, and the projection that keeps
``campaign_problem`` exact. Each is a plain function of one ``Step`` or session; ``Engine`` opens it.

How a listed problem enters the process: the shipped claim-and-evaluate diagram takes a problem's
data in its first user task, ``submit_problem`` (the start event's form is only an optional
prefill). An imported row therefore starts an instance as the importer and completes that task
with the row's data, so the problem arrives filed, waiting in ``preliminary_review``, exactly as
if its submitter had typed it. When the campaign says its list was already selected by a panel
(``list_approved``), the import also records the preliminary review as passed, citing the list,
and the problem waits in ``committee_approval``. That task is where the diagram publishes: its
approval (points, deadline, claim window, reporting interval) runs the ``publish`` script that
puts the problem on the board. ``publish`` completes it for every problem of the campaign that
waits there, with the list's 分值 and 时限 and the campaign's windows, in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .. import rules
from ..challenge.board import LOCAL_TZ
from ..challenge.team import guest_key
from ..definitions import forms as formlib
from ..definitions.catalog import Model
from ..errors import ConflictError, FormInvalidError, InvalidInputError, NotFoundError, ScriptError
from ..runtime.clock import parse_instant
from ..runtime.runner import StepContext
from ..runtime.step import Step, Steps
from ..tables import HumanTask, Instance, Unit, User, UserPost
from ..vocabulary import Event
from . import assessment, recommend
from .problems import ListedProblem, UnitRef, check_rows
from .records import CampaignRecord, ImportResult, ListedProblemRecord, PreviewRow, PublishResult, RowError
from .sheet import read_rows
from .tables import Campaign, CampaignProblem

DEFAULT_PROCESS = "claim_evaluate"
SUBMIT_TASK = "submit_problem"
REVIEW_TASK = "preliminary_review"
PUBLISH_TASK = "committee_approval"  # its approval runs the diagram's ``publish`` script
CLOSED = ("accepted", "rejected", "failed", "cancelled", "completed")
FIELD_COLUMNS = {
    "title": "题目",
    "category": "类别",
    "description": "问题描述",
    "goals": "目标",
    "proposed_deadline": "时限",
    "proposed_points": "分值",
}


def install(steps: Steps) -> None:
    steps.runner.projections.append(refresh)
    steps.form_views.append(form_view)
    steps.claim_checks.append(check_claim)
    steps.form_views.append(recommend.form_view)
    assessment.install(steps)


def form_view(session: Session, row: Instance, schema: dict[str, Any]) -> dict[str, Any]:
    """A campaign's problem offers and accepts its campaign's categories, not the form's own list."""
    campaign_id = (row.data or {}).get("campaign")
    if not isinstance(campaign_id, int) or not _asks_category(schema):
        return schema
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return schema
    key = (id(schema), tuple(campaign.categories))
    hit = _views.get(key)
    if hit is None or hit[0] is not schema:  # one view per form and list: its validator compiles once
        if len(_views) > 1000:
            _views.clear()
        hit = _views[key] = (schema, campaign_form(schema, campaign) or schema)
    return hit[1]


_views: dict[tuple[int, tuple[str, ...]], tuple[dict[str, Any], dict[str, Any]]] = {}


# ---- campaigns ----------------------------------------------------------------------------------
def create(step: Step, body: dict[str, Any]) -> CampaignRecord:
    """A new campaign run by ``organiser_unit``; its tenant is the creator's (or the unit's, for an
    installation admin)."""
    s, actor = step.session, step.actor or ""
    unit = s.scalar(select(Unit).where(Unit.code == body["organiser_unit"]))
    if unit is None:
        raise InvalidInputError(
            "unknown organiser unit", {"organiser_unit": [f"no unit '{body['organiser_unit']}' / 单位不存在"]}
        )
    rules.require("create_campaign", rules.actor_of(s, actor), unit)
    process_key = body.get("process_key") or DEFAULT_PROCESS
    step.runner.catalog.get_row(s, process_key)  # 404 for a process nobody deployed
    categories = _categories(body.get("categories"))
    tenant = s.scalar(select(User.tenant).where(User.username == actor)) or unit.tenant
    prefix = body.get("key_prefix") or f"{unit.tenant.upper()}{body['year']}-"
    if s.scalar(select(Campaign.id).where(Campaign.key_prefix == prefix)) is not None:
        raise ConflictError(
            f"business key prefix '{prefix}' is taken",
            key_prefix=prefix,
        )
    row = Campaign(
        tenant=tenant,
        title=body["title"],
        year=body["year"],
        organiser_unit=unit.code,
        process_key=process_key,
        categories=categories,
        claim_ranks=_ranks(body.get("claim_ranks")),
        submission_deadline=body.get("submission_deadline"),
        key_prefix=prefix,
        list_approved=bool(body.get("list_approved", False)),
        claim_window=body.get("claim_window") or "P14D",
        report_interval=body.get("report_interval") or "P30D",
        created_by=actor or None,
        created_at=step.now,
    )
    s.add(row)
    s.flush()
    step.record(
        Event.CAMPAIGN_CREATED,
        actor=step.actor,
        data={"campaign": row.id, "title": row.title, "tenant": tenant},
    )
    return record(s, row)


def _categories(raw: Any) -> list[str]:
    names = [str(c).strip() for c in raw or []]
    if not names or any(not n or len(n) > 100 for n in names) or len(set(names)) != len(names):
        raise InvalidInputError(
            "categories invalid",
            {"categories": ["1 or more distinct names of up to 100 characters / 类别须为不重复的名称"]},
        )
    return names


def update(step: Step, campaign_id: int, body: dict[str, Any]) -> CampaignRecord:
    """Change what may change once a campaign runs: today who may claim (``claim_ranks``)."""
    row = managed(step.session, step.actor or "", campaign_id)
    if "claim_ranks" in body:
        row.claim_ranks = _ranks(body.get("claim_ranks"))
        step.record(
            Event.CAMPAIGN_UPDATED,
            actor=step.actor,
            data={"campaign": row.id, "claim_ranks": row.claim_ranks},
        )
    step.session.flush()
    return record(step.session, row)


def _ranks(raw: Any) -> list[str]:
    names = [str(r).strip() for r in raw or []]
    if any(not n or len(n) > 50 for n in names) or len(set(names)) != len(names):
        raise InvalidInputError(
            "claim_ranks invalid",
            {"claim_ranks": ["distinct ranks of up to 50 characters / 职级须为不重复的名称"]},
        )
    return names


def claim_ranks(s: Session, row: Instance) -> list[str]:
    """The ranks that may claim the problem ``row``: its campaign's ``claim_ranks`` (empty: anyone)."""
    ranks = s.scalar(
        select(Campaign.claim_ranks)
        .join(CampaignProblem, CampaignProblem.campaign_id == Campaign.id)
        .where(CampaignProblem.instance_id == row.id)
    )
    return [str(r) for r in ranks or []]


def claim_refusal(s: Session, row: Instance, username: str) -> str | None:
    """Why ``username`` may not claim the problem ``row`` (its campaign limits claims to ranks they
    hold no post of), or ``None`` when they may. Bilingual: the refusal is shown as it is."""
    ranks = claim_ranks(s, row)
    if not ranks:
        return None
    held = {r for r in s.scalars(select(UserPost.rank).where(UserPost.username == username)) if r}
    if held & set(ranks):
        return None
    allowed = "、".join(ranks)
    return f"only cadres of rank {', '.join(ranks)} may claim this problem / 本题仅限{allowed}干部揭榜"


def check_claim(s: Session, row: Instance, filer: str, claim: dict[str, Any]) -> None:
    """A claim check (``Steps.claim_checks``): a campaign's rank limit, refused with a 422. It holds
    for the filer and for the 主要负责人 who answers for the work; the 挂帅领导 may be a county
    leader above the limit, as in 滦南."""
    refusal = claim_refusal(s, row, filer)
    if refusal:
        raise InvalidInputError("claim not eligible", {"rank": [refusal]})
    principal = claim.get("principal")
    if isinstance(principal, str) and principal != filer and claim_refusal(s, row, principal):
        ranks = claim_ranks(s, row)
        raise InvalidInputError(
            "principal not eligible",
            {
                "principal": [
                    f"the principal must be a cadre of rank {', '.join(ranks)}"
                    f" / 主要负责人须为{'、'.join(ranks)}干部"
                ]
            },
        )


def visible(s: Session, viewer: str, campaign_id: int) -> Campaign:
    """The campaign if ``viewer`` may see it; 404 otherwise, so ids of other tenants tell nothing."""
    row = s.get(Campaign, campaign_id) if 0 < campaign_id < 2**31 else None  # beyond an INTEGER column
    if row is None or (row.tenant is not None and not rules.sees_tenant(s, viewer, row.tenant)):
        raise NotFoundError(f"no campaign {campaign_id}")
    return row


def managed(s: Session, actor: str, campaign_id: int) -> Campaign:
    """The campaign if ``actor`` administers its organiser unit (404 if unseen, 403 if seen only)."""
    row = visible(s, actor, campaign_id)
    unit = s.scalar(select(Unit).where(Unit.code == row.organiser_unit))
    if unit is None:
        raise ConflictError(f"the organiser unit '{row.organiser_unit}' no longer exists")
    rules.require("manage_campaign", rules.actor_of(s, actor), unit)
    return row


def listing(s: Session, viewer: str) -> list[CampaignRecord]:
    rows = s.scalars(select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc()))
    return [record(s, r) for r in rows if r.tenant is None or rules.sees_tenant(s, viewer, r.tenant)]


def problems(s: Session, campaign: Campaign, viewer: str) -> list[ListedProblemRecord]:
    """The campaign's problems by number, with their titles, lead units by name and statuses, and
    which pages of each ``viewer`` may open (its challenge on the board, its instance)."""
    rows = s.execute(
        select(
            Instance,
            CampaignProblem.number,
            CampaignProblem.category,
            CampaignProblem.lead_unit,
            Unit.name,
            status_column(),
        )
        .join(Instance, Instance.id == CampaignProblem.instance_id)
        .outerjoin(Unit, Unit.code == CampaignProblem.lead_unit)
        .where(CampaignProblem.campaign_id == campaign.id)
        .order_by(CampaignProblem.number)
    ).all()
    actor = rules.actor_of(s, viewer)
    out = []
    for row, number, category, unit, name, status in rows:
        public = rules.allowed("read_challenge", actor, row)
        out.append(
            ListedProblemRecord(
                row.id,
                number,
                category,
                str((row.data or {}).get("title") or ""),
                unit,
                name or unit,
                status,
                public,
                public or rules.allowed("view", actor, row),
            )
        )
    return out


def organisers(s: Session, actor: str) -> dict[str, str]:
    """The units ``actor`` may run a campaign for, code -> name (the page's organiser choice)."""
    return {u.code: u.name for u in rules.campaign_units(s, rules.actor_of(s, actor))}


def record(s: Session, row: Campaign) -> CampaignRecord:
    """The campaign with its problems counted by status and category: one grouped query."""
    counts = s.execute(
        select(CampaignProblem.category, Instance.status, CampaignProblem.status, func.count())
        .join(Instance, Instance.id == CampaignProblem.instance_id)
        .where(CampaignProblem.campaign_id == row.id)
        .group_by(CampaignProblem.category, Instance.status, CampaignProblem.status)
    ).all()
    by_status: dict[str, int] = defaultdict(int)
    by_category: dict[str, int] = {c: 0 for c in row.categories}
    for category, instance_status, status, n in counts:
        by_status[instance_status if instance_status in ("cancelled", "error") else status] += n
        by_category[category] = by_category.get(category, 0) + n
    return CampaignRecord(
        row.id,
        row.tenant,
        row.title,
        row.year,
        row.organiser_unit,
        row.process_key,
        list(row.categories),
        row.submission_deadline,
        row.key_prefix,
        row.list_approved,
        row.claim_window,
        row.report_interval,
        row.created_by,
        row.created_at,
        sum(by_status.values()),
        dict(by_status),
        by_category,
        s.scalar(select(Unit.name).where(Unit.code == row.organiser_unit)) or row.organiser_unit,
        list(row.claim_ranks or []),
    )


def status_column() -> Any:
    """A problem's status: its instance's when cancelled or failed, else the projection's."""
    return case(
        (Instance.status == "cancelled", "cancelled"),
        (Instance.status == "error", "error"),
        else_=CampaignProblem.status,
    )


# ---- importing a list ---------------------------------------------------------------------------
def import_list(step: Step, campaign_id: int, content: bytes, *, dry_run: bool) -> ImportResult:
    """Check every row of an uploaded list; unless a row is refused or it is a dry run, start one
    instance per new row, all in this step's transaction (all or nothing)."""
    s = step.session
    campaign = managed(s, step.actor or "", campaign_id)
    rows, layout = read_rows(content)
    if layout:
        return ImportResult(0, [], [], [RowError(p.row, p.column, p.message) for p in layout], dry_run)
    definition = step.runner.catalog.get_row(s, campaign.process_key)
    model = step.runner.catalog.model(definition)
    listed, errors = check_rows(
        rows,
        categories=list(campaign.categories),
        units=_units(s, campaign.tenant),
        today=step.now.astimezone(LOCAL_TZ).date(),
    )
    schema = campaign_form(model.form_for(SUBMIT_TASK), campaign)
    for item in listed:
        errors.extend(form_errors(schema, item))
    if not rows and not errors:
        errors.append(RowError(2, "", "表格中没有问题：请从第 2 行起逐行填写"))
    taken = set(s.scalars(select(CampaignProblem.number).where(CampaignProblem.campaign_id == campaign.id)))
    skipped = sorted(p.number for p in listed if p.number in taken)
    fresh = [p for p in listed if p.number not in taken]
    if errors or dry_run:
        errors.sort(
            key=lambda e: (
                e.row,
                list(FIELD_COLUMNS.values()).index(e.column) if e.column in FIELD_COLUMNS.values() else -1,
            )
        )
        preview = [] if errors else [_preview(item) for item in fresh]
        return ImportResult(0 if errors else len(fresh), [], skipped, errors, dry_run, preview)
    numbers = numbered(fresh, taken)
    started = [
        start_problem(step, campaign, definition, model, item, number)
        for item, number in zip(fresh, numbers, strict=True)
    ]
    return ImportResult(len(started), started, skipped, [], False)


def _preview(item: ListedProblem) -> PreviewRow:
    deadline = instant(item.data.get("proposed_deadline"))
    return PreviewRow(
        item.row,
        item.number,
        item.category,
        str(item.data.get("title") or ""),
        item.lead_unit.name,
        deadline.astimezone(LOCAL_TZ).date().isoformat()
        if deadline
        else str(item.data.get("proposed_deadline")),
        item.data.get("proposed_points"),
    )


def _units(s: Session, tenant: str | None) -> dict[str, list[UnitRef]]:
    """Units of the tenant by code and by name: what a 牵头单位 cell may say."""
    stmt = select(Unit.code, Unit.name)
    if tenant is not None:
        stmt = stmt.where(Unit.tenant == tenant)
    out: dict[str, list[UnitRef]] = defaultdict(list)
    for code, name in s.execute(stmt):
        ref = UnitRef(code, name)
        out[code].append(ref)
        if name != code:
            out[name].append(ref)
    return out


def campaign_form(schema: dict[str, Any] | None, campaign: Campaign) -> dict[str, Any] | None:
    """A form with the campaign's own categories in place of the form's list (engine side: a
    problem's category is always one of its campaign's), in its items' forms too (a unit's
    submission and the final list are lists of problems)."""
    if schema is None:
        return None
    props = dict(schema.get("properties") or {})
    for name, field in props.items():
        if name == "category":
            props[name] = {**field, "enum": list(campaign.categories)}
        elif isinstance(field, dict) and _asks_category(field.get("items")):
            props[name] = {**field, "items": campaign_form(field["items"], campaign)}
    return {**schema, "properties": props}


def _asks_category(schema: Any) -> bool:
    """Does the form, or the form of a list's items, ask for a category?"""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return False
    return "category" in props or any(
        isinstance(f, dict) and _asks_category(f.get("items")) for f in props.values()
    )


def form_errors(schema: dict[str, Any] | None, item: ListedProblem) -> list[RowError]:
    try:
        formlib.validate(schema, item.data)
    except FormInvalidError as exc:
        return [
            RowError(item.row, FIELD_COLUMNS.get(field.split(".")[0], field), "；".join(messages))
            for field, messages in exc.errors.items()
        ]
    return []


def numbered(fresh: list[ListedProblem], taken: set[int]) -> list[int]:
    """Each row's number: its 编号, or the next number neither the campaign nor the list uses."""
    used = taken | {p.number for p in fresh if p.number is not None}
    following = max(used, default=0)
    out = []
    for item in fresh:
        if item.number is None:
            following += 1
            while following in used:
                following += 1
            out.append(following)
        else:
            out.append(item.number)
    return out


def start_problem(
    step: Step,
    campaign: Campaign,
    definition: Any,
    model: Model,
    item: ListedProblem,
    number: int,
    extra: dict[str, Any] | None = None,
    *,
    approved: str | None = None,
) -> str:
    """Start one listed problem as ``step.actor`` and file it; the preliminary review is passed for
    an approved list (``approved``: the comment it is passed with; by default the campaign's title
    when the campaign says its imported lists were approved). ``extra`` is start data beside the
    form's (where a carried-over item came from)."""
    s, actor = step.session, step.actor or ""
    data = {
        **item.data,
        **(extra or {}),
        "campaign": campaign.id,
        "campaign_number": number,
        "lead_unit": item.lead_unit.code,
        "lead_unit_name": item.lead_unit.name,
    }
    ctx = step.start(
        definition,
        business_key=f"{campaign.key_prefix}{number}",
        data=data,
        tenant=campaign.tenant or rules.actor_of(s, actor).tenant,  # the campaign's county owns it
        unit=item.lead_unit.code,
    )
    _raise_failure(ctx)
    row = ctx.row
    s.add(
        CampaignProblem(
            instance_id=row.id,
            campaign_id=campaign.id,
            number=number,
            category=item.category,
            lead_unit=item.lead_unit.code,
            status="filed",
            created_at=step.now,
            people=[],
        )
    )
    s.flush()
    step.record(
        Event.CAMPAIGN_IMPORTED,
        actor=step.actor,
        instance_id=row.id,
        data={"campaign": campaign.id, "number": number, "row": item.row},
    )
    if (submit := _created(ctx, SUBMIT_TASK)) is not None:
        filed = step.complete_task(row, submit, actor, dict(item.data))
        _raise_failure(filed)
        if approved is None and campaign.list_approved:
            approved = campaign.title  # the list it was approved in
        if approved is not None and (review := _created(filed, REVIEW_TASK)) is not None:
            passed = {"decision": "approve", "comment": approved}
            _raise_failure(step.complete_task(row, review, actor, passed))
    refresh_row(s, row)
    return row.id


def _created(ctx: StepContext, element_id: str) -> HumanTask | None:
    """The task a step opened at ``element_id`` (the import walks a problem through its first steps)."""
    return next((t for t in ctx.created_tasks if t.element_id == element_id and t.status == "open"), None)


def _raise_failure(ctx: StepContext) -> None:
    """A diagram that fails while a list is imported or published stops the whole transaction."""
    if ctx.error is not None:
        raise (
            ctx.error
            if isinstance(ctx.error, ScriptError)
            else ScriptError(f"the diagram failed: {ctx.error}")
        )


# ---- publishing ---------------------------------------------------------------------------------
def publish(step: Step, campaign_id: int) -> PublishResult:
    """Approve for publication every problem of the campaign waiting in ``committee_approval``,
    with its listed points and deadline: the diagram's ``publish`` puts each on the board."""
    campaign = managed(step.session, step.actor or "", campaign_id)
    return publish_waiting(step, campaign, step.actor or "")


def publish_waiting(step: Step, campaign: Campaign, actor: str) -> PublishResult:
    """Publish every problem of ``campaign`` waiting in ``committee_approval``, approved by ``actor``
    (who may manage the campaign: ``publish`` checks it, the annual list checked it when it started)."""
    s = step.session
    waiting = s.execute(
        select(HumanTask, CampaignProblem.number)
        .join(CampaignProblem, CampaignProblem.instance_id == HumanTask.instance_id)
        .where(
            CampaignProblem.campaign_id == campaign.id,
            HumanTask.element_id == PUBLISH_TASK,
            HumanTask.status == "open",
        )
        .order_by(CampaignProblem.number)
    ).all()
    published = []
    for ht, number in waiting:
        row = step.lock_instance(ht.instance_id)
        if row.status != "running":
            continue
        data = row.data or {}
        approval = {
            "decision": "approve",
            "points": data.get("proposed_points"),
            "deadline": data.get("proposed_deadline"),
            "claim_window": campaign.claim_window,
            "report_interval": campaign.report_interval,
            "comment": campaign.title,  # published with the whole list
        }
        formlib.validate(step.runner.model_of(s, row).form_for(PUBLISH_TASK), approval)
        _raise_failure(step.complete_task(row, ht, actor, approval))
        step.record(
            Event.CAMPAIGN_PUBLISHED,
            actor=actor,
            instance_id=row.id,
            data={"campaign": campaign.id, "number": number},
        )
        published.append(row.id)
    return PublishResult(len(published), published)


# ---- the projection -----------------------------------------------------------------------------
def refresh(session: Session, ctx: StepContext) -> None:
    """After every step of a campaign's problem, copy what statistics group by into its link row."""
    if ctx.data_before and isinstance(ctx.data_after.get("campaign"), int):  # at its start it has no link yet
        refresh_row(session, ctx.row, ctx.data_after)


def refresh_row(s: Session, row: Instance, data: dict[str, Any] | None = None) -> None:
    link = s.get(CampaignProblem, row.id)
    if link is None:
        return  # the import adds the link once the instance exists
    data = row.data if data is None else data
    phase = data.get("phase")
    if isinstance(phase, str) and phase:
        link.status = phase
    else:
        link.status = "approved" if PUBLISH_TASK in (row.active_elements or []) else "filed"
    link.deadline = instant(data.get("deadline")) or instant(data.get("proposed_deadline"))
    claims = [c for c in data.get("claims") or [] if isinstance(c, dict)]
    claimant = data.get("claimant") if isinstance(data.get("claimant"), dict) else None
    people: list[str] = []
    for claim in [*claims, *([claimant] if claimant else [])]:
        for name in [
            claim.get("leader"),
            *[m.get("username") or guest_key(m) for m in claim.get("members") or [] if isinstance(m, dict)],
        ]:
            if isinstance(name, str) and name not in people:
                people.append(name)
    link.people = people
    filed = [t for t in (instant(c.get("filed_at")) for c in claims) if t is not None]
    link.claimed_at = (
        min(filed, default=None) or instant(data.get("claimed_at")) if (claims or claimant) else None
    )
    link.solved_at = instant(data.get("accepted_at")) if link.status == "accepted" else None
    year_end = data.get("year_end")
    if link.solved_at is None and isinstance(year_end, dict) and year_end.get("verdict") == "solved":
        link.solved_at = instant(year_end.get("assessed_at"))  # the 考评组 judged it solved (破题)


def instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None
