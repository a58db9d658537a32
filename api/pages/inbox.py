"""The inbox (待办): my tasks and my groups' tasks as tabs with counts, completed (已办) and CC (抄送).
An empty tab says where work waits instead (the group queue, the board)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template, request

from engine import Page

from . import words
from .campaigns import COLLECTION_PROCESS
from .common import current_user, get_engine, know_people, login_required

bp = Blueprint("inbox", __name__)

TABS = ("mine", "candidate", "done", "cc")
PAGE_SIZE = 50
Q_MAX = 200  # longest search text, as GET /tasks?q= takes


def _query(tab: str, username: str, process_key: str | None, q: str | None, limit: int) -> Page:
    engine = get_engine()
    if tab == "cc":
        return engine.list_cc(username, q=q, limit=limit)
    if tab == "done":
        return engine.list_tasks(
            username, scope="mine", status="completed", process_key=process_key, q=q, limit=limit
        )
    return engine.list_tasks(username, scope=tab, process_key=process_key, q=q, limit=limit)


@bp.get("/inbox")
@login_required
def index():
    """List the tasks of one tab, with the count of every tab, filtered by process and searched by title."""
    me = current_user()
    tab = request.args.get("tab", "mine")
    tab = tab if tab in TABS else "mine"
    process_key = request.args.get("process") or None
    q = (request.args.get("q") or "").strip()[:Q_MAX] or None
    counts = {t: _query(t, me.username, process_key, q, PAGE_SIZE if t == tab else 0) for t in TABS}
    items = counts[tab].items
    know_people(
        [
            *(getattr(i, "assignee", None) for i in items),
            *(getattr(i, "completed_by", None) for i in items),
            *(getattr(i, "by", None) for i in items),
        ]
    )
    return render_template(
        "pages/inbox/index.html",
        tab=tab,
        tabs=TABS,
        counts={t: p.total for t, p in counts.items()},
        items=items,
        groups=words.groups(),
        q=q or "",
        process_key=process_key,
        definitions=[  # the annual list starts from its campaign's page, with its units and panel
            d for d in get_engine().list_definitions(viewer=me.username) if d.key != COLLECTION_PROCESS
        ],
        now=datetime.now(UTC),
    )
