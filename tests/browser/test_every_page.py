"""Every page every person can reach, at a desk (1366×768) and on a phone (390×844).

A fixture first puts one claim-and-evaluate instance at each step of the process (through the REST
API, as the people who do the steps), so every kind of task page exists. Then, for each person,
the walk starts from the navigation and follows the links the pages offer, and each page must:

- answer (a link a page offers must not lead to 没有权限访问此页面 or a missing page);
- log no console error and throw no script error;
- not scroll sideways at 390 px (with its folded parts — details, the team claim — opened);
- keep the header with the person's display name visible;
- in Chinese (the default): show no English words (identifiers in ``<code>``, commands in ``<kbd>``
  and the lane names the designer's canvas draws excepted), and no form label that is ASCII only;
- in English (``?lang=en``, at 390 px, each kind of page once): show no Chinese outside what people
  typed in and the names drawn in the diagram.

Walking is kept short: the inbox's tabs count as pages, other query strings do not; a task page
counts once per task name; of the instance pages, one per step in INSTANCE_PAGES.
Problems are collected page by page and reported together, so one run lists all of them.
"""

from __future__ import annotations

import html
import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from .conftest import PASSWORD, PEOPLE
from .steps import (
    PROBLEM,
    accept,
    approve,
    claim_as_team,
    close_claim_window,
    report_completion,
    report_progress,
    review,
    select_first_claim,
    start,
    submit,
)

pytestmark = pytest.mark.browser

DESK = (1366, 768)
PHONE = (390, 844)

# The people of the process, one per role; the cadres are the two who claim together.
ROLES = {
    "submitter": "wang",
    "task force": "zhao",
    "committee": "sun",
    "evaluator": "qian",
    "cadre": "zhangjie",
    "team member": "li",
    "admin": "admin",
}

# The instances, one per step, titled so a reader of a failure knows which is which.
STEPS = {
    "draft": "待填报的难题",
    "review": "待初审的难题",
    "revise": "退回修改的难题",
    "committee": "待审定的难题",
    "published": "揭榜中的难题",
    "select": "待选定的难题",
    "assign": "无人揭榜的难题",
    "progress": "攻坚中的难题",
    "completion": "待交完成报告的难题",
    "acceptance": "待验收的难题",
    "done": "已验收的难题",
}

# Instance pages worth a visit by everyone: open for claims, under way, awaiting acceptance, done.
INSTANCE_PAGES = {"published", "progress", "acceptance", "done"}

# What people typed in (or chose from the process's own lists): allowed in any page language.
USER_TEXTS = sorted(
    {
        *STEPS.values(),
        *(name for _groups, name, _roles in PEOPLE.values()),
        *(v for v in PROBLEM.values() if isinstance(v, str)),
        "符合条件",
        "请补充征迁户数",
        "镇财政保障工作经费",
        "摸排",
        "谈判",
        "签约",
        "组建专班，逐户走访",
        "三个月签约",
        "方案扎实",
        "征迁协议全部签订",
        "37 户签约",
        "已完成 60%",
        "已完成 100%",
        "申报问题（新版）",  # the name test_designer gives a task in a new version (the comparison shows it)
        "调休申请",  # test_migration's process and its steps, on the designer's migration page
        "审核",
        "复核",
        "批准",
        "村类别",  # the org form's example attribute: a county's own data, typed in Chinese
        "深度贫困村",
    },
    key=len,
    reverse=True,
)
# The categories of the shipped application form: the process's own list, chosen like typed text.
FORMS = Path(__file__).resolve().parents[2] / "forms"
CATEGORIES = json.loads((FORMS / "submit_problem.schema.json").read_text(encoding="utf-8"))["properties"][
    "category"
]["enum"]
# The titles of every instance on the server (other tests file problems of their own there): filled
# in when a walk starts, see server_titles.
SERVER_TITLES: set[str] = set()
# The logins of the people other tests posted to units: an organisation page shows them beside names.
SERVER_LOGINS: set[str] = set()

