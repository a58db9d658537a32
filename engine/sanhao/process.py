"""The shipped 三好创争 process ``sanhao``: what the engine does for its diagram.

The diagram (``bpmn/sanhao.bpmn``) runs one town's year: plan, twelve months of supervision,
quarterly KPI checks, self-report, panel scoring, the organiser's decision within quotas, a
publicity window with objections, and the 躺平奖 side path. Its scripts are sandboxed, so what
needs the organisation or the other towns is done here, in the step that calls for it:

- at the start (a reaction): the starter manages the town, the town is a town with one 书记 and
  at least one 班副, it has no other instance that year, the panel are people of the county, and
  the quotas agree with the year's other towns;
- the plan's task opens with the town's subjects taken from its posts (``subject``), never from
  the caller: 班子 = the town, 班长 = its 书记, 班副 = the holders of ``DEPUTY_POSTS``;
- forms show the town's own people (interviewees, deputies to score, awards, objections);
- a panel member's sheet scores every 班副 once; decided awards are the town's subjects and keep
  the year's quotas across every town (completion checks, 422 otherwise);
- ``close_scoring`` ran: once every running town of the year waits for its ranking, the ranking
  (``scoring``) is computed over all of them and sent to each (message ``sanhao_ranked``);
- a 躺平奖 nomination's review starts from the town's data, and an approved one joins the town's
  ``negative_awards`` when the review closes (an event subprocess keeps its data to itself).

The messages are the engine's own (``Steps.engine_messages``): objections and nominations come
through ``file_objection`` and ``nominate`` (``service.py``), which check them first.
"""

from __future__ import annotations

import functools
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rules
from ..approval.common import require_users
from ..errors import ConflictError, FormInvalidError, InvalidInputError, NotAllowedError, ScriptError
from ..runtime.runner import StepContext, message_event
from ..runtime.step import Step, Steps
from ..tables import HumanTask, Instance, Unit, User, UserPost
from . import records, scoring

PROCESS = "sanhao"
LEADER_POST = "书记"
DEPUTY_POSTS = (
    "镇长",
    "主任",
    "副书记",
    "副镇长",
    "副主任",
    "人大主席",
    "纪委书记",
    "组织委员",
    "宣传委员",
    "统战委员",
    "政法委员",
    "武装部长",
    "党委委员",
)
TOWN_KINDS = ("town",)
RANKED_MESSAGE = "sanhao_ranked"
OBJECTION_MESSAGE = "sanhao_objection"
NOMINATION_MESSAGE = "sanhao_tangping"
PLAN_TASK = "file_plan"
CLOSE_SCORING = "close_scoring"
AWAIT_RANKING = "await_ranking"
OBJECTION_WAIT = "publicity_window"  # the event gateway where publicity waits for an objection or its end
REVIEW_TASK = "review_nomination"
NOMINATION_SUBPROCESS = "tangping"
DECIDED_PHASES = ("publicity", "awarded")  # a town whose awards are decided counts against the quotas


def install(steps: Steps) -> None:
    steps.engine_messages.update({RANKED_MESSAGE, OBJECTION_MESSAGE, NOMINATION_MESSAGE})
    steps.reactions.append(react)
    steps.form_views.append(form_view)
    steps.completion_checks.append(check_completion)
    steps.runner.task_hooks.append(seed)
    steps.runner.close_hooks.append(share_review)


