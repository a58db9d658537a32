"""The shipped process ``frontline`` (五个一线): what the engine does for it.

The diagram (``bpmn/frontline.bpmn``) runs one cadre from nomination to the end of their stint.
Its scripts are sandboxed, so the work that needs the organisation and the post catalogue is
done here, in the transaction of the step that called for it:

- at the start, who may nominate by which path: the cadre themself (个人自荐), a leader of a unit
  they hold a post in (单位推荐, ``rules.leads_person``) or the organisation department (组织选派,
  ``manage_frontline``); a cadre is in the pool once at a time;
- completing ``dispatch`` or ``rotate`` (a completion check): the chosen post must be active, of
  the county, have a free place, take the cadre's rank and field, and the cadre must hold no
  other post; the post's facts the diagram needs (its supervisor, who works the receiving unit's
  tasks, and its rotation) are written into the completion;
- after the step (a reaction): the stint row is written with the post locked, so two dispatches
  racing for the last place cannot both win (and a unique index keeps one open stint per cadre);
- each completed task, the assessment's tally, the end of the stint and a list entry leave an
  entry in the cadre's record (``frontline_entry``), which the growth archive reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import rules
from ..approval.notify import add_copies
from ..errors import ConflictError, FormInvalidError, InvalidInputError
from ..runtime.runner import StepContext
from ..runtime.step import Step, Steps
from ..tables import AuditEvent, HumanTask, Instance, Unit, User, UserPost
from ..vocabulary import Event
from .service import FRONT_LINES, records
from .tables import FrontlineEntry, FrontlinePost, FrontlineStint

PROCESS = "frontline"
LIST_MESSAGE = "frontline_list_entry"
INTAKES = {"self": "个人自荐", "unit": "单位推荐", "organisation": "组织选派"}
RATINGS = {"good": "好", "fair": "一般", "poor": "差"}
GRADES = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}
RESULT_USES = {
    "use": "选任使用",
    "award": "评优评先",
    "promote": "职级晋升",
    "admonish": "诫勉谈话",
    "withdraw": "清退",
}
LIST_KINDS = {"positive": "正面清单", "negative": "负面清单"}
POST_TASKS = ("dispatch", "rotate")
#: What an archive line may be about (``frontline_entry.kind``), in words.
ENTRY_WORDS = {
    "nomination": "提名",
    "screening": "资格审查",
    "assessment": "研判",
    "not_selected": "未选派",
    "dispatch": "选派",
    "onboarding": "报到",
    "report": "周报告",
    "bulletin": "月通报",
    "review": "季度点评",
    "rotation": "轮岗",
    "list_positive": "正面清单",
    "list_negative": "负面清单",
    "stint_end": "离岗",
    "appraisal": "鉴定",
}


def install(steps: Steps) -> None:
    steps.reactions.append(react)
    steps.completion_checks.append(check_completion)
    steps.engine_messages.add(LIST_MESSAGE)  # a list entry reaches an instance only through add_list_entry
    steps.form_views.append(form_view)
    steps.listeners.append(on_event)


# ---- who, and what for the diagram ---------------------------------------------------------------
def _cadre(row: Instance) -> str:
    return str((row.data or {}).get("cadre") or "")


def _rank(s: Session, username: str) -> str | None:
    return s.scalar(
        select(UserPost.rank)
        .where(UserPost.username == username, UserPost.rank.is_not(None))
        .order_by(UserPost.id)
    )


def _home_unit(s: Session, username: str) -> str | None:
    return s.scalar(
        select(Unit.code)
        .join(UserPost, UserPost.unit_id == Unit.id)
        .where(UserPost.username == username)
        .order_by(UserPost.id)
    )


def _open_stint(s: Session, username: str) -> FrontlineStint | None:
    return s.scalar(
        select(FrontlineStint).where(FrontlineStint.username == username, FrontlineStint.ended_at.is_(None))
    )


def check_start(step: Step, row: Instance) -> None:
    """The nomination's path matches who files it; the cadre is a person of the county, in the pool once."""
    s, data = step.session, row.data or {}
    cadre, intake = _cadre(row), str(data.get("intake") or "")
    same = User.tenant.is_(None) if row.tenant is None else User.tenant == row.tenant
    if s.scalar(select(User.username).where(User.username == cadre, same)) is None:
        raise InvalidInputError(f"no person {cadre}", {"cadre": ["no such person / 用户不存在"]})
    actor = rules.actor_of(s, step.actor or "")
    allowed = {
        "self": step.actor == cadre,
        "unit": rules.leads_person(s, actor, cadre),
        "organisation": rules.allowed("manage_frontline", actor),
    }.get(intake, False)
    if not allowed:
        why = {
            "self": "a self-nomination is filed by the cadre / 个人自荐须由本人提出",
            "unit": "a unit recommends its own cadres, by its leader / 单位推荐须由干部所在单位的领导提出",
            "organisation": "only the organisation department selects / 组织选派须由组织部门提出",
        }.get(intake, "unknown intake / 提名方式有误")
        raise InvalidInputError(why, {"intake": [why]})
    pooled = s.scalar(
        select(FrontlineEntry.instance_id)
        .join(Instance, Instance.id == FrontlineEntry.instance_id)
        .where(
            FrontlineEntry.username == cadre,
            FrontlineEntry.kind == "nomination",
            Instance.status == "running",
            Instance.id != row.id,
        )
        .limit(1)
    )
    if pooled is not None:
        raise ConflictError(f"{cadre} is in the front-line pool already / 该干部已在人选库中")
    if cadre != step.actor:  # the cadre follows their own nomination (抄送), whoever filed it
        copied = add_copies(s, row, [cadre], step.actor, None, step.now)
        step.record("instance.cc", actor=step.actor, instance_id=row.id, data={"usernames": copied})
    front = FRONT_LINES.get(str(data.get("front_line")), "")
    record_entry(
        step,
        row,
        "nomination",
        f"{INTAKES[intake]}：意向{front}",
        data={"intake": intake, "front_line": data.get("front_line")},
    )