# The names in the shipped diagrams (tasks, lanes, the process): the designer's content, shown as it
# was drawn. A Chinese page must not carry English in them; an English page may show them in Chinese.
DIAGRAMS = "".join(
    p.read_text(encoding="utf-8")
    for p in sorted((Path(__file__).resolve().parents[2] / "bpmn").glob("*.bpmn"))
)
DIAGRAM_NAMES = sorted(
    {html.unescape(n) for n in re.findall(r'\bname="([^"]+)"', DIAGRAMS)},
    key=len,
    reverse=True,
)
# Lane names are identifiers (the REST contract's ``lane`` of a task, the keys of ``lane:NAME`` rules):
# the designer draws them as named; pages for people (the instance viewer) show them in words.
LANE_KEYS = set(re.findall(r'<bpmn:lane id="[^"]+" name="([^"]+)"', DIAGRAMS))
# Pages already looked at in English, by key (see page_key): each once, by the first person to reach it.
ENGLISH_SEEN: set[str] = set()

# Words that are names in Chinese text too: file formats and systems the pages mention.
PROPER_NOUNS = {"BPMN", "DMN", "Excel", "OA", "XML", "ID", "PDF", "PNG", "JPEG"}
BUSINESS_KEY = re.compile(r"\bW-\d+-[A-Z]+\b")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Pages to follow (same-site page routes); downloads and the JSON API are not pages.
FOLLOW = re.compile(
    r"^/(inbox|board|instances|tasks|scores|org|designer|campaigns|appraisal|frontline|incidents|sanhao"
    r"|villages|notifications)(/|\?|$)"
)
SKIP = re.compile(r"/export|\.xlsx|/api/|/files/|[?&]lang=|/logout")

VISIBLE_TEXT = """() => {
  const shown = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const where = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 3; e = e.parentElement) {
      parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (e.classList.length ? '.' + [...e.classList].slice(0, 2).join('.') : ''));
    }
    return parts.join(' > ');
  };
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.replace(/\\s+/g, ' ').trim();
    if (!text || !el || el.closest('script, style, template, noscript, kbd, code, .lang')) continue;
    if (!shown(el)) continue;
    texts.push({text, where: where(el), drawn: !!el.closest('.djs-container')});
  }
  // what a reader sees that is not a text node: placeholders, button values, the options of a list
  for (const el of document.querySelectorAll('[placeholder], input[type=submit], input[type=button], select')) {
    if (!shown(el)) continue;
    if (el.tagName === 'SELECT') {
      for (const o of el.options) texts.push({text: o.label.trim(), where: where(el) + ' > option', label: true});
    } else {
      const text = (el.getAttribute('placeholder') || el.value || '').trim();
      // an example code in a code field (placeholder="pingli") is an id, not a label
      const example = el.hasAttribute('placeholder') && /^[a-z0-9][a-z0-9_.-]*$/.test(text);
      if (text && !example) texts.push({text, where: where(el), label: true});
    }
  }
  // labels of a form: what names a field or an action
  const labels = 'label, legend, th, summary, button, .je-header, .je-form-input-label, [data-schemapath] > h3, [data-schemapath] > h4';
  for (const el of document.querySelectorAll(labels)) {
    if (!shown(el) || el.closest('.lang')) continue;
    const text = el.innerText.replace(/\\s+/g, ' ').trim();
    if (text) texts.push({text, where: where(el), label: true});
  }
  return texts;
}"""

# Fold out what a page folds away, so the width and label checks see it: every <details>, and the
# board's team claim with one member row (the form that widened the page on phones).
UNFOLD = """() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  for (const radio of document.querySelectorAll('input[name=kind][value=team]')) radio.click();
  for (const add of document.querySelectorAll('.claim-form .add-member')) {
    if (add.closest('form').querySelectorAll('.member-rows .member-row').length === 0) add.click();
  }
}"""


@dataclass
class Walk:
    """What one person's walk found, page by page."""

    problems: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    visited: dict[str, str] = field(default_factory=dict)

    def note(self, where: str, lang: str, width: int, what: str) -> None:
        self.problems.setdefault((where, what), set()).add(f"{lang} {width}px")


def strip_user_texts(text: str, *, diagram: bool = False) -> str:
    """``text`` without what people typed in (and, with ``diagram``, the diagram's own names)."""
    typed = sorted({*USER_TEXTS, *CATEGORIES, *SERVER_TITLES}, key=len, reverse=True)
    for known in (*typed, *(DIAGRAM_NAMES if diagram else ())):
        text = text.replace(known, " ")
    for login in SERVER_LOGINS:  # whole logins only: `li` must not hide the English of "click"
        text = re.sub(rf"(?<![\w.-]){re.escape(login)}(?![\w.-])", " ", text)
    return BUSINESS_KEY.sub(" ", text)


