"""The inbox (待办): my tasks and my groups' tasks as tabs with counts, completed (已办) and CC (抄送)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template, request

from engine import EngineError, Page

from .common import current_user, get_engine, login_required

bp = Blueprint("inbox", __name__)

TABS = ("mine", "candidate", "done", "cc")
PAGE_SIZE = 50


def _query(tab: str, username: str, process_key: str | None, limit: int) -> Page:
    engine = get_engine()
    try:
        if tab == "cc":
            lister = getattr(engine, "list_cc", None)
            return lister(username, limit=limit) if lister else Page([], 0)
        if tab == "done":
            return engine.list_tasks(username, scope="mine", status="completed", process_key=process_key, limit=limit)
        return engine.list_tasks(username, scope=tab, process_key=process_key, limit=limit)
    except EngineError:  # a scope this engine does not offer yet (cc) shows as empty
        return Page([], 0)


@bp.get("/inbox")
@login_required
def index():
    """List the tasks of one tab, with the count of every tab, filtered by process and title."""
    me = current_user()
    tab = request.args.get("tab", "mine")
    tab = tab if tab in TABS else "mine"
    process_key = request.args.get("process") or None
    q = (request.args.get("q") or "").strip()
    engine = get_engine()
    counts = {t: _query(t, me.username, process_key, 0 if t != tab else PAGE_SIZE * 4) for t in TABS}
    page = counts[tab]
    titles: dict[str, str] = {}
    for task in page.items:
        if tab == "cc":
            titles[task.instance_id] = task.title or ""
        elif task.instance_id not in titles:
            try:
                titles[task.instance_id] = engine.get_instance(task.instance_id).data.get("title") or ""
            except EngineError:
                titles[task.instance_id] = ""
    items = page.items
    if q:
        needle = q.lower()
        items = [t for t in items if needle in f"{titles.get(t.instance_id, '')} {getattr(t, 'name', '')} {t.business_key or ''}".lower()]
    now = datetime.now(UTC)
    return render_template(
        "pages/inbox/index.html",
        tab=tab,
        tabs=TABS,
        counts={t: p.total for t, p in counts.items()},
        items=items[:PAGE_SIZE],
        titles=titles,
        q=q,
        process_key=process_key,
        definitions=engine.list_definitions(),
        now=now,
    )
