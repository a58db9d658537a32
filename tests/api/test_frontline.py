"""五个一线 over the API: the organisation department sets up posts, a cadre nominates themself
with the process's start form, the panel and the organiser work their tasks, a supervisor files a
list entry, the dashboard counts it (JSON and .xlsx), and the growth archive answers only the
person, their unit leaders and the organisation department."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from engine import Engine
from tests.frontline import PANEL, POSTS, county

API = "/api/v1"


class County:
    def __init__(self, client: FlaskClient, engine: Engine) -> None:
        self.client, self.engine = client, engine
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, user: str, body: Any = None) -> Any:
        if user not in self.tokens:
            self.tokens[user] = self.engine.create_token(user)
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return self.client.open(f"{API}{path}", method=method, json=body, headers=headers)

    def task(self, instance_id: str, element: str, user: str) -> str:
        tasks = self.call("GET", f"/process-instances/{instance_id}", user).get_json()["open_tasks"]
        return next(t["id"] for t in tasks if t["element_id"] == element and t["assignee"] in (user, None))

    def complete(self, instance_id: str, element: str, user: str, data: dict[str, Any]) -> Any:
        task = self.task(instance_id, element, user)
        return self.call("POST", f"/tasks/{task}/complete", user, {"data": data})


@pytest.fixture
def xingping(client: FlaskClient, engine: Engine) -> County:
    county(engine)
    return County(client, engine)


def test_a_county_runs_a_nomination_to_a_post_over_the_api(xingping: County) -> None:
    x = xingping
    created = x.call("POST", "/frontline/posts", "xp_org", {**POSTS["rural"], "title": "驻村第一书记助理"})
    assert created.status_code == 201 and created.get_json()["vacant"] == 3
    assert x.call("POST", "/frontline/posts", "c01", POSTS["rural"]).status_code == 403
    bad = x.call("POST", "/frontline/posts", "xp_org", {**POSTS["rural"], "front_line": "harbour"})
    assert bad.status_code == 422 and "front_line" in bad.get_json()["errors"]
    posts = x.call("GET", "/frontline/posts?front_line=rural", "c06").get_json()["items"]
    assert [p["title"] for p in posts] == ["产业重点村工作专班", "驻村第一书记助理"]
    post = created.get_json()["id"]
    closed = x.call("PATCH", f"/frontline/posts/{post}", "xp_org", {"capacity": 1})
    assert closed.get_json()["capacity"] == 1

    start = {
        "intake": "self",
        "cadre": "c06",
        "front_line": "rural",
        "fields": ["农业"],
        "reason": "农学出身",
    }
    started = x.call("POST", "/process-instances", "c06", {"process_key": "frontline", "data": start})
    assert started.status_code == 201
    iid = started.get_json()["id"]
    refused = x.call(
        "POST", "/process-instances", "c05", {"process_key": "frontline", "data": {**start, "cadre": "c04"}}
    )
    assert refused.status_code == 422  # not a self-nomination when filed for someone else

    assert (
        x.complete(iid, "screen_nominee", "xp_org", {"decision": "approve", "panel": PANEL}).status_code
        == 200
    )
    for member in PANEL:
        scores = {"political": 9, "competence": 8, "weaknesses": 7, "consistency": 9, "recommend": True}
        assert x.complete(iid, "assess_nominee", member, scores).status_code == 200
    form = x.call("GET", f"/tasks/{x.task(iid, 'dispatch', 'xp_org')}", "xp_org").get_json()["form"]
    assert post in form["properties"]["post"]["enum"]  # the dispatch form lists the county's posts
    assert x.complete(iid, "dispatch", "xp_org", {"post": post, "months": 6}).status_code == 200

    entry = {"kind": "positive", "text": "牵头领办合作社"}
    assert x.call("POST", f"/frontline/instances/{iid}/list-entries", "c05", entry).status_code == 403
    filed = x.call("POST", f"/frontline/instances/{iid}/list-entries", "xcj_head", entry)
    assert filed.status_code == 201 and filed.get_json()["kind"] == "list_positive"

    stints = x.call("GET", "/frontline/stints", "xp_org").get_json()["items"]
    assert [(s["name"], s["post_title"], s["origin_unit_name"]) for s in stints] == [
        ("孙六", "驻村第一书记助理", "市乡村振兴局")
    ]
    assert x.call("GET", "/frontline/stints", "c06").status_code == 403
    board = {r["post_id"]: r for r in x.call("GET", "/frontline/dashboard", "xp_org").get_json()["items"]}
    assert (
        board[post]["filled"],
        board[post]["vacant"],
        board[post]["positive"],
        board[post]["by_rank"],
    ) == (1, 0, 1, {"科级": 1})
    book = x.call("GET", "/frontline/dashboard?format=xlsx", "xp_org")
    sheet = load_workbook(io.BytesIO(book.data)).active
    assert [c.value for c in sheet[1]][:3] == ["一线", "岗位", "接收单位"]
    assert ["乡村振兴", "驻村第一书记助理", "市乡村振兴局", 1, 1, 0] in [
        [c.value for c in row][:6] for row in sheet.iter_rows(min_row=2)
    ]

    archive = x.call("GET", "/people/c06/archive", "c06").get_json()["items"]
    assert [e["kind"] for e in archive] == [
        "frontline_nomination", "frontline_screening", "frontline_assessment", "frontline_dispatch", "frontline_list_positive",
    ]  # fmt: skip
    assert all(e["instance_id"] == iid for e in archive)
    assert x.call("GET", "/people/c06/archive", "xcj_head").status_code == 200  # the unit's 局长
    assert x.call("GET", "/people/c06/archive", "c05").status_code == 404  # a peer
    workbook = load_workbook(
        io.BytesIO(x.call("GET", "/people/c06/archive?format=xlsx", "xp_org").data)
    ).active
    assert [row[1].value for row in workbook.iter_rows(min_row=2)][:2] == ["提名", "资格审查"]