def english_words(text: str) -> list[str]:
    return [w for w in ENGLISH_WORD.findall(strip_user_texts(text)) if w not in PROPER_NOUNS]


@pytest.fixture(scope="module")
def instances(browser, server) -> Iterator[dict[str, str]]:
    """One claim-and-evaluate instance at each step of the process, by step (see STEPS)."""
    contexts = []

    def person(username: str):
        ctx = browser.new_context(base_url=server.base_url, locale="zh-CN")
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url("**/inbox**")
        return page

    wang, zhao, sun, qian, zhangjie, admin = (
        person(u) for u in ("wang", "zhao", "sun", "qian", "zhangjie", "admin")
    )
    ids: dict[str, str] = {}
    order = list(STEPS)
    for number, step in enumerate(order):
        title = STEPS[step]
        ids[step] = start(wang, f"W-{number:02d}-WALK", title)
        if step == "draft":
            continue
        submit(wang, ids[step], title)
        if step == "review":
            continue
        if step == "revise":
            review(zhao, ids[step], "return", "请补充征迁户数")
            continue
        review(zhao, ids[step])
        if step == "committee":
            continue
        approve(sun, ids[step])
        if step == "assign":  # nobody claims, twice: the organisation assigns someone
            close_claim_window(admin, ids[step])
            close_claim_window(admin, ids[step])
            continue
        claim_as_team(zhangjie, ids[step], "li")
        if step == "published":
            continue
        close_claim_window(admin, ids[step])
        if step == "select":
            continue
        select_first_claim(sun, ids[step])
        if step == "progress":
            report_progress(zhangjie, ids[step], 60)
            continue
        report_progress(zhangjie, ids[step], 100, final=True)
        if step == "completion":
            continue
        report_completion(zhangjie, ids[step])
        if step == "acceptance":
            continue
        accept(qian, ids[step])
    yield ids
    for ctx in contexts:
        ctx.close()


INSPECT = (
    """async (phone) => {
  const settle = Date.now() + 8000;  // what a page's script builds (a form, a diagram) comes first
  while (document.querySelector("[data-ready='0']") && Date.now() < settle) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const me = document.querySelector('.me');
  const links = [...document.querySelectorAll('a[href]')].map((a) => ({
    href: a.getAttribute('href'), text: a.textContent.replace(/\\s+/g, ' ').trim()}));
  ("""
    + UNFOLD
    + """)();
  await new Promise((r) => requestAnimationFrame(() => r()));
  let sideways = 0, wide = [];
  if (phone) {
    sideways = document.documentElement.scrollWidth - window.innerWidth;
    if (sideways > 0) {
      const over = (e) => e.getBoundingClientRect().right > window.innerWidth + 0.5;
      wide = [...document.querySelectorAll('body *')]
        .filter((e) => over(e) && !(e.parentElement && over(e.parentElement)))
        .slice(0, 4)
        .map((e) => e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ')[0] : '')
          + ' (' + Math.round(e.getBoundingClientRect().right) + 'px)');
    }
  }
  return {
    lang: document.documentElement.lang,
    title: document.title,
    me: me ? {username: me.dataset.username, name: me.textContent.trim(), shown: me.checkVisibility() && me.getBoundingClientRect().width > 0} : null,
    links, sideways, wide, texts: ("""
    + VISIBLE_TEXT
    + """)(),
  };
}"""
)


