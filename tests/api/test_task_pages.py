"""The task pages as a clerk, a committee member and an evaluator read them: forms in the page's
language with the values that make sense to start from, refused forms explained by label, and the
whole picture of what is being decided on."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine import Engine, ManualClock
from tests.api.conftest import page_login
from tests.walk import Walk


@pytest.fixture
def walk(engine: Engine, clock: ManualClock) -> Walk:
    return Walk(lambda: engine, clock)


def task_page(
    client: FlaskClient, engine: Engine, walk: Walk, element_id: str, user: str, lang: str = ""
) -> str:
    page_login(client, engine, user, csrf_token="t")
    resp = client.get(f"/tasks/{walk.open_task(element_id).id}{lang}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def script_json(page: str, block: str) -> Any:
    hit = re.search(rf'<script type="application/json" id="{block}">(.*?)</script>', page, re.S)
    assert hit, block
    return json.loads(hit.group(1))


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_review_form_speaks_chinese_only_and_english_only_under_lang_en(
    client: FlaskClient, engine: Engine, walk: Walk
) -> None:
    walk.submit()
    schema = script_json(task_page(client, engine, walk, "preliminary_review", "zhao"), "form-schema")
    decision = schema["properties"]["decision"]
    assert decision["title"] == "初审意见"
    assert decision["x-enumTitles"] == {"approve": "通过", "return": "退回修改", "reject": "不予立项"}
    assert "description" not in decision  # no raw "approve 通过 / return …" line any more

    english = task_page(client, engine, walk, "preliminary_review", "zhao", "?lang=en")
    schema = script_json(english, "form-schema")
    assert schema["properties"]["decision"]["title"] == "Review decision"
    assert schema["properties"]["decision"]["x-enumTitles"]["return"] == "Return for revision"
    assert schema["properties"]["comment"]["title"] == "Comment"
    assert not re.search(r"[\u4e00-\u9fff]", json.dumps(schema, ensure_ascii=False))
    assert not re.search(
        r"[\u4e00-\u9fff]", json.dumps(script_json(english, "form-messages"), ensure_ascii=False)
    )


def test_a_refused_form_names_each_field_once_by_its_label(
    client: FlaskClient, engine: Engine, walk: Walk
) -> None:
    walk.submit()
    walk.review()
    task = walk.open_task("committee_approval")
    page_login(client, engine, "sun", csrf_token="t")
    sent = {"decision": "approve", "points": 0, "claim_window": "14天"}
    resp = client.post(f"/tasks/{task.id}/complete", data={"csrf_token": "t", "data": json.dumps(sent)})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    errors = script_json(page, "form-server-errors")
    assert errors == {
        "points": "须大于 0",
        "deadline": "请选择",
        "claim_window": "格式不正确",
        "report_interval": "请填写",
    }
    summary = text_of(page[page.index('id="form-errors"') : page.index('id="task-form"')])
    assert "分值：须大于 0" in summary and "完成期限：请选择" in summary and "揭榜期：格式不正确" in summary
    assert "proposed_points" not in summary and "minimum" not in summary and "required" not in summary
    assert walk.open_task("committee_approval").id == task.id  # nothing changed


def test_a_refused_form_in_english_reads_english(client: FlaskClient, engine: Engine, walk: Walk) -> None:
    walk.submit()
    task = walk.open_task("preliminary_review")
    page_login(client, engine, "zhao", csrf_token="t")
    engine.claim(task.id, "zhao")
    resp = client.post(
        f"/tasks/{task.id}/complete?lang=en",
        data={"csrf_token": "t", "data": json.dumps({"decision": "return"})},
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert script_json(page, "form-server-errors") == {"comment": "Please fill in"}
    summary = text_of(page[page.index('id="form-errors"') : page.index('id="task-form"')])
    assert "Comment: Please fill in" in summary.replace("：", ": ")


def test_the_committee_starts_from_the_proposed_points_and_never_from_the_reviewers_comment(
    client: FlaskClient, engine: Engine, walk: Walk
) -> None:
    walk.submit()
    walk.review(comment="符合条件，建议立项")
    page = task_page(client, engine, walk, "committee_approval", "sun")
    initial = script_json(page, "form-initial")
    assert initial["points"] == 80 and initial["deadline"] == walk.data()["proposed_deadline"]
    assert "comment" not in initial
    assert "decision" not in initial  # nothing decided for the committee
    opinions = text_of(page[page.index('class="panel opinions"') :])
    assert "赵专班" in opinions and "符合条件，建议立项" in opinions and "通过" in opinions


def test_the_claim_is_chosen_from_cards_with_names_shares_plan_and_pledge(
    client: FlaskClient, engine: Engine, walk: Walk
) -> None:
    walk.publish()
    walk.claim_individual("zhou")
    walk.claim_team()
    walk.close_claim_window()
    page = task_page(client, engine, walk, "select_claim", "sun")
    schema = script_json(page, "form-schema")
    assert schema["properties"]["selected"]["x-widget"] == "claim"
    claims = script_json(page, "form-claims")
    assert [c["leader_name"] for c in claims] == ["周强", "张杰"]
    assert claims[1]["members"] == [
        {"username": "zhangjie", "name": "张杰", "share": 60},
        {"username": "li", "name": "李明", "share": 40},
    ]
    assert claims[1]["plan"] == "组建专班" and claims[1]["pledge"] == "三个月签约"
    assert "李明 40%" in text_of(page)


def test_the_acceptance_page_shows_the_reports_and_decides_nothing(
    client: FlaskClient, engine: Engine, walk: Walk
) -> None:
    walk.publish()
    walk.claim_team()
    walk.close_claim_window()
    walk.do("select_claim", "sun", {"selected": 0, "comment": "方案扎实"})
    walk.report(40, status="at_risk")
    walk.finish_supervision()
    page = task_page(client, engine, walk, "acceptance", "qian")
    text = text_of(page)
    assert "征迁协议全部签订" in text and "37 户签约" in text  # the completion report and its results
    reports = text_of(page[page.index('class="panel reports"') : page.index('class="panel completion"')])
    assert "进度汇报（2）" in reports and "完成 40%" in reports and "有风险（黄灯）" in reports
    assert "张杰" in reports and "zhangjie" not in reports
    assert "康渝高铁征迁外围协调保障" in text and "三个月内完成征迁协议签订" in text  # the application
    assert "方案扎实" in text and "孙书记" in text  # earlier opinions with who
    assert script_json(page, "form-initial") == {}  # neither 通过 nor 优秀 chosen in advance


def test_people_are_found_by_name_only_when_logged_in(
    client: FlaskClient, engine: Engine, walk: Walk
) -> None:
    assert client.get("/tasks/people?q=李明").status_code in (302, 401)
    page_login(client, engine, "zhou")
    assert client.get("/tasks/people?q=李明").get_json() == [{"username": "li", "display_name": "李明"}]
    assert client.get("/tasks/people?q=").get_json() == []


def test_static_scripts_are_sent_compressed(client: FlaskClient) -> None:
    plain = client.get("/static/pages/js/task.js")
    packed = client.get("/static/pages/js/task.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 2
    import gzip

    assert gzip.decompress(packed.data) == plain.data