def _post_for(s: Session, row: Instance, post_id: Any, *, leaving: FrontlineStint | None) -> FrontlinePost:
    """The post a dispatch or rotation chose, checked against the catalogue and the cadre; every refusal names ``post``."""

    def refuse(message: str) -> FormInvalidError:
        return FormInvalidError(message, {"post": [message]})

    post = s.get(FrontlinePost, post_id) if isinstance(post_id, int) else None
    if post is None or post.tenant != row.tenant or not post.active:
        raise refuse("no such post open / 岗位不存在或已停用")
    cadre = _cadre(row)
    held = _open_stint(s, cadre)
    if held is not None and (leaving is None or held.id != leaving.id):
        raise refuse(
            "the cadre holds a post already: one post at a time / 该干部已在其他岗位锻炼，同一时间只能在一个岗位"
        )
    if leaving is not None and leaving.post_id == post.id:
        raise refuse("a rotation moves to another post / 轮岗须选择其他岗位")
    taken = s.scalar(
        select(func.count())
        .select_from(FrontlineStint)
        .where(FrontlineStint.post_id == post.id, FrontlineStint.ended_at.is_(None))
    )
    if (taken or 0) >= post.capacity:
        raise refuse(f"the post is full ({post.capacity} places) / 岗位已满（容量 {post.capacity} 人）")
    rank = _rank(s, cadre)
    if post.ranks and rank not in post.ranks:
        raise refuse(f"the post takes {'、'.join(post.ranks)} / 该岗位要求职级：{'、'.join(post.ranks)}")
    fields = [str(f) for f in (row.data or {}).get("fields") or []]
    if post.field and post.field not in fields:
        raise refuse(f"the post asks for {post.field} / 该岗位要求专业特长：{post.field}")
    return post


def check_completion(s: Session, row: Instance, ht: HumanTask, data: dict[str, Any]) -> None:
    """Checks a form cannot make, before anything moves; a dispatch or rotation carries its post's facts on."""
    if row.process_key != PROCESS:
        return
    if ht.element_id == "screen_nominee" and data.get("decision") == "approve":
        panel = [str(p) for p in data.get("panel") or []]
        if not panel:
            raise FormInvalidError("name the panel / 请指定研判组成员", {"panel": ["required / 必填项"]})
        _people(s, row, panel, "panel")
    if ht.element_id == "onboard":
        _people(s, row, [str(data.get("mentor") or "")], "mentor")
    if ht.element_id in POST_TASKS:
        leaving = _open_stint(s, _cadre(row)) if ht.element_id == "rotate" else None
        post = _post_for(s, row, data.get("post"), leaving=leaving)
        data.update(  # what the diagram's receiving-unit lane and rotation read
            supervisor=post.supervisor,
            post_title=post.title,
            post_unit=post.unit,
            rotation_months=post.rotation_months or 0,
        )