def visit(page, url: str, walk: Walk, *, english: bool, width: int, username: str | None) -> list[dict]:
    """Open ``url``, record what is wrong with it, and return the links it offers ({href, text})."""
    errors: list[str] = []
    on_console = lambda msg: msg.type == "error" and errors.append(f"console: {msg.text}")  # noqa: E731
    on_error = lambda exc: errors.append(f"script error: {exc}")  # noqa: E731
    page.on("console", on_console)
    page.on("pageerror", on_error)
    lang = "en" if english else "zh"
    try:
        response = page.goto(url)
        if response is None or response.status >= 400:
            status = response.status if response else "nothing"
            walk.note(url, lang, width, f"answers {status}: a link leads to a dead end")
            return []
        seen = page.evaluate(INSPECT, width <= PHONE[0])
        where = f"{seen['title'].split(' · ')[0]} {url}"
        if seen["lang"] != ("en" if english else "zh-CN"):
            walk.note(where, lang, width, f"html lang is {seen['lang']!r}")
        if username:
            me = seen["me"]
            if not me or me["username"] != username or not me["shown"]:
                walk.note(where, lang, width, "the header does not show who is logged in")
            elif me["name"] != PEOPLE[username][1]:
                walk.note(where, lang, width, f"the header names {me['name']!r}, not the display name")
        if seen["sideways"] > 0:
            walk.note(
                where, lang, width, f"scrolls sideways by {seen['sideways']}px: {', '.join(seen['wide'])}"
            )
        for item in seen["texts"]:
            text, place = item["text"], item["where"]
            if english:
                if not item.get("drawn") and CHINESE.search(strip_user_texts(text, diagram=True)):
                    walk.note(where, lang, width, f"Chinese in an English page: {text[:70]!r} ({place})")
            elif item.get("label") and ENGLISH_WORD.search(text) and not CHINESE.search(text):
                walk.note(where, lang, width, f"untranslated label {text[:70]!r} ({place})")
            elif item.get("drawn") and urlsplit(url).path.startswith("/designer/") and text in LANE_KEYS:
                continue
            elif words := english_words(text):
                walk.note(
                    where, lang, width, f"English words {', '.join(words[:6])} in {text[:70]!r} ({place})"
                )
        page.wait_for_timeout(30)  # late console messages
        for error in errors:
            walk.note(where, lang, width, error[:300])
        return seen["links"]
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)


def page_key(path: str, text: str, source: str, instance_steps: dict[str, str]) -> str | None:
    """What makes two pages different for the walk (None: not one to visit).

    A query counts only as the inbox's tab; a task page counts once per task (by its name, and
    apart in the done tab); of the instance pages, those of the steps in INSTANCE_PAGES.
    """
    parts = urlsplit(path)
    if parts.path.startswith("/tasks/"):
        return f"task:{text}:{'done' if 'tab=done' in source else 'open'}"
    if parts.path.startswith("/instances/"):
        step = instance_steps.get(parts.path.rsplit("/", 1)[-1])
        return f"instance:{step}" if step in INSTANCE_PAGES else None
    tab = [q for q in parts.query.split("&") if q.startswith("tab=")]
    return parts.path + (f"?{tab[0]}" if tab else "")


def follow(links: list[dict], source: str, base: str, instance_steps: dict[str, str]) -> dict[str, str]:
    """The same-site page links among ``links`` to visit, by their key."""
    out: dict[str, str] = {}
    for link in links:
        parts = urlsplit(link["href"])
        if parts.netloc and parts.netloc != urlsplit(base).netloc:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if FOLLOW.match(path) and not SKIP.search(path):
            key = page_key(path, link["text"], source, instance_steps)
            if key:
                out.setdefault(key, path)
    return out


def walk_as(page, start_pages: list[str], walk: Walk, instance_steps, *, width: int, username: str) -> None:
    """Breadth-first from the navigation through the links the pages offer (two links deep)."""
    frontier = {p: p for p in start_pages}
    for _depth in range(3):
        found: dict[str, str] = {}
        for key, url in frontier.items():
            if key in walk.visited:
                continue
            walk.visited[key] = url
            links = visit(page, url, walk, english=False, width=width, username=username)
            for k, u in follow(links, url, page.url, instance_steps).items():
                found.setdefault(k, u)
        frontier = {k: u for k, u in found.items() if k not in walk.visited}


def report(walk: Walk) -> str:
    """The problems, each once, with the page languages and widths it was seen at."""
    lines = [f"{where}: {what} [{', '.join(sorted(seen))}]" for (where, what), seen in walk.problems.items()]
    return f"{len(lines)} problems:\n" + "\n".join(sorted(lines))


