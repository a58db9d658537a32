"""Element and process names on the pages: Chinese on a Chinese page, English under ?lang=en, never
both; the REST API keeps the diagram's names and adds the process's English one."""

from __future__ import annotations

from engine import Engine

from .conftest import HttpWalk, page_login

BILINGUAL = ("初审 Preliminary review", "揭榜挂帅 Claim and evaluate", "申报问题 Submit problem")

PLAIN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://jiebang.example/test">
<bpmn:process id="leave" name="请假" isExecutable="true">
<bpmn:startEvent id="s"/><bpmn:userTask id="review" name="审核"/><bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/><bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e"/>
</bpmn:process></bpmn:definitions>""".encode()


def page(walk: HttpWalk, path: str, *, whole: bool = True, **query: str) -> str:
    """The page's HTML, checked for a bilingual name (``whole=False``: its head and header only)."""
    resp = walk.client.get(path, query_string=query)
    assert resp.status_code == 200, (path, resp.status_code)
    html = resp.get_data(as_text=True)
    checked = html if whole else html[: html.index("</h1>")]
    assert not any(mixed in checked for mixed in BILINGUAL), path
    return html


def test_the_inbox_names_the_task_and_the_process_in_the_pages_language(
    walk: HttpWalk, engine: Engine
) -> None:
    walk.submit()
    page_login(walk.client, engine, "zhao")
    chinese = page(walk, "/inbox", tab="candidate")
    assert ">初审</a>" in chinese and ">揭榜挂帅</option>" in chinese
    english = page(walk, "/inbox", tab="candidate", lang="en")
    assert ">Preliminary review</a>" in english and ">Claim and evaluate</option>" in english
    assert ">初审</a>" not in english and "揭榜挂帅" not in english


def test_the_task_page_header_is_the_tasks_name_in_one_language(walk: HttpWalk, engine: Engine) -> None:
    walk.submit()
    task_id = walk.task("preliminary_review")["id"]
    page_login(walk.client, engine, "zhao")
    # the form below is the form's own business (its title is the form file's)
    chinese = page(walk, f"/tasks/{task_id}", whole=False)
    assert "<title>初审" in chinese and "<h1>初审</h1>" in chinese
    english = page(walk, f"/tasks/{task_id}", whole=False, lang="en")
    assert "<title>Preliminary review" in english and "<h1>Preliminary review</h1>" in english


def test_the_instance_page_names_its_process_history_and_open_steps(walk: HttpWalk, engine: Engine) -> None:
    walk.submit()
    page_login(walk.client, engine, "wang")
    path = f"/instances/{walk.instance_id}"
    chinese = page(walk, path)
    assert '<span class="step">「申报问题」</span>' in chinese  # history: a name, not an id
    assert ">初审</a>" in chinese and '<p class="muted">揭榜挂帅 ·' in chinese
    english = page(walk, path, lang="en")
    assert "Submit problem" in english and '<span class="step">「申报问题」' not in english
    assert ">Preliminary review</a>" in english and '<p class="muted">Claim and evaluate ·' in english
    listed = page(walk, "/instances", lang="en")
    assert ">Claim and evaluate</td>" in listed


def test_the_designer_lists_processes_by_their_name_in_the_pages_language(
    walk: HttpWalk, engine: Engine
) -> None:
    walk.auth.user("admin", roles=["admin"])
    page_login(walk.client, engine, "admin")
    assert ">揭榜挂帅</td>" in page(walk, "/designer")
    assert ">Claim and evaluate</td>" in page(walk, "/designer", lang="en")
    assert "<h1>Claim and evaluate <small>" in page(walk, "/designer/claim_evaluate", lang="en")


def test_the_designer_names_who_deployed_each_process(walk: HttpWalk, engine: Engine) -> None:
    walk.auth.user("admin", roles=["admin"], display_name="管理员")
    engine.deploy({"leave.bpmn": PLAIN}, actor="admin")
    page_login(walk.client, engine, "admin")
    listed = page(walk, "/designer")
    assert ">随系统提供</td>" in listed and ">管理员</td>" in listed  # the shipped process, then a person
    assert ">system</td>" not in listed and ">admin</td>" not in listed


def test_a_diagram_without_english_names_shows_its_own_names_on_english_pages(
    walk: HttpWalk, engine: Engine
) -> None:
    engine.deploy({"leave.bpmn": PLAIN}, actor="admin")
    engine.start("leave", actor="wang")
    page_login(walk.client, engine, "wang")
    english = page(walk, "/inbox", lang="en")
    assert ">审核</a>" in english and ">请假</option>" in english


def test_the_api_keeps_the_diagrams_names_and_adds_the_english_process_name(walk: HttpWalk) -> None:
    walk.submit()
    definition = walk.call("GET", "/process-definitions/claim_evaluate", "wang")
    assert definition["name"] == "揭榜挂帅" and definition["name_en"] == "Claim and evaluate"
    assert walk.task("preliminary_review")["name"] == "初审"
    walk.auth.engine.deploy({"leave.bpmn": PLAIN}, actor="admin")
    assert walk.call("GET", "/process-definitions/leave", "wang")["name_en"] is None