def _people(s: Session, row: Instance, usernames: list[str], field: str) -> None:
    same = User.tenant.is_(None) if row.tenant is None else User.tenant == row.tenant
    known = set(s.scalars(select(User.username).where(User.username.in_(usernames), same)))
    unknown = [u for u in usernames if u not in known]
    if unknown:
        raise FormInvalidError(
            f"unknown people: {', '.join(unknown)}",
            {field: [f"no such person {', '.join(unknown)} / 用户不存在"]},
        )


def form_view(session: Session, row: Instance, schema: dict[str, Any]) -> dict[str, Any]:
    """The dispatch and rotation forms choose among the county's active posts, titled with their
    front line, unit and free places (a full post is still listed: choosing it is refused by name)."""
    if row.process_key != PROCESS or schema.get("$id") not in {
        f"frontline_{t}.schema.json" for t in POST_TASKS
    }:
        return schema
    stmt = (
        select(FrontlinePost)
        .where(FrontlinePost.active.is_(True))
        .order_by(FrontlinePost.front_line, FrontlinePost.id)
    )
    stmt = stmt.where(
        FrontlinePost.tenant.is_(None) if row.tenant is None else FrontlinePost.tenant == row.tenant
    )
    posts = list(session.scalars(stmt))
    if not posts:
        return schema
    titles = {
        str(
            p.id
        ): f"{FRONT_LINES.get(p.front_line, p.front_line)} · {p.unit_name} · {p.title}（空缺 {p.vacant}/{p.capacity}）"
        for p in records(session, posts)
    }
    props = dict(schema.get("properties") or {})
    props["post"] = {**props["post"], "enum": [p.id for p in posts], "x-enumTitles": titles}
    return {**schema, "properties": props}


# ---- after the step -------------------------------------------------------------------------------
def react(step: Step, ctx: StepContext) -> None:
    """The engine's part of a ``frontline`` step (see the module's docstring)."""
    row = ctx.row
    if row.process_key != PROCESS:
        return
    if not ctx.data_before:
        check_start(step, row)
    for task_id, status in ctx.closed_tasks:
        if status == "completed":
            _completed(step, row, task_id)
    data = ctx.data_after or row.data or {}
    if "tally_scores" in ctx.visited:
        result = data.get("assessment_result") or {}
        detail = (
            f"研判：政治表现 {result.get('political')}，综合素质 {result.get('competence')}，"
            f"短板弱项 {result.get('weaknesses')}，一贯表现 {result.get('consistency')}；"
            f"{result.get('votes_for')}/{result.get('members')} 人建议选派"
        )
        record_entry(step, row, "assessment", detail, by=None, data=dict(result))
    if "mark_not_selected" in ctx.visited:
        record_entry(step, row, "not_selected", "未予选派", by=None)
    if "stint_over" in ctx.visited:
        _end_stint(step, row, "finished")


