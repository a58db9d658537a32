"""The shipped collection process ``annual_list`` (年度问题清单征集): what the engine does for it.

The diagram (``bpmn/annual_list.bpmn``) collects a campaign's list: one submission per chosen
unit (a multi-instance subprocess; a reminder before the deadline; the deadline records the
units that did not submit), a panel's vote (会签), the organiser's merge into the final list,
publication and a discussion window. Its scripts are sandboxed and cannot start instances, so
the work that needs the engine is done here, as *reactions* to the diagram's steps
(``Steps.reactions``), in the transaction of the step that called for it:

- at the start: the starter must manage the campaign, the instance (its ``unit``, by default the
  starter's), the units and the panel must be the campaign's county's (nothing a caller sends is
  trusted);
- ``remind_unit`` (a unit's reminder timer fired): its open submission task is reminded (催办);
- the panel's and the organiser's forms choose among the submitted problems (a form view);
- ``create_list`` ran (right after the organiser completed ``merge_list``): the final list is
  checked (its problems were submitted and are listed once, its numbers are free, its units are
  the county's, each item fills the claim-and-evaluate form with the campaign's categories; a
  refusal is a 422 on the organiser's completion and nothing moves), then one claim-and-evaluate
  instance per item is started in the campaign with the import's own function
  (``service.start_problem``): numbered, business key = the campaign's prefix + number, filed and
  passed through the preliminary review (the panel selected it), so each waits for publication
  in ``committee_approval``;
- ``open_claims`` ran (the discussion timer fired): every item is published at once
  (``service.publish_waiting``), so the items' claim windows start after the discussion window.

A reaction rather than a service task: Spiff's service tasks call an operator inside the
sandboxed script engine, which has no session and no step; a reaction runs in the step itself,
so the list's instances and the publication commit with the diagram's own state or not at all.
The elements it reacts to are plain script tasks of the diagram (they set ``phase``), so the
diagram validates, runs and shows like any other; the key ``annual_list`` is what the engine
recognises, and its start is refused unless it names a campaign its starter runs.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..approval.common import require_users
from ..approval.notify import urge
from ..errors import FormInvalidError, InvalidInputError
from ..runtime.runner import StepContext
from ..runtime.step import Step, Steps
from ..tables import AuditEvent, HumanTask, Instance, Unit
from ..vocabulary import Event
from .problems import ListedProblem, UnitRef
from .service import SUBMIT_TASK as FILING_TASK
from .service import campaign_form, form_errors, managed, numbered, publish_waiting, start_problem
from .tables import Campaign, CampaignProblem

PROCESS = "annual_list"
SUBMIT_TASK = "submit_unit_problems"
REMIND_TASK = "remind_unit"
MERGE_TASK = "merge_list"
CREATE_TASK = "create_list"
OPEN_TASK = "open_claims"
REMINDER = "报送截止前提醒：请在截止时间前报送本单位的问题"
SELECTED_BY = "年度问题清单评审选定"  # the preliminary review's comment for a selected item
TEXT_FIELDS = ("title", "description", "goals", "proposed_deadline", "proposed_points")
PANEL_FORM = "panel_review.schema.json"
MERGE_FORM = "merge_list.schema.json"


def install(steps: Steps) -> None:
    steps.reactions.append(react)
    steps.form_views.append(form_view)


def form_view(session: Session, row: Instance, schema: dict[str, Any]) -> dict[str, Any]:
    """The panel's and the organiser's forms choose among the submitted problems (by their
    references, titled with the problems' titles) instead of typing references."""
    if row.process_key != PROCESS or schema.get("$id") not in (PANEL_FORM, MERGE_FORM):
        return schema
    candidates = [c for c in (row.data or {}).get("candidates") or [] if isinstance(c, dict) and c.get("ref")]
    if not candidates:
        return schema
    refs = [str(c["ref"]) for c in candidates]
    choice = {
        "enum": refs,
        "x-enumTitles": {str(c["ref"]): f"{c['ref']} {c.get('title') or ''}" for c in candidates},
    }

    def choose(field: dict[str, Any]) -> dict[str, Any]:
        return {**field, **choice}

    def within(parent: dict[str, Any], name: str, change: Any) -> dict[str, Any]:
        props = dict(parent.get("properties") or {})
        props[name] = change(props[name])
        return {**parent, "properties": props}

    def items(change: Any) -> Any:
        return lambda field: {**field, "items": change(field["items"])}

    if schema["$id"] == PANEL_FORM:
        schema = within(schema, "selected", items(choose))
        pair = items(lambda item: within(within(item, "ref", choose), "same_as", choose))
        return within(schema, "duplicates", pair)
    return within(schema, "final_list", items(lambda item: within(item, "refs", items(choose))))


def react(step: Step, ctx: StepContext) -> None:
    """The engine's part of an ``annual_list`` step (see the module's docstring)."""
    if ctx.row.process_key != PROCESS:
        return
    if not ctx.data_before:
        check_start(step, ctx.row)
    if REMIND_TASK in ctx.visited:
        remind(step, ctx)
    if CREATE_TASK in ctx.visited:
        create_list(step, ctx.row)
    if OPEN_TASK in ctx.visited:
        open_claims(step, ctx.row)


def _campaign(s: Session, row: Instance) -> Campaign:
    campaign = s.get(Campaign, (row.data or {}).get("campaign"))
    if campaign is None:
        raise InvalidInputError("no such campaign", {"campaign": ["no such campaign / 活动不存在"]})
    return campaign


def check_start(step: Step, row: Instance) -> None:
    """The starter runs the campaign; its units and panel are people and units of its county."""
    s, data = step.session, row.data or {}
    campaign = managed(s, step.actor or "", int(data.get("campaign") or 0))
    if row.tenant != campaign.tenant:  # its tasks and timers are the county's, like the campaign's problems
        raise InvalidInputError(
            "the collection runs in the campaign's county",
            {
                "unit": [
                    f"give the campaign's organiser unit '{campaign.organiser_unit}' / 请填写活动的牵头组织单位"
                ]
            },
        )
    units = [str(u) for u in data.get("units") or []]
    stmt = select(Unit.code).where(Unit.code.in_(units))
    if campaign.tenant is not None:
        stmt = stmt.where(Unit.tenant == campaign.tenant)
    unknown = sorted(set(units) - set(s.scalars(stmt)))
    if unknown:
        raise InvalidInputError(
            f"unknown units: {', '.join(unknown)}",
            {"units": [f"unknown unit(s) {', '.join(unknown)} / 单位不存在"]},
        )
    require_users(s, [str(p) for p in data.get("panel") or []], "panel", tenant=campaign.tenant)


def remind(step: Step, ctx: StepContext) -> None:
    """Remind each open submission whose reminder timer has fired, once."""
    s = step.session
    for task in ctx.workflow.get_tasks(state=TaskState.READY, manual=True):
        if task.task_spec.bpmn_id != SUBMIT_TASK:
            continue
        fired = task.workflow.get_tasks(state=TaskState.COMPLETED, spec_name=REMIND_TASK)
        ht = s.get(HumanTask, str(task.id))
        if not fired or ht is None or ht.status != "open":
            continue
        reminded = s.scalar(
            select(AuditEvent.id)
            .where(AuditEvent.task_id == ht.id, AuditEvent.event == "task.urge", AuditEvent.actor == "system")
            .limit(1)
        )
        if reminded is None:
            urge(step, ht.id, "system", REMINDER, system=True)


def _candidates(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        str(c.get("ref")): c for c in data.get("candidates") or [] if isinstance(c, dict) and c.get("ref")
    }


def _unit(s: Session, campaign: Campaign, code: str) -> Unit | None:
    stmt = select(Unit).where(Unit.code == code)
    if campaign.tenant is not None:
        stmt = stmt.where(Unit.tenant == campaign.tenant)
    return s.scalar(stmt)


def _items(
    s: Session, campaign: Campaign, schema: dict[str, Any] | None, data: dict[str, Any], taken: set[int]
) -> list[ListedProblem]:
    """The final list as the import's problems (texts from the first problem an item keeps unless
    the organiser rewrote them); every refusal by item and field, or none. ``taken``: the numbers
    the campaign's problems have already."""
    known = {
        str(c.get("ref")): c for c in data.get("candidates") or [] if isinstance(c, dict) and c.get("ref")
    }
    items: list[ListedProblem] = []
    errors: dict[str, list[str]] = {}
    used: set[str] = set()
    numbers = set(taken)
    for i, entry in enumerate(data.get("final_list") or []):
        where = f"final_list.{i}"
        bad = errors.setdefault
        refs = [str(r) for r in entry.get("refs") or []]
        for ref in refs:
            if ref not in known:
                bad(f"{where}.refs", []).append(f"'{ref}' was not submitted / 没有这条报送问题")
            elif ref in used:
                bad(f"{where}.refs", []).append(f"'{ref}' is listed twice / 同一问题只能列入一条")
            used.add(ref)
        number = entry.get("number")
        if number is not None:
            if number in numbers:
                bad(f"{where}.number", []).append(f"number {number} is taken / 编号重复")
            numbers.add(number)
        base = known.get(refs[0], {}) if refs else {}
        code = str(entry.get("lead_unit") or base.get("unit") or "")
        unit = _unit(s, campaign, code)
        if unit is None:
            bad(f"{where}.lead_unit", []).append(f"no unit '{code}' / 单位不存在")
            continue
        fields = {k: entry[k] if entry.get(k) is not None else base.get(k) for k in TEXT_FIELDS}
        item = ListedProblem(
            i + 1,
            number,
            str(entry.get("category")),
            UnitRef(unit.code, unit.name),
            {**fields, "category": entry.get("category")},
        )
        for error in form_errors(schema, item):
            bad(where, []).append(f"{error.column}: {error.message}")
        items.append(item)
    if errors:
        raise FormInvalidError("the final list is invalid / 最终清单有误", errors)
    return items


def create_list(step: Step, row: Instance) -> None:
    """Start one claim-and-evaluate instance per item of the final list, numbered in the campaign."""
    s = step.session
    campaign = _campaign(s, row)
    definition = step.runner.catalog.get_row(s, campaign.process_key)
    model = step.runner.catalog.model(definition)
    taken = set(s.scalars(select(CampaignProblem.number).where(CampaignProblem.campaign_id == campaign.id)))
    schema = campaign_form(model.form_for(FILING_TASK), campaign)
    items = _items(s, campaign, schema, row.data or {}, taken)
    organiser = row.started_by or step.actor or ""
    acting = step.actor
    step.actor = organiser  # the items are the organiser's, as an imported list's are the importer's
    try:
        for item, number in zip(items, numbered(items, taken), strict=True):
            start_problem(step, campaign, definition, model, item, number, approved=SELECTED_BY)
    finally:
        step.actor = acting
    step.record(
        Event.CAMPAIGN_LISTED,
        actor=organiser,
        instance_id=row.id,
        data={"campaign": campaign.id, "items": len(items)},
    )


def open_claims(step: Step, row: Instance) -> None:
    """The discussion window is over: publish the campaign's whole list at once, as its organiser
    (who was checked to run the campaign when the list started)."""
    publish_waiting(step, _campaign(step.session, row), row.started_by or "")
