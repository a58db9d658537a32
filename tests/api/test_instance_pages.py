"""The pages a county clerk and a village cadre read: people by name, statuses and history in words,
a public page for every challenge on the board, no dead ends (a draft can be dropped, an empty inbox
points to where work waits, a points row opens), and confirmations before irreversible steps."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from engine import Engine

from .conftest import HttpWalk, page_login


def read(client: FlaskClient, engine: Engine, user: str, path: str, status: int = 200) -> str:
    page_login(client, engine, user, csrf_token="t")
    resp = client.get(path)
    assert resp.status_code == status, (path, resp.status_code)
    return resp.get_data(as_text=True)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|datalist|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def post(client: FlaskClient, engine: Engine, user: str, path: str, **form: str):
    page_login(client, engine, user, csrf_token="t")
    return client.post(path, data={**form, "csrf_token": "t"})


def flashes(client: FlaskClient, path: str = "/inbox") -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', client.get(path).get_data(as_text=True))


def team_claimed(walk: HttpWalk) -> None:
    walk.publish()
    walk.call(
        "POST",
        f"/board/{walk.instance_id}/claims",
        "zhangjie",
        201,
        json={
            "kind": "team",
            "members": [{"username": "zhangjie", "share": 60}, {"username": "li", "share": 40}],
            "plan": "组建专班",
            "pledge": "三个月签约",
        },
    )


# ---- 3. names, not ids ------------------------------------------------------------------------------
def test_the_instance_page_tells_its_history_by_name_and_in_words(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    team_claimed(walk)
    text = visible_text(read(client, engine, "wang", f"/instances/{walk.instance_id}"))
    assert "进行中 · 揭榜中" in text and "running" not in text and "published" not in text
    assert (
        "赵专班 办理完成 「初审」 通过 符合条件" in text
    )  # who, did what, at which step, with their opinion
    assert "孙书记 办理完成 「研判审定」" in text and "提交揭榜申请" in text
    assert "张杰 60%、李明 40%" in text
    for raw in ("preliminary_review", "committee_approval", "zhao", "zhangjie", "task.complete"):
        assert raw not in text, raw
    assert "发起人 王科长" in text


def test_raw_instance_data_is_for_admins_and_everyone_else_reads_a_summary(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    walk.publish()
    as_starter = read(client, engine, "wang", f"/instances/{walk.instance_id}")
    assert "目标要求" in as_starter and "摸排、谈判、签约" in as_starter
    assert "原始数据" not in as_starter and "&#34;proposed_points&#34;" not in as_starter
    raw = f"/instances/{walk.instance_id}/export.json"
    assert raw not in as_starter
    read(client, engine, "wang", raw, status=403)
    as_admin = read(client, engine, "admin", f"/instances/{walk.instance_id}")
    # the administrator gets the raw data as a file to trace a fault; the page itself shows no JSON
    assert raw in as_admin and "&#34;proposed_points&#34;" not in as_admin
    resp = client.get(raw)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.get_json()["proposed_points"] == engine.get_instance(walk.instance_id).data["proposed_points"]
    read(client, engine, "admin", "/instances/no-such-instance/export.json", status=404)


def test_the_board_lists_claims_by_name_with_shares(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    team_claimed(walk)
    text = visible_text(read(client, engine, "zhou", "/board"))
    assert "张杰 60%、李明 40% · 团队" in text and "zhangjie" not in text


def test_the_instance_list_names_process_starter_and_status_in_words(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    walk.publish()
    text = visible_text(read(client, engine, "wang", "/instances"))
    assert "揭榜挂帅 P-2026-001 王科长 进行中 · 揭榜中" in text
    assert "claim_evaluate" not in text and "Claim and evaluate" not in text


# ---- 4. no dead ends ----------------------------------------------------------------------------------
def test_any_cadre_reads_a_published_challenge_and_claims_from_its_page(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    walk.publish()
    page = f"/board/{walk.instance_id}"
    assert f'href="{page}"' in read(client, engine, "zhou", "/board")  # the card opens the challenge's page
    read(client, engine, "zhou", f"/instances/{walk.instance_id}", 403)  # not the instance itself
    text = visible_text(read(client, engine, "zhou", page))
    for expected in ("三个月内完成征迁协议签订", "福滩村征迁矛盾多", "法律顾问一名", "镇财政保障工作经费"):
        assert expected in text
    assert "摸排 谈判 签约" in text and "距揭榜截止还有 14 天" in text and "尚无人揭榜" in text
    assert 'name="from" value="challenge"' in read(client, engine, "zhou", page)
    refused = post(
        client,
        engine,
        "zhou",
        f"{page}/claims",
        kind="individual",
        plan="",
        pledge="",
        **{"from": "challenge"},
    )
    assert refused.status_code == 422
    refused_text = visible_text(refused.get_data(as_text=True))
    assert "必填项" in refused_text and "required" not in refused_text  # the page's language only
    filed = post(
        client,
        engine,
        "zhou",
        f"{page}/claims",
        kind="individual",
        plan="逐户走访",
        pledge="不完成不收兵",
        **{"from": "challenge"},
    )
    assert filed.status_code == 302 and filed.headers["Location"].endswith(page)
    text = visible_text(read(client, engine, "zhou", page))
    assert "周强 · 个人" in text and "您已揭榜" in text


def test_an_application_under_review_has_no_public_page(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    walk.submit()
    read(client, engine, "zhou", f"/board/{walk.instance_id}", 404)
    read(client, engine, "zhou", "/board/no-such-challenge", 404)


def test_a_starter_discards_an_accidental_draft_after_confirming(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    draft = walk.call("POST", "/process-instances", "wang", 201, json={"process_key": "claim_evaluate"})
    page = f"/instances/{draft['id']}"
    html = read(client, engine, "wang", page)
    assert 'id="discard"' in html and "不能恢复" in html  # the form asks before it submits (data-confirm)
    assert 'id="withdraw"' not in html
    post(client, engine, "wang", f"{page}/withdraw")  # 撤回 on a draft says what is true
    assert flashes(client, page) == ["尚未提交任何环节，无可撤回；不需要的草稿请撤销"]
    assert post(client, engine, "zhao", f"{page}/discard").status_code == 302  # not his draft
    assert engine.get_instance(draft["id"]).status == "running"
    gone = post(client, engine, "wang", f"{page}/discard")
    assert gone.status_code == 302 and gone.headers["Location"].endswith("/inbox")
    assert engine.get_instance(draft["id"]).status == "cancelled"
    assert flashes(client) == ["草稿已撤销"]


def test_cancelling_a_worked_instance_takes_a_reason(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    walk.submit()
    walk.do("preliminary_review", "zhao", {"decision": "approve", "comment": "符合条件"})
    page = f"/instances/{walk.instance_id}"
    html = read(client, engine, "wang", page)
    assert 'id="discard"' not in html and 'data-op="cancel"' in html and "data-confirm" in html
    post(client, engine, "wang", f"{page}/cancel", reason="  ")
    assert engine.get_instance(walk.instance_id).status == "running"
    post(client, engine, "wang", f"{page}/cancel", reason="并入其他事项")
    assert engine.get_instance(walk.instance_id).status == "cancelled"
    assert "并入其他事项" in visible_text(read(client, engine, "wang", page))  # the reason is in the history


def test_an_empty_inbox_points_to_the_group_queue(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    walk.submit()
    html = read(client, engine, "zhao", "/inbox")
    assert 'id="inbox-hint"' in html and "所在的组有 1 项任务" in html
    assert 'href="/inbox?tab=candidate"' in html
    assert "专班" in visible_text(read(client, engine, "zhao", "/inbox?tab=candidate"))  # the group, in words


def test_a_team_member_opens_the_reason_of_his_points(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    team_claimed(walk)
    walk.call("POST", f"/jobs/{_claim_window_job(engine, walk)}/execute", "admin", 204)
    walk.do("select_claim", "sun", {"decision": "approve", "selected": 0})
    walk.do(
        "progress_report",
        "zhangjie",
        {"progress_percent": 100, "summary": "完成", "status_self": "on_track", "final": True},
    )
    walk.do(
        "completion_report",
        "zhangjie",
        {"summary": "征迁协议全部签订", "results": "37 户签约", "evidence_links": []},
    )
    walk.do("acceptance", "qian", {"decision": "pass", "grade": "good"})
    scores = read(client, engine, "li", f"/scores?period={walk.clock.now():%Y-%m}")
    link = re.search(r'<td class="reason"><a href="([^"]+)"', scores)
    assert link is not None and "李明" in visible_text(scores)
    assert "康渝高铁征迁外围协调保障" in read(client, engine, "li", link.group(1))
    read(client, engine, "li", f"/instances/{walk.instance_id}")  # and the instance that awarded them


def _claim_window_job(engine: Engine, walk: HttpWalk) -> str:
    return engine.list_jobs(instance_id=walk.instance_id).items[0].id


# ---- 5. the instance page -----------------------------------------------------------------------------
def test_the_instance_page_shows_due_dates_zoom_lanes_and_asks_before_running_a_timer(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    walk.submit()
    html = read(client, engine, "zhao", f"/instances/{walk.instance_id}")
    assert all(f'id="zoom-{b}"' in html for b in ("in", "out", "fit"))
    assert '"TaskForce": "专班"' in html  # the diagram's lanes, relabelled in the page's language
    assert "已走过" in html and "当前环节" in html
    text = visible_text(html)
    assert "初审 专班 （待签收）" in text and "办理期限" in text
    walk.do("preliminary_review", "zhao", {"decision": "approve", "comment": "符合条件"})
    walk.do(
        "committee_approval",
        "sun",
        {
            "decision": "approve",
            "points": 100,
            "deadline": "2026-09-01T00:00:00+08:00",
            "claim_window": "P14D",
            "report_interval": "P30D",
        },
    )
    admin = read(client, engine, "admin", f"/instances/{walk.instance_id}")
    run = re.search(r'<form[^>]*/execute"[^>]*data-confirm="([^"]+)"', admin, flags=re.S)
    assert run is not None and "揭榜期届满" in run.group(1) and "不能撤销" in run.group(1)


def test_english_pages_speak_english_for_statuses_and_history(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    walk.submit()
    text = visible_text(read(client, engine, "wang", f"/instances/{walk.instance_id}?lang=en"))
    assert "Running" in text and "Preliminary review" in text and "Completed" in text
    assert "进行中" not in text and "办理完成" not in text and "初审" not in text


def test_signing_operations_on_the_task_page_name_people_not_logins(
    client: FlaskClient, engine: Engine, walk: HttpWalk
) -> None:
    walk.submit()
    task_id = walk.task("preliminary_review")["id"]
    walk.call("POST", f"/tasks/{task_id}/claim", "zhao")
    walk.call(
        "POST",
        f"/tasks/{task_id}/add-signers",
        "zhao",
        201,
        json={"usernames": ["li", "zhou"], "mode": "after"},
    )
    walk.call("DELETE", f"/tasks/{task_id}/signers/zhou", "zhao", 204)
    html = read(client, engine, "zhao", f"/tasks/{task_id}")
    comments = visible_text(re.search(r'<ul class="comments">.*?</ul>', html, flags=re.S).group(0))
    assert "加签" in comments and "减签" in comments
    for raw in ("after", "li", "zhou"):
        assert not re.search(rf"\b{raw}\b", comments), (raw, comments)
    text = visible_text(html)
    assert "李明" in text and "周强" in text  # the timeline says whom