def server_titles(server) -> set[str]:
    """What people typed in on ``server``, read as its administrator: the titles, descriptions and
    goals of the instances, the campaigns' titles and categories, the appraisal schemes' titles,
    the awards' names, nominations and objections, the units' names and their members' names,
    posts and ranks (other tests make some); their logins go to SERVER_LOGINS."""
    titles: set[str] = set()
    for number in range(1, 100):
        page = _admin_get(server, f"/process-instances?per_page=200&page={number}")
        for item in page["items"]:
            titles |= set(_strings(item.get("data") or {}))  # every value people entered on its forms
            year_end = (item.get("data") or {}).get("year_end")
            if isinstance(year_end, dict) and year_end.get("comment"):
                titles.add(str(year_end["comment"]))  # the evaluation group's own words
            if item.get("business_key"):
                titles.add(str(item["business_key"]))  # typed by whoever started it, or a campaign's prefix
        if number * 200 >= page["total"]:
            break
    for campaign in _admin_get(server, "/campaigns?per_page=100")["items"]:
        titles |= {campaign["title"], *campaign["categories"]}
    for definition in _admin_get(server, "/process-definitions?per_page=200")["items"]:
        titles.add(str(definition["name"]))  # a designer's name for a process another test deployed
    for channel in _admin_get(server, "/notification-channels?per_page=100")["items"]:
        titles |= {str(channel["name"]), *_strings(channel.get("settings") or {})}
    for scheme in _admin_get(server, "/appraisal/schemes"):  # the organisation's own, and the shipped data
        titles |= {str(scheme[k]) for k in ("title", "name") if scheme.get(k)}
    for listed in _admin_get(server, "/award-lists?per_page=100")["items"]:
        titles.add(listed["kind"])  # an award's name, as the organiser gave it
        titles |= {str(e["reason"]) for e in listed["entries"] if e.get("reason") and not e.get("rank")}
        for objection in listed["objections"]:  # people's words, filed and answered
            titles |= {str(objection[k]) for k in ("reason", "note") if objection.get(k)}
    for unit in _admin_get(server, "/units?per_page=200")["items"]:
        titles.add(unit["name"])
        for member in _admin_get(server, f"/units/{quote(unit['code'])}")["members"]:
            titles |= {str(member[k]) for k in ("display_name", "post", "rank") if member.get(k)}
            SERVER_LOGINS.add(member["username"])
    return titles


def _strings(value: object) -> list[str]:
    """The free text inside a JSON value (an instance's data: what people entered): values with
    Chinese in them or long ones, not short codes such as ``approve`` or ``on_track``, whose
    showing raw on a page is what the walk is for."""
    if isinstance(value, str):
        return [value] if CHINESE.search(value) or len(value) >= 12 else []
    if isinstance(value, dict):
        return [t for v in value.values() for t in _strings(v)]
    if isinstance(value, list):
        return [t for v in value for t in _strings(v)]
    return []


def _admin_get(server, path: str) -> Any:
    request = urllib.request.Request(
        f"{server.base_url}/api/v1{path}", headers={"Authorization": f"Bearer {server.admin_token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_a_person_can_reach(role: str, instances, login, server) -> None:
    username = ROLES[role]
    SERVER_TITLES.update(server_titles(server))
    steps = {instance_id: step for step, instance_id in instances.items()}
    page = login(username, viewport=PHONE)
    start_pages = ["/inbox", "/board", "/instances", "/scores"]
    nav = page.eval_on_selector_all(".mainnav a", "els => els.map(a => a.getAttribute('href'))")
    start_pages += [p for p in nav if p not in start_pages]
    walk = Walk()
    for width, height in (PHONE, DESK):
        page.set_viewport_size({"width": width, "height": height})
        walk.visited = {}
        walk_as(page, start_pages, walk, steps, width=width, username=username)
    english = login(username, viewport=PHONE)
    english.goto("/inbox?lang=en")
    for key, url in walk.visited.items():
        if key not in ENGLISH_SEEN:
            ENGLISH_SEEN.add(key)
            visit(english, url, walk, english=True, width=PHONE[0], username=username)
    reached = set(walk.visited)
    assert {"/inbox", "/board", "/instances", "/scores", "/campaigns"} <= reached
    assert role != "admin" or "/designer" in reached
    assert any(key.startswith("task:") for key in reached) or role in ("admin", "team member")
    if walk.problems:
        pytest.fail(f"{role} ({username}), {len(reached)} pages: {report(walk)}", pytrace=False)


def test_the_login_page(login) -> None:
    page = login(None)
    walk = Walk()
    for width, height in (PHONE, DESK):
        page.set_viewport_size({"width": width, "height": height})
        visit(page, "/login?lang=zh_CN", walk, english=False, width=width, username=None)
        visit(page, "/login?lang=en", walk, english=True, width=width, username=None)
    if walk.problems:
        pytest.fail(report(walk), pytrace=False)
