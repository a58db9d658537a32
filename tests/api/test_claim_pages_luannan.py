"""滦南's claims on the pages: the challenge page says who may claim and keeps its form from the
ineligible; the claim form files a team with a member without a login and a signed 军令状; the
challenge, instance and task pages list the files as downloads, names escaped."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient

from engine import Engine, ManualClock
from tests.api.conftest import Auth, page_login
from tests.api.test_claims_luannan import PDF, PNG, cadres_of_luannan, complete, published
from tests.api.test_instance_pages import read, visible_text


@pytest.fixture
def luannan(auth: Auth, engine: Engine) -> Auth:
    return cadres_of_luannan(auth, engine)


def test_the_challenge_page_says_who_may_claim_and_tells_the_ineligible_why(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    _, ids = published(client, luannan, count=1, claim_ranks=["科级", "股级"])
    page = f"/board/{ids[0]}"
    for_leader = read(client, engine, "xu", page)
    text = visible_text(for_leader)
    assert "揭榜条件：仅限科级、股级干部揭榜" in text
    assert "您不符合本题的揭榜条件：本题仅限科级、股级干部揭榜" in text
    assert 'class="claim"' not in for_leader  # no form to fill in vain
    for_cadre = read(client, engine, "chen", page)
    assert (
        'class="claim"' in for_cadre and 'name="pledge_file"' in for_cadre and 'name="principal"' in for_cadre
    )


def test_a_team_with_a_company_engineer_and_a_signed_pledge_is_filed_from_the_page(
    client: FlaskClient, luannan: Auth, engine: Engine
) -> None:
    _, ids = published(client, luannan, count=1)
    page = f"/board/{ids[0]}"
    page_login(client, engine, "liu", csrf_token="t")
    form = {
        "csrf_token": "t",
        "from": "challenge",
        "kind": "team",
        "plan": "组建专班",
        "pledge": "年内完成",
        "leader": "gao",
        "principal": "liu",
        "leader_share": "60",
        "member": ["chen"],
        "share": ["30"],
        "guest_name": ["<b>李工</b>"],
        "guest_unit": ["滦南县城建集团"],
        "guest_phone": ["0315-4123456"],
        "guest_share": ["10"],
        "pledge_file": (io.BytesIO(PDF), "军令状.pdf"),
    }
    filed = client.post(f"{page}/claims", data=form, content_type="multipart/form-data")
    assert filed.status_code == 302, filed.get_data(as_text=True)
    claim = engine.get_instance(ids[0]).data["claims"][0]
    assert (claim["leader"], claim["principal"], claim["filed_by"]) == ("gao", "liu", "liu")
    assert claim["members"][-1] == {
        "name": "<b>李工</b>",
        "unit": "滦南县城建集团",
        "phone": "0315-4123456",
        "share": 10,
    }
    html = read(client, engine, "liu", page)
    assert "&lt;b&gt;李工&lt;/b&gt;（滦南县城建集团） 10%" in html and "<b>李工</b>" not in html
    assert f'href="/attachments/{claim["pledge_file"]}"' in html and "军令状.pdf" in html
    download = client.get(f"/attachments/{claim['pledge_file']}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    read(client, engine, "he", f"/attachments/{claim['pledge_file']}", 403)


def test_the_acceptance_task_shows_the_evidence_uploaded_from_the_report_task(
    client: FlaskClient, luannan: Auth, engine: Engine, clock: ManualClock
) -> None:
    _, ids = published(client, luannan, count=1)
    assert client.post(f"/api/v1/board/{ids[0]}/claims", json={"kind": "individual", "plan": "p", "pledge": "p"},
                       headers=luannan.headers("liu")).status_code == 201  # fmt: skip
    clock.advance(days=15)
    engine.run_due_jobs(limit=100)
    complete(client, luannan, engine, ids[0], "select_claim", "sun", {"selected": 0})
    report = next(t for t in engine.get_instance(ids[0]).open_tasks if t.element_id == "progress_report")
    task_page = read(client, engine, "liu", f"/tasks/{report.id}")
    assert 'name="kind" value="evidence"' in task_page  # the report's page takes evidence
    page_login(client, engine, "liu", csrf_token="t")
    up = client.post(
        f"/instances/{ids[0]}/attachments",
        data={
            "csrf_token": "t",
            "kind": "evidence",
            "next": f"/tasks/{report.id}",
            "file": (io.BytesIO(PNG), "现场照片.png"),
        },  # fmt: skip
        content_type="multipart/form-data",
    )
    assert up.status_code == 302 and up.headers["Location"].endswith(f"/tasks/{report.id}")
    bad = client.post(
        f"/instances/{ids[0]}/attachments",
        data={
            "csrf_token": "t",
            "kind": "evidence",
            "next": "//evil.example/x",
            "file": (io.BytesIO(b"MZ" + bytes(40)), "病毒.pdf"),
        },  # fmt: skip
        content_type="multipart/form-data",
    )
    assert bad.status_code == 302 and bad.headers["Location"].endswith(f"/instances/{ids[0]}")
    assert "仅接受 PDF、PNG 或 JPEG 文件" in visible_text(
        client.get(f"/instances/{ids[0]}").get_data(as_text=True)
    )

    complete(client, luannan, engine, ids[0], "progress_report", "liu",
             {"progress_percent": 100, "summary": "完工", "status_self": "on_track", "final": True})  # fmt: skip
    complete(
        client,
        luannan,
        engine,
        ids[0],
        "completion_report",
        "liu",
        {"summary": "完工", "results": "3 个小区"},
    )
    acceptance = next(t for t in engine.get_instance(ids[0]).open_tasks if t.element_id == "acceptance")
    text = visible_text(read(client, engine, "qian", f"/tasks/{acceptance.id}"))
    assert "现场照片.png 佐证材料 · 72 字节" in text
    assert "病毒.pdf" not in text
