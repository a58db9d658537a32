"""Claims as 滦南 makes them, over the API: a campaign limits claims to ranks, a claim names its
挂帅领导 and its 主要负责人, its team spans units and people without a login (counted in the
campaign's statistics, never in the ledger), and its signed 军令状 and the reports' evidence live
in the attachment store (type and size limits, downloads, who may see them)."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine import Engine, ManualClock
from engine import organisation as org
from engine.organisation import PostAssignment
from tests.api.conftest import Auth
from tests.campaigns import CADRES, campaign_body, county, problem_list

API = "/api/v1"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
GUEST_IN_A_UNIT = {"name": "王建国", "unit": "zjj", "phone": "13800138000", "share": 20}
GUEST_OF_A_COMPANY = {"name": "李工", "unit": "滦南县城建集团", "phone": "0315-4123456", "share": 10}


@pytest.fixture
def luannan(auth: Auth, engine: Engine) -> Auth:
    return cadres_of_luannan(auth, engine)


def cadres_of_luannan(auth: Auth, engine: Engine) -> Auth:
    """滦南's cadres with tokens, 许 a county leader (副处级) and 吴 of the neighbouring 迁西县."""
    county(engine)
    for username in CADRES:
        auth.user(username, roles=["admin@zzb"] if username == "zzb_admin" else [])
    auth.user("zhao", ["taskforce"])
    auth.user("sun", ["committee"])
    auth.user("qian", ["evaluator"])
    now = engine.clock.now()
    with engine.store.write() as s:
        org.upsert_unit(s, "qianxi", name="迁西县", kind="county", parent=None, attributes=None, now=now)
    for username, unit, post, rank in (
        ("xu", "luannan", "副县长", "副处级"),
        ("wu", "qianxi", "副局长", "科级"),
    ):
        auth.user(username)
        with engine.store.write() as s:
            org.set_posts(s, username, [PostAssignment(unit, post, rank)])
    return auth