# ---- the town's subjects ----------------------------------------------------------------------
def _holders(s: Session, unit: str, posts: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(username, display name, post) of the active holders of ``posts`` in ``unit``."""
    rows = s.execute(
        select(UserPost.username, User.display_name, UserPost.post)
        .join(Unit, Unit.id == UserPost.unit_id)
        .join(User, User.username == UserPost.username)
        .where(Unit.code == unit, UserPost.post.in_(posts), User.active.is_(True))
        .order_by(UserPost.id)
    )
    return [(u, d or u, p) for u, d, p in rows]


def subject_of(s: Session, unit: str) -> dict[str, Any]:
    """The town's subjects from its posts (see ``scoring`` for the shape)."""
    row = s.scalar(select(Unit).where(Unit.code == unit))
    leaders = _holders(s, unit, (LEADER_POST,))
    seen = {u for u, _, _ in leaders}
    deputies = []
    for username, name, post in _holders(s, unit, DEPUTY_POSTS):
        if username not in seen:
            seen.add(username)
            deputies.append({"username": username, "name": name, "post": post})
    return {
        "unit": unit,
        "unit_name": row.name if row is not None else unit,
        "leader": {"username": leaders[0][0], "name": leaders[0][1]} if len(leaders) == 1 else None,
        "deputies": deputies,
    }


# ---- reactions ------------------------------------------------------------------------------
def react(step: Step, ctx: StepContext) -> None:
    if ctx.row.process_key != PROCESS:
        return
    if not ctx.data_before:
        check_start(step, ctx.row)
    if CLOSE_SCORING in ctx.visited:
        rank_when_scored(step, ctx.row)
    if records.FINALISE in ctx.visited:
        records.record_year(step, ctx.row)


def _year_rows(s: Session, row: Instance, *, running: bool = True) -> list[Instance]:
    """The instances of the same year and county as ``row`` (``row`` included)."""
    stmt = select(Instance).where(Instance.process_key == PROCESS)
    stmt = stmt.where(Instance.tenant.is_(None) if row.tenant is None else Instance.tenant == row.tenant)
    if running:
        stmt = stmt.where(Instance.status == "running")
    year = (row.data or {}).get("year")
    return [r for r in s.scalars(stmt.order_by(Instance.created_at)) if (r.data or {}).get("year") == year]


def check_start(step: Step, row: Instance) -> None:
    """The organiser starts one instance per town and year (see the module docstring)."""
    s, data = step.session, row.data or {}
    unit = str(data.get("unit") or "")
    actor = rules.actor_of(s, step.actor or "")
    if not rules.manages_unit(s, actor, unit):
        raise NotAllowedError(
            "only the organisation department running the county starts 三好创争 / 仅组织部门可发起"
        )
    town = s.scalar(select(Unit).where(Unit.code == unit))
    if town is None or town.kind not in TOWN_KINDS:
        raise InvalidInputError("not a town", {"unit": ["三好创争 is run by towns / 须为镇街"]})
    subject = subject_of(s, unit)
    if subject["leader"] is None:
        raise InvalidInputError("the town needs one 书记", {"unit": ["该镇街须有且仅有一名书记（班长）"]})
    if not subject["deputies"]:
        raise InvalidInputError("the town has no 班副", {"unit": ["该镇街没有班子副职（班副）"]})
    others = [r for r in _year_rows(s, row) if r.id != row.id]
    if any((r.data or {}).get("unit") == unit for r in others):
        raise ConflictError(f"{unit} already runs 三好创争 in {data.get('year')} / 该镇街本年度已发起")
    if others and (others[0].data or {}).get("quotas") != data.get("quotas"):
        raise InvalidInputError(
            "the year's quotas differ",
            {"quotas": ["须与本年度其他镇街的名额一致 / must match the year's quotas"]},
        )
    require_users(s, [str(p) for p in data.get("panel") or []], "panel", tenant=row.tenant)


def rank_when_scored(step: Step, row: Instance) -> None:
    """When the last town of the year is scored, rank them all and send each its result."""
    s = step.session
    rows = _year_rows(s, row)
    if not all(AWAIT_RANKING in (r.active_elements or []) for r in rows):
        return
    year = int((row.data or {})["year"])
    results = {r.id: scoring.panel_result(r.data["subject"], r.data.get("score_sheets") or []) for r in rows}
    ranking = scoring.rank(e for entries in results.values() for e in entries)
    quotas = (row.data or {}).get("quotas") or {}
    proposed = scoring.propose(ranking, quotas, year)
    for other in rows:
        target = other if other.id == row.id else step.lock_instance(other.id)
        unit = (target.data or {}).get("unit")
        payload = {
            "result": [e for e in ranking if e["unit"] == unit],
            "ranking": ranking,
            "proposed": [a for a in proposed if a["unit"] == unit],
        }
        ctx = step.advance(target, functools.partial(_send, payload))
        if ctx.error is not None:
            raise ctx.error if isinstance(ctx.error, ScriptError) else ScriptError(str(ctx.error))


def _send(payload: dict[str, Any], wf: Any) -> None:
    wf.send_event(message_event(RANKED_MESSAGE, payload))


# ---- forms ----------------------------------------------------------------------------------
def _choices(people: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "enum": [p["username"] for p in people],
        "x-enumTitles": {p["username"]: p["name"] for p in people},
    }


def _with(schema: dict[str, Any], path: tuple[str, ...], change: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the field at ``path`` (property names; ``*`` = array items) updated."""
    if not path:
        return {**schema, **change}
    head, rest = path[0], path[1:]
    if head == "*":
        return {**schema, "items": _with(schema["items"], rest, change)}
    props = dict(schema.get("properties") or {})
    props[head] = _with(props[head], rest, change)
    return {**schema, "properties": props}


def form_view(session: Session, row: Instance, schema: dict[str, Any]) -> dict[str, Any]:
    """The town's forms offer the town's own people, and the KPI progress so far."""
    data = row.data or {}
    subject = data.get("subject")
    if row.process_key != PROCESS or not isinstance(subject, dict) or subject.get("leader") is None:
        return schema
    form = schema.get("$id")
    deputies = list(subject.get("deputies") or [])
    if form == "sanhao_interview.schema.json":
        return _with(schema, ("interviewee",), _choices(deputies))
    if form == "sanhao_scoring.schema.json":
        schema = _with(schema, ("banfu",), {"minItems": len(deputies), "maxItems": len(deputies)})
        return _with(schema, ("banfu", "*", "deputy"), _choices(deputies))
    everyone = [
        {"username": subject["unit"], "name": f"{subject.get('unit_name')}班子"},
        subject["leader"],
        *deputies,
    ]
    if form == "sanhao_awards.schema.json":
        return _with(schema, ("awards", "*", "subject"), _choices(everyone))
    if form == "sanhao_objection.schema.json":
        named = {a.get("subject") for a in data.get("awards") or [] if isinstance(a, dict)}
        return _with(schema, ("withdraw",), _choices([p for p in everyone if p["username"] in named]))
    if form == "sanhao_review.schema.json" and isinstance(data.get("kpi"), dict):
        return {**schema, "description": f"{schema.get('description', '')} {progress_line(data['kpi'])}"}
    return schema


KPI_TITLES = {
    "foreign_capital": "外资利用",
    "industrial_investment": "产业投资",
    "invoiced_sales": "开票销售",
}


def progress_line(kpi: dict[str, Any]) -> str:
    """本季点调 as one line: each KPI's actual against the annual plan, in per cent."""
    parts = []
    for key, title in KPI_TITLES.items():
        item = (kpi.get("items") or {}).get(key) or {}
        parts.append(f"{title}完成年度计划{item.get('progress')}%")
    return f"{kpi.get('quarter')}点调：" + "，".join(parts) + "。"


# ---- completion checks ------------------------------------------------------------------------
def check_completion(s: Session, row: Instance, ht: HumanTask, data: dict[str, Any]) -> None:
    if row.process_key != PROCESS:
        return
    if ht.element_id == "score_subjects":
        check_sheet(row, data)
    elif ht.element_id == "confirm_awards":
        check_awards(s, row, data)


def check_sheet(row: Instance, data: dict[str, Any]) -> None:
    """A sheet scores every 班副 of the town once, each score within the scale."""
    subject = (row.data or {}).get("subject") or {}
    expected = sorted(d["username"] for d in subject.get("deputies") or [])
    given = sorted(str(p.get("deputy")) for p in data.get("banfu") or [])
    errors: dict[str, list[str]] = {}
    if given != expected:
        errors["banfu"] = [f"score each 班副 once: {', '.join(expected)} / 每位班副各打一份"]
    for path in scoring.out_of_scale(data):
        errors[path] = ["0–10 / 每项0至10分"]
    if errors:
        raise FormInvalidError("the score sheet is incomplete / 评分不完整", errors)


def check_awards(s: Session, row: Instance, data: dict[str, Any]) -> None:
    """Awards go to the town's own subjects of the right kind, once, within the year's quotas."""
    own = row.data or {}
    subject = own.get("subject") or {}
    allowed = {
        "好班子": {subject.get("unit")},
        "好班长": {(subject.get("leader") or {}).get("username")},
        "好班副": {d["username"] for d in subject.get("deputies") or []},
    }
    errors: dict[str, list[str]] = {}
    seen = set()
    for i, award in enumerate(data.get("awards") or []):
        key = (award.get("kind"), award.get("subject"))
        if award.get("subject") not in allowed.get(str(award.get("kind")), set()):
            errors[f"awards.{i}.subject"] = ["not this town's subject of that kind / 不是本镇街该奖项的对象"]
        elif key in seen:
            errors[f"awards.{i}.subject"] = ["awarded twice / 重复"]
        seen.add(key)
    decided = [
        a
        for r in _year_rows(s, row, running=False)
        if r.id != row.id and (r.data or {}).get("phase") in DECIDED_PHASES and r.status != "cancelled"
        for a in (r.data or {}).get("awards") or []
    ]
    over = scoring.quota_errors(decided + list(data.get("awards") or []), own.get("quotas") or {})
    for kind, count in over.items():
        errors.setdefault("awards", []).append(
            f"{kind}: {count} awards exceed the year's quota / 超出全区名额（{count}）"
        )
    if errors:
        raise FormInvalidError("the awards are invalid / 拟表彰对象有误", errors)


# ---- the 躺平奖 side path --------------------------------------------------------------------
def seed(session: Session, ctx: StepContext, ht: HumanTask, task: Any) -> None:
    """The plan's task opens with the town's subjects, taken from its posts."""
    if ctx.row.process_key == PROCESS and ht.element_id == PLAN_TASK and "subject" not in task.data:
        task.data["subject"] = subject_of(session, str(task.data.get("unit") or ""))


SIDE_PATH = frozenset(
    {NOMINATION_SUBPROCESS, "tangping_start", REVIEW_TASK, "record_nomination", "tangping_end"}
)


def refresh_reviews(ctx: StepContext) -> None:
    """An open review shows the town's data as it stands (plus its nomination). The instance's data
    is its newest open task's, and a review opened in spring would otherwise show spring's data
    all year: every step of the town brings it up to date."""
    live = [
        t
        for t in ctx.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
        if t.task_spec.bpmn_id not in SIDE_PATH
    ]
    reviews = [t for t in ctx.workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == REVIEW_TASK]
    if not live or not reviews:
        return
    base = dict(max(live, key=lambda t: t.last_state_change).data)
    for review in reviews:
        review.data = {**base, "nomination": review.data.get("nomination")}


def share_review(session: Session, ctx: StepContext, closed: list[tuple[Any, str]]) -> None:
    """A closed review joins the town's ``nominations``; an approved one its ``negative_awards``;
    open reviews are brought up to date (``refresh_reviews``)."""
    if ctx.row.process_key != PROCESS:
        return
    done = [t for t, status in closed if t.task_spec.bpmn_id == REVIEW_TASK and status == "completed"]
    if done:
        _share(ctx, done)
    refresh_reviews(ctx)


def _share(ctx: StepContext, done: list[Any]) -> None:
    before = ctx.data_before or {}
    reviews = list(before.get("nominations") or [])
    for t in done:
        nomination = t.data.get("nomination") or {}
        reviews.append({**nomination, "decision": t.data.get("decision"), "comment": t.data.get("comment")})
    year, unit = int(before.get("year") or 0), str(before.get("unit") or "")
    awards = [
        scoring.award(
            scoring.NEGATIVE_AWARD, "person", r["nominee"], r["nominee_name"], unit, year, r["reason"]
        )
        for r in reviews
        if r.get("decision") == "approve"
    ]
    live = ctx.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
    # a waiting task takes its parent's data when it runs, and the instance shows its last task's
    parents = [t.parent for t in live if t.parent is not None and t.parent.has_state(TaskState.COMPLETED)]
    for task in [*live, *parents, *([ctx.workflow.last_task] if ctx.workflow.last_task is not None else [])]:
        task.data["nominations"] = reviews
        task.data["negative_awards"] = awards


def town_people(s: Session, unit: str) -> dict[str, str]:
    """Everyone holding a post in ``unit``: username → display name (who a 躺平奖 may name)."""
    rows = s.execute(
        select(UserPost.username, User.display_name)
        .join(Unit, Unit.id == UserPost.unit_id)
        .join(User, User.username == UserPost.username)
        .where(Unit.code == unit)
    )
    return {u: d or u for u, d in rows}


def require_running(row: Instance) -> None:
    if row.process_key != PROCESS:
        raise InvalidInputError("not a 三好创争 instance", {"instance_id": ["不是三好创争 / not sanhao"]})
    if row.status != "running":
        raise ConflictError(f"instance {row.id} is {row.status} / 已结束")
