"""The 五个一线 pages: a cadre nominates themself on the form, the organisation department adds a
post and sees the dispatch page (names, bars, the pool), a person's growth archive links each
line to its instance, and a peer's archive is not found."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine import Engine
from tests.api.conftest import page_login
from tests.frontline import POSTS, assess, county, dispatch


def test_a_cadre_nominates_themself_and_the_organisation_department_dispatches(
    client: FlaskClient, engine: Engine
) -> None:
    posts = county(engine)
    page_login(client, engine, "c05", csrf_token="t")
    form = client.get("/frontline/nominate").get_data(as_text=True)
    assert (
        'value="self"' in form and 'value="organisation"' not in form
    )  # a cadre selects nobody for the organisation
    sent = client.post(
        "/frontline/nominate",
        data={
            "csrf_token": "t",
            "intake": "self",
            "front_line": "rural",
            "fields": "农业，水利",
            "reason": "农学出身<b>",
        },
    )
    assert sent.status_code == 302
    [running] = engine.frontline_pool("xp_org")
    assert (running.username, running.intake, running.front_line) == ("c05", "self", "rural")
    assert engine.get_instance(running.instance_id).data["fields"] == ["农业", "水利"]
    refused = client.post(
        "/frontline/nominate",
        data={
            "csrf_token": "t",
            "intake": "organisation",
            "cadre": "c06",
            "front_line": "rural",
            "reason": "x",
        },
    )
    assert refused.status_code == 422 and "组织选派须由组织部门提出" in refused.get_data(as_text=True)
    assert client.get("/frontline").status_code == 403  # the dispatch page is the organisation department's

    page_login(client, engine, "xp_org", csrf_token="t")
    added = client.post(
        "/frontline/posts",
        data={
            "csrf_token": "t",
            **{k: str(v) for k, v in POSTS["community"].items()},
            "title": "网格员<script>",
        },
    )
    assert added.status_code == 302
    assert "网格员&lt;script&gt;" in client.get("/frontline/posts").get_data(as_text=True)
    assess(engine, running.instance_id)
    dispatch(engine, running.instance_id, posts["rural"])
    page = client.get("/frontline").get_data(as_text=True)
    assert (
        'id="line-chart"' in page
        and "<svg" in page
        and "钱五" in page
        and "c05" not in page.replace("/people/c05", "")
    )
    assert "市乡村振兴局" in page and "在岗锻炼" in page
    book = client.get("/frontline/dashboard.xlsx")
    assert book.status_code == 200 and book.data[:2] == b"PK"

    archive = client.get("/frontline/people/c05").get_data(as_text=True)
    title = archive.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("成长档案 · ") and "<form" not in title  # the page's title, not a form
    assert f"/instances/{running.instance_id}" in archive and "个人自荐：意向乡村振兴" in archive
    page_login(client, engine, "c06", csrf_token="t")
    assert client.get("/frontline/people/c05").status_code == 404  # a peer
    assert client.get("/frontline/people/c05?lang=en").status_code == 404
    assert (
        client.post(
            "/frontline/people/c05/list-entries", data={"csrf_token": "t", "kind": "negative", "text": "x"}
        ).status_code
        == 404
    )
    page_login(client, engine, "xcj_head", csrf_token="t")  # her unit's 局长, and the rural post's manager
    assert 'id="list-entry"' in client.get("/frontline/people/c05").get_data(as_text=True)
    filed = client.post(
        "/frontline/people/c05/list-entries",
        data={"csrf_token": "t", "kind": "positive", "text": "牵头领办合作社"},
    )
    assert filed.status_code == 302
    assert "正面清单：牵头领办合作社" in client.get("/frontline/people/c05").get_data(as_text=True)