def published(client: FlaskClient, auth: Auth, count: int = 2, **campaign: Any) -> tuple[int, list[str]]:
    """A campaign whose approved list of ``count`` problems is on the board."""
    resp = client.post(
        f"{API}/campaigns",
        json=campaign_body(list_approved=True, **campaign),
        headers=auth.headers("zzb_admin"),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    campaign_id = resp.get_json()["id"]
    imported = client.post(
        f"{API}/campaigns/{campaign_id}/problems/import",
        data={"file": (io.BytesIO(problem_list(count)), "清单.xlsx")},
        content_type="multipart/form-data",
        headers=auth.headers("zzb_admin"),
    )
    assert imported.status_code == 200, imported.get_data(as_text=True)
    client.post(f"{API}/campaigns/{campaign_id}/publish", headers=auth.headers("zzb_admin"))
    return campaign_id, imported.get_json()["instances"]


def claim(client: FlaskClient, auth: Auth, instance_id: str, user: str, **body: Any) -> Any:
    payload = {"kind": "individual", "plan": "逐户走访，三个月见效", "pledge": "不破不休", **body}
    return client.post(f"{API}/board/{instance_id}/claims", json=payload, headers=auth.headers(user))


def attach(
    client: FlaskClient,
    auth: Auth,
    instance_id: str,
    user: str,
    content: bytes,
    name: str,
    kind: str = "pledge",
) -> Any:
    return client.post(
        f"{API}/process-instances/{instance_id}/attachments",
        data={"kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=auth.headers(user),
    )


def complete(client: FlaskClient, auth: Auth, engine: Engine, instance_id: str, element: str, user: str,
             data: dict[str, Any], expect: int = 200) -> Any:  # fmt: skip
    task = next(t for t in engine.get_instance(instance_id).open_tasks if t.element_id == element)
    resp = client.post(f"{API}/tasks/{task.id}/complete", json={"data": data}, headers=auth.headers(user))
    assert resp.status_code == expect, resp.get_data(as_text=True)
    return resp.get_json()


def select_first_claim(engine: Engine, clock: ManualClock, client: FlaskClient, auth: Auth, i: str) -> None:
    clock.advance(days=15)
    engine.run_due_jobs(limit=100)
    complete(client, auth, engine, i, "select_claim", "sun", {"selected": 0})


# ---- eligibility by rank -------------------------------------------------------------------------
def test_a_campaign_limited_to_ke_and_gu_ranks_refuses_a_county_leader_s_claim_and_changes_nothing(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    campaign_id, ids = published(client, luannan, claim_ranks=["科级", "股级"])
    shown = client.get(f"{API}/campaigns/{campaign_id}", headers=luannan.headers("he")).get_json()
    assert shown["claim_ranks"] == ["科级", "股级"]

    refused = claim(client, luannan, ids[0], "xu")
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert "本题仅限科级、股级干部揭榜" in refused.get_json()["errors"]["rank"][0]
    assert "only cadres of rank 科级, 股级" in refused.get_json()["errors"]["rank"][0]
    assert engine.get_instance(ids[0]).data["claims"] == []
    assert [e.event for e in engine.history(ids[0])].count("message.received") == 0
    page = engine.challenge(ids[0], viewer="xu")
    assert page["may_claim"] is False and "科级" in page["ineligible"]

    assert claim(client, luannan, ids[0], "chen").status_code == 201  # a 股级 cadre may
    assert engine.challenge(ids[1], viewer="liu")["may_claim"] is True


def test_a_county_leader_may_lead_a_claim_but_not_answer_for_it_under_a_rank_limit(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    _, ids = published(client, luannan, claim_ranks=["科级", "股级"])
    team = [{"username": "chen", "share": 50}, {"username": "xu", "share": 50}]
    refused = claim(client, luannan, ids[0], "chen", kind="team", leader="xu", principal="xu", members=team)
    assert refused.status_code == 422
    assert "主要负责人须为科级、股级干部" in refused.get_json()["errors"]["principal"][0]
    assert engine.get_instance(ids[0]).data["claims"] == []
    filed = claim(client, luannan, ids[0], "chen", kind="team", leader="xu", principal="chen", members=team)
    assert filed.status_code == 201, filed.get_data(as_text=True)  # 挂帅: the 副县长 leads, 陈 answers for it


def test_the_organiser_opens_a_campaign_to_every_rank_and_nobody_else_may(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    campaign_id, ids = published(client, luannan, claim_ranks=["科级"])
    assert claim(client, luannan, ids[0], "he").status_code == 422  # 股级
    patch = client.patch(
        f"{API}/campaigns/{campaign_id}", json={"claim_ranks": []}, headers=luannan.headers("liu")
    )
    assert patch.status_code == 403
    opened = client.patch(
        f"{API}/campaigns/{campaign_id}", json={"claim_ranks": []}, headers=luannan.headers("zzb_admin")
    )
    assert opened.status_code == 200 and opened.get_json()["claim_ranks"] == []
    assert claim(client, luannan, ids[0], "he").status_code == 201
    assert client.patch(f"{API}/campaigns/{campaign_id}", json={"claim_ranks": []},
                        headers=luannan.headers("wu")).status_code == 404  # fmt: skip


# ---- 挂帅领导, 主要负责人, a team across units and people without a login -----------------------------
def test_a_team_claim_names_its_leader_and_principal_and_counts_guests_in_statistics_not_in_the_ledger(
    client: FlaskClient, luannan: Auth, engine: Engine, clock: ManualClock
) -> None:
    campaign_id, ids = published(client, luannan)
    members = [{"username": "liu", "share": 40}, {"username": "chen", "share": 30}, GUEST_IN_A_UNIT,
               GUEST_OF_A_COMPANY]  # fmt: skip
    filed = claim(client, luannan, ids[0], "liu", kind="team", leader="gao", principal="liu", members=members)
    assert filed.status_code == 201, filed.get_data(as_text=True)
    body = filed.get_json()["claim"]
    assert (body["leader"], body["principal"], body["filed_by"]) == ("gao", "liu", "liu")
    assert body["members"][2] == {**GUEST_IN_A_UNIT, "unit_name": "县住建局"}  # a unit's code, shown by name
    assert body["members"][3] == GUEST_OF_A_COMPANY  # a company: free text
    assert claim(client, luannan, ids[0], "liu").status_code == 409  # the filer claimed already

    select_first_claim(engine, clock, client, luannan, ids[0])
    report = {"progress_percent": 100, "summary": "完工", "status_self": "on_track", "final": True}
    complete(client, luannan, engine, ids[0], "progress_report", "gao", report)  # the leader's task
    complete(
        client,
        luannan,
        engine,
        ids[0],
        "completion_report",
        "gao",
        {"summary": "完工", "results": "3 个小区"},
    )
    complete(client, luannan, engine, ids[0], "acceptance", "qian", {"decision": "pass", "grade": "good"})

    ledger = client.get(f"{API}/scores?period=2026-03", headers=luannan.headers("liu")).get_json()["items"]
    assert sorted(r["username"] for r in ledger) == ["chen", "liu"]  # no row for people without a login
    by_status = client.get(f"{API}/campaigns/{campaign_id}/stats?by=status", headers=luannan.headers("liu"))
    accepted = next(i for i in by_status.get_json()["items"] if i["key"] == "accepted")
    assert (accepted["solved"], accepted["people"]) == (1, 5)  # 高 leads; 刘, 陈 and the two guests work


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"principal": "he"}, "principal", "主要负责人须为有账号的团队成员"),
        (
            {"members": [{"username": "liu", "share": 80}, {**GUEST_IN_A_UNIT, "phone": "1234567"}]},
            "members.1.phone",
            "须为手机号",
        ),  # fmt: skip
        (
            {
                "members": [
                    {"username": "liu", "share": 80},
                    {"name": " ", "unit": "zjj", "phone": "13800138000"},
                ]
            },
            "members.1.name",
            "1 到 50 个字",
        ),  # fmt: skip
        ({"leader": "nobody"}, "leader", "用户不存在"),
        ({"leader": "wu"}, "leader", "用户不存在"),  # another county's cadre leads nothing here
    ],
)
def test_a_bad_team_is_refused_field_by_field_and_nothing_is_filed(
    client: FlaskClient, luannan: Auth, engine: Engine, change: dict[str, Any], field: str, says: str
) -> None:
    _, ids = published(client, luannan, count=1)
    team = {"kind": "team", "members": [{"username": "liu", "share": 50}, {"username": "chen", "share": 50}]}
    resp = claim(client, luannan, ids[0], "liu", **{**team, **change})
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert says in resp.get_json()["errors"][field][0]
    assert engine.get_instance(ids[0]).data["claims"] == []


def test_a_claim_without_leader_or_principal_is_led_and_answered_for_by_its_filer(
    client: FlaskClient, luannan: Auth
) -> None:
    _, ids = published(client, luannan, count=1)
    body = claim(client, luannan, ids[0], "chen").get_json()["claim"]
    assert (body["leader"], body["principal"], body["members"]) == (
        "chen",
        "chen",
        [{"username": "chen", "share": 100}],
    )


# ---- the attachment store ---------------------------------------------------------------------------
def test_a_signed_pledge_is_uploaded_cited_by_the_claim_and_downloaded_as_it_was(
    client: FlaskClient, luannan: Auth, engine: Engine, clock: ManualClock
) -> None:
    _, ids = published(client, luannan, count=1)
    up = attach(client, luannan, ids[0], "liu", PDF, "军令状（刘）.pdf")
    assert up.status_code == 201, up.get_data(as_text=True)
    stored = up.get_json()
    assert (stored["filename"], stored["content_type"], stored["size"], stored["kind"], stored["uploaded_by"]) == (
        "军令状（刘）.pdf", "application/pdf", len(PDF), "pledge", "liu")  # fmt: skip
    assert stored["sha256"] == hashlib.sha256(PDF).hexdigest()

    assert claim(client, luannan, ids[0], "chen", pledge_file=stored["id"]).status_code == 422  # not 陈's
    filed = claim(client, luannan, ids[0], "liu", pledge_file=stored["id"])
    assert filed.status_code == 201 and filed.get_json()["claim"]["pledge_file"] == stored["id"]

    got = client.get(f"{API}/attachments/{stored['id']}", headers=luannan.headers("liu"))
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"

    # 何 reads the public challenge but not its files; 吴 of 迁西 does not even learn they exist
    assert client.get(f"{API}/attachments/{stored['id']}", headers=luannan.headers("he")).status_code == 403
    listed = client.get(f"{API}/process-instances/{ids[0]}/attachments", headers=luannan.headers("he"))
    assert listed.status_code == 200 and listed.get_json() == []
    for path in (f"/attachments/{stored['id']}", f"/process-instances/{ids[0]}/attachments"):
        assert client.get(f"{API}{path}", headers=luannan.headers("wu")).status_code == 404
    assert attach(client, luannan, ids[0], "wu", PDF, "x.pdf").status_code == 404

    select_first_claim(engine, clock, client, luannan, ids[0])  # the committee sees what it chose from
    seen = client.get(
        f"{API}/process-instances/{ids[0]}/attachments", headers=luannan.headers("sun")
    ).get_json()
    assert [a["id"] for a in seen] == [stored["id"]]
    assert client.get(f"{API}/attachments/{stored['id']}", headers=luannan.headers("sun")).data == PDF


def test_only_pdf_png_and_jpeg_are_kept_whatever_their_name_says(client: FlaskClient, luannan: Auth) -> None:
    _, ids = published(client, luannan, count=1)
    renamed = attach(client, luannan, ids[0], "liu", EXE, "军令状.pdf")
    assert renamed.status_code == 422 and renamed.mimetype == "application/problem+json"
    assert "仅接受 PDF、PNG 或 JPEG" in renamed.get_json()["errors"]["file"][0]
    scan = attach(client, luannan, ids[0], "liu", PNG, "../../etc/扫描件.exe")
    assert scan.status_code == 201
    assert (scan.get_json()["content_type"], scan.get_json()["filename"]) == ("image/png", "扫描件.exe")
    jpeg = attach(client, luannan, ids[0], "liu", b"\xff\xd8\xff\xe0" + b"\x00" * 32, "签字.jpg")
    assert jpeg.get_json()["content_type"] == "image/jpeg"
    assert attach(client, luannan, ids[0], "liu", PDF, "x.pdf", kind="other").status_code == 422


def test_a_file_over_the_configured_limit_is_a_413_problem(
    app: Flask, client: FlaskClient, luannan: Auth
) -> None:
    _, ids = published(client, luannan, count=1)
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    over = attach(client, luannan, ids[0], "liu", PDF + b"\x00" * 2048, "大.pdf")
    assert over.status_code == 413 and over.mimetype == "application/problem+json"
    far_over = attach(client, luannan, ids[0], "liu", PDF + b"\x00" * 200_000, "更大.pdf")
    assert far_over.status_code == 413 and far_over.mimetype == "application/problem+json"
    assert attach(client, luannan, ids[0], "liu", PDF, "小.pdf").status_code == 201


def test_reports_cite_evidence_uploaded_to_their_own_problem_only(
    client: FlaskClient, luannan: Auth, engine: Engine, clock: ManualClock
) -> None:
    _, ids = published(client, luannan, count=2)
    assert claim(client, luannan, ids[0], "liu").status_code == 201
    select_first_claim(engine, clock, client, luannan, ids[0])
    assert attach(client, luannan, ids[0], "liu", PNG, "现场.png", kind="evidence").status_code == 201
    photo = client.get(
        f"{API}/process-instances/{ids[0]}/attachments", headers=luannan.headers("liu")
    ).get_json()
    evidence = [a["id"] for a in photo if a["kind"] == "evidence"]
    assert (
        attach(client, luannan, ids[1], "he", PNG, "别处.png", kind="evidence").status_code == 403
    )  # not his
    elsewhere = attach(client, luannan, ids[1], "zzb_admin", PNG, "别处.png", kind="evidence").get_json()[
        "id"
    ]

    report = {"progress_percent": 60, "summary": "过半", "status_self": "on_track", "final": False}
    refused = complete(client, luannan, engine, ids[0], "progress_report", "liu",
                       {**report, "attachments": [elsewhere]}, expect=422)  # fmt: skip
    assert "不是本题上传的佐证材料" in refused["errors"]["attachments.0"][0]
    complete(client, luannan, engine, ids[0], "progress_report", "liu", {**report, "attachments": evidence})
    assert engine.get_instance(ids[0]).data["attachments"] == evidence
