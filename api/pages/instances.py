"""One process instance: the diagram with the path taken and the current step marked, the history
told as who did what and when, a readable summary of its data (the raw JSON as a download for admins), and (for
admins) its waiting timers with a confirmed "run now" button. Also the list of instances a person
may open, and starting, withdrawing, discarding and cancelling an instance."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import EngineError, Event, NotAllowedError, NotFoundError

from . import attachments, incidents, story, words
from .common import (
    act,
    current_user,
    get_engine,
    know_people,
    login_required,
    may,
    named,
    one_language,
    person,
    pretty_json,
)

bp = Blueprint("instances", __name__, url_prefix="/instances")

# Audit events that mean "the flow passed this element".
DONE_EVENTS = (Event.TASK_COMPLETE, Event.TIMER_FIRED, Event.MESSAGE_RECEIVED)
REASON_MAX = 500


@bp.get("")
@login_required
def index():
    """Recent instances I may open (the rulebook's visibility), newest first."""
    engine = get_engine()
    page = engine.list_instances(limit=100, viewer=current_user().username)
    know_people(i.started_by for i in page.items)
    unresolved = engine.unresolved_tasks() if may("view_incidents") else []  # 无人担任: for admins to fix
    stopped = engine.count_incidents(current_user().username) if may("view_incidents") else 0
    return render_template(
        "pages/instances/index.html",
        items=page.items,
        total=page.total,
        statuses=words.instance_statuses(),
        phases=words.phases(),
        unresolved=unresolved,
        stopped=stopped,
    )


@bp.post("")
@login_required
def start():
    """Start a process (发起) and go straight to its first task when that task is mine."""
    me = current_user()
    try:
        instance = get_engine().start(
            request.form.get("process_key", ""),
            actor=me.username,
            business_key=(request.form.get("business_key") or "").strip() or None,
        )
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
        return redirect(url_for("inbox.index"))
    mine = [t for t in instance.open_tasks if t.assignee == me.username]
    if mine:
        return redirect(url_for("tasks.show", task_id=mine[0].id))
    flash(_("流程已发起"))
    return redirect(url_for("instances.show", instance_id=instance.id))


def _origin_viewable(origin: object) -> bool:
    """Whether the viewer may open the item a carried-over item came from (its history)."""
    if not isinstance(origin, dict) or not isinstance(origin.get("instance_id"), str):
        return False
    try:
        get_engine().get_instance(origin["instance_id"], viewer=current_user().username)
    except (NotFoundError, NotAllowedError):
        return False
    return True


@bp.get("/<instance_id>")
@login_required
def show(instance_id: str):
    """The instance page: diagram, current steps with due dates, history and data in one response."""
    engine = get_engine()
    try:
        instance = engine.get_instance(instance_id, viewer=current_user().username)
    except NotFoundError:
        abort(404)
    except NotAllowedError:
        abort(403)
    history = engine.history(instance_id)
    _mark_cc_read(instance_id)
    files = engine.definition_files(instance.process_key, instance.version)
    bpmn_xml = next((xml for name, xml in sorted(files.items()) if name.endswith(".bpmn")), "")
    current = sorted({t.element_id for t in instance.open_tasks} | set(instance.active_elements))
    done = sorted(
        (
            {h.element_id for h in history if h.element_id and h.event in DONE_EVENTS}
            | set(instance.visited_elements)
        )
        - set(current)
    )
    know_people(
        [instance.started_by, *(h.actor for h in history), *(t.assignee for t in instance.open_tasks)]
    )
    step_label = functools.partial(named, instance)
    jobs = engine.list_jobs(instance_id=instance_id).items if "execute_job" in instance.actions else []
    return render_template(
        "pages/instances/show.html",
        instance=instance,
        entries=story.tell(history, step_label=step_label, person=person),
        summary=story.summary(instance.data, person),
        raw_data=may("view_raw_data"),
        step_label=step_label,
        groups=words.groups(),
        status_word=words.instance_statuses().get(instance.status, instance.status),
        phase_word=words.phases().get(instance.data.get("phase"), instance.data.get("phase")),
        process_name=named(instance),
        bpmn_xml=bpmn_xml,
        marks={"done": done, "current": current},
        lanes=words.lanes(),
        job_kinds=words.job_kinds(),
        jobs=jobs,
        actions=instance.actions,
        on_board=_on_board(instance_id),
        attachments=attachments.visible(instance_id),
        origin_viewable=_origin_viewable(instance.data.get("carried_from")),
        incidents=incidents.of_instance(instance_id) if instance.status == "error" else [],
        users=engine.list_users(limit=1000, viewer=current_user().username)
        if "cc" in instance.actions
        else [],
    )


def _on_board(instance_id: str) -> bool:
    """Whether the instance is a challenge with a public page (the rulebook's ``read_challenge``)."""
    try:
        get_engine().challenge(instance_id, viewer=current_user().username)
    except NotFoundError:
        return False
    return True


def _mark_cc_read(instance_id: str) -> None:
    """Opening a copied instance (抄送) marks the copy read; nothing happens when it was not copied."""
    try:
        get_engine().mark_cc_read(instance_id, current_user().username)
    except NotFoundError:
        pass


@bp.get("/<instance_id>/export.json")
@login_required
def raw_data(instance_id: str) -> Response:
    """An instance's data exactly as the engine holds it, as a file, for an administrator tracing a
    fault (the page itself shows people the readable summary, never JSON)."""
    if not may("view_raw_data"):
        abort(403)
    try:
        instance = get_engine().get_instance(instance_id, viewer=current_user().username)
    except NotFoundError:
        abort(404)
    return Response(
        pretty_json(instance.data),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=instance-{instance.id}.json"},
    )


@bp.post("/<instance_id>/withdraw")
@login_required
def withdraw(instance_id: str):
    """撤回: whoever completed the last step takes it back while the next task is untouched."""
    act(lambda: get_engine().withdraw(instance_id, current_user().username), _("已撤回"))
    return redirect(url_for("instances.show", instance_id=instance_id))


@bp.post("/<instance_id>/discard")
@login_required
def discard(instance_id: str):
    """撤销草稿: the starter drops an application nobody has worked on (an accidental 发起申报)."""
    try:
        get_engine().discard(instance_id, actor=current_user().username)
    except EngineError as exc:
        flash(one_language(exc.detail), "error")
        return redirect(url_for("instances.show", instance_id=instance_id))
    flash(_("草稿已撤销"))
    return redirect(url_for("inbox.index"))


@bp.post("/<instance_id>/cancel")
@login_required
def cancel(instance_id: str):
    """撤销流程: the starter or an admin stops an instance for good, saying why."""
    reason = (request.form.get("reason") or "").strip()[:REASON_MAX]
    if not reason:
        flash(_("请填写撤销原因"), "error")
        return redirect(url_for("instances.show", instance_id=instance_id))
    act(
        lambda: get_engine().cancel(instance_id, actor=current_user().username, reason=reason),
        _("流程已撤销"),
    )
    return redirect(url_for("instances.show", instance_id=instance_id))


@bp.post("/<instance_id>/cc")
@login_required
def copy_to(instance_id: str):
    """抄送: copy the instance to people (the starter or anyone who worked it)."""
    raw = (request.form.get("usernames") or "").replace("，", ",").replace(" ", ",")
    usernames = [u.strip() for u in raw.split(",") if u.strip()]
    act(lambda: get_engine().copy_to(instance_id, current_user().username, usernames), _("已抄送"))
    return redirect(url_for("instances.show", instance_id=instance_id))


@bp.post("/<instance_id>/jobs/<job_id>/execute")
@login_required
def execute_job(instance_id: str, job_id: str):
    """Run a waiting timer now (admins), e.g. close a claim window early; the page asks first."""
    if not may("execute_job"):
        abort(403)
    act(lambda: get_engine().execute_job(job_id, actor=current_user().username), _("已执行"))
    return redirect(url_for("instances.show", instance_id=instance_id))