def _completed(step: Step, row: Instance, task_id: str) -> None:
    s = step.session
    ht = s.get(HumanTask, task_id)
    if ht is None:
        return
    event = s.scalar(
        select(AuditEvent)
        .where(AuditEvent.task_id == task_id, AuditEvent.event == Event.TASK_COMPLETE)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    form: dict[str, Any] = dict(((event.data or {}).get("form") or {}) if event is not None else {})
    by = ht.completed_by
    element = ht.element_id
    if element == "screen_nominee":
        passed = form.get("decision") == "approve"
        record_entry(step, row, "screening", "资格审查通过，进入研判" if passed else "资格审查未通过", by=by)
    elif element == "dispatch":
        _dispatch(step, row, form, by)
    elif element == "onboard":
        mentor = s.scalar(select(User.display_name).where(User.username == form.get("mentor"))) or form.get(
            "mentor"
        )
        record_entry(
            step,
            row,
            "onboarding",
            f"报到：导师 {mentor}，编入临时党小组 {form.get('party_group')}",
            by=by,
            data={"mentor": form.get("mentor"), "party_group": form.get("party_group")},
        )
    elif element == "weekly_report":
        record_entry(
            step,
            row,
            "report",
            f"周报告（到岗打卡 {form.get('checkin_days')} 天）：{form.get('summary')}",
            by=by,
        )
    elif element == "monthly_bulletin":
        record_entry(
            step,
            row,
            "bulletin",
            f"月通报：{RATINGS.get(str(form.get('rating')), '')}",
            by=by,
            data={"rating": form.get("rating")},
        )
    elif element == "quarterly_review":
        record_entry(
            step,
            row,
            "review",
            f"季度点评：{RATINGS.get(str(form.get('rating')), '')}",
            by=by,
            data={"rating": form.get("rating")},
        )
    elif element == "rotate":
        _end_stint(step, row, "rotated")
        _dispatch(step, row, form, by, kind="rotation")
    elif element == "appraisal":
        grade, use = GRADES.get(str(form.get("grade")), ""), RESULT_USES.get(str(form.get("result_use")), "")
        record_entry(
            step,
            row,
            "appraisal",
            f"鉴定：{grade}；结果运用：{use}",
            by=by,
            data={
                "grade": form.get("grade"),
                "result_use": form.get("result_use"),
                "report": form.get("report"),
            },
        )


def _dispatch(
    step: Step, row: Instance, form: dict[str, Any], by: str | None, *, kind: str = "dispatch"
) -> None:
    """The cadre takes the post: checked again with the post locked, then the stint row."""
    s = step.session
    post_id = form.get("post")
    if isinstance(post_id, int) and not step.steps.store.is_sqlite:
        s.get(FrontlinePost, post_id, with_for_update=True, populate_existing=True)
    post = _post_for(s, row, post_id, leaving=None)
    cadre = _cadre(row)
    s.add(
        FrontlineStint(
            tenant=row.tenant,
            instance_id=row.id,
            username=cadre,
            post_id=post.id,
            origin_unit=_home_unit(s, cadre),
            rank=_rank(s, cadre),
            started_at=step.now,
        )
    )
    unit = s.scalar(select(Unit.name).where(Unit.code == post.unit)) or post.unit
    word = "选派" if kind == "dispatch" else "轮岗"
    detail = f"{word}到{FRONT_LINES.get(post.front_line, '')}一线：{unit} {post.title}"
    if kind == "dispatch":
        detail += f"，锻炼 {form.get('months')} 个月"
    record_entry(step, row, kind, detail, by=by, data={"post": post.id, "front_line": post.front_line})
    s.flush()


def _end_stint(step: Step, row: Instance, reason: str) -> None:
    s = step.session
    for stint in s.scalars(
        select(FrontlineStint).where(FrontlineStint.instance_id == row.id, FrontlineStint.ended_at.is_(None))
    ):
        stint.ended_at, stint.end_reason = step.now, reason
        if reason != "rotated":
            words = {"finished": "锻炼期满离岗", "cancelled": "锻炼终止"}
            record_entry(step, row, "stint_end", words.get(reason, reason), by=None)
    s.flush()


def on_event(s: Session, event: str, row: Instance, data: dict[str, Any]) -> None:
    """A cancelled instance frees its cadre's post, and the cadre's record says why."""
    if event != "instance.cancelled" or row.process_key != PROCESS:
        return
    for stint in s.scalars(
        select(FrontlineStint).where(FrontlineStint.instance_id == row.id, FrontlineStint.ended_at.is_(None))
    ):
        stint.ended_at, stint.end_reason = row.ended_at or row.updated_at, "cancelled"
        s.add(
            FrontlineEntry(
                tenant=row.tenant,
                instance_id=row.id,
                username=stint.username,
                kind="stint_end",
                at=stint.ended_at,
                by=None,
                detail=f"锻炼终止：{data.get('reason') or ''}".rstrip("："),
                data={},
            )
        )


def record_entry(
    step: Step,
    row: Instance,
    kind: str,
    detail: str,
    *,
    by: str | None = "",
    data: dict[str, Any] | None = None,
) -> FrontlineEntry:
    """A line of the cadre's record at the step's ``now``, by the step's actor unless ``by`` says."""
    entry = FrontlineEntry(
        tenant=row.tenant,
        instance_id=row.id,
        username=_cadre(row),
        kind=kind,
        at=step.now,
        by=step.actor if by == "" else by,
        detail=detail,
        data=data or {},
    )
    step.session.add(entry)
    return entry
