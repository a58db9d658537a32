"""滦南's claims in the engine, without Flask: a campaign's rank rule, a team's people checked field by
field, members without a login in statistics but not in the ledger, and the attachment store's
own checks (types by their bytes, the size limit, file names, who reads what)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine, InvalidInputError, ManualClock, NotAllowedError, NotFoundError, TooLargeError
from engine import organisation as org
from engine.attachments.service import clean_filename, sniff
from engine.challenge.team import guest_key, shape
from tests.campaigns import campaign_body, county, problem_list

PDF = b"%PDF-1.4\n%%EOF\n"
GUEST = {"name": "王建国", "unit": "zjj", "phone": "13800138000", "share": 40}


@pytest.fixture
def luannan(engine: Engine) -> Engine:
    county(engine)
    engine.upsert_user("sun", groups=["committee"])
    engine.upsert_user("qian", groups=["evaluator"])
    return engine


def on_the_board(engine: Engine, count: int = 1, **campaign: object) -> list[str]:
    created = engine.create_campaign("zzb_admin", campaign_body(list_approved=True, **campaign))
    ids = engine.import_problems(created.id, "zzb_admin", problem_list(count)).instances
    engine.publish_campaign(created.id, "zzb_admin")
    return ids


def individual(**more: object) -> dict[str, object]:
    return {"kind": "individual", "plan": "逐户走访", "pledge": "不破不休", **more}


# ---- the team's people, as a pure check ------------------------------------------------------------
def test_a_claim_s_people_default_to_its_filer_and_name_a_principal_on_a_campaign() -> None:
    assert shape(individual(), "liu", principal_required=True) == {
        "kind": "individual", "leader": "liu", "principal": "liu",
        "members": [{"username": "liu", "share": 100}]}  # fmt: skip
    assert shape(individual(), "liu", principal_required=False)["principal"] is None
    team = shape(
        {**individual(kind="team"), "leader": "gao", "members": [{"username": "chen", "share": 60}, GUEST]},
        "liu",
        principal_required=False,
    )
    assert team["members"] == [{"username": "liu", "share": 0}, {"username": "chen", "share": 60}, GUEST]
    assert team["leader"] == "gao"


@pytest.mark.parametrize(
    ("member", "field"),
    [
        ({**GUEST, "phone": "138-0013-8000"}, "members.1.phone"),
        ({**GUEST, "phone": "1380013800"}, "members.1.phone"),  # ten digits
        ({**GUEST, "name": "名" * 51}, "members.1.name"),
        ({**GUEST, "unit": "  "}, "members.1.unit"),
        ({**GUEST, "share": float("nan")}, "members.1.share"),
    ],
)
def test_a_member_without_a_login_needs_a_name_a_unit_and_a_real_phone(member: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        shape({**individual(kind="team"), "members": [{"username": "liu", "share": 60}, member]}, "liu",
              principal_required=False)  # fmt: skip
    assert field in refused.value.errors


def test_the_same_person_twice_in_a_team_is_refused_with_or_without_a_login() -> None:
    for twice in (
        [{"username": "chen", "share": 50}, {"username": "chen", "share": 50}],
        [GUEST, {**GUEST, "share": 60}],
    ):
        with pytest.raises(InvalidInputError) as refused:
            shape({**individual(kind="team"), "members": twice}, "liu", principal_required=False)
        assert "成员重复" in refused.value.errors["members"][0]
    assert guest_key(GUEST) == "王建国·13800138000"


# ---- rank rule, leader, ledger and statistics ----------------------------------------------------------
def test_the_rank_rule_follows_the_posts_people_hold_now(luannan: Engine) -> None:
    [problem] = on_the_board(luannan, claim_ranks=["股级"])
    with pytest.raises(InvalidInputError) as refused:
        luannan.file_claim(problem, "liu", individual())  # 科级
    assert "本题仅限股级干部揭榜" in refused.value.errors["rank"][0]
    with luannan.store.write() as s:  # 刘 takes a 股级 post as well
        org.set_posts(
            s, "liu", [org.PostAssignment("zjj", "副局长", "科级"), org.PostAssignment("zjj", "股长", "股级")]
        )
    assert luannan.file_claim(problem, "liu", individual())["claim"]["filed_by"] == "liu"


def test_members_without_a_login_are_counted_but_score_nothing(luannan: Engine, clock: ManualClock) -> None:
    [problem] = on_the_board(luannan)
    campaign = luannan.list_campaigns("zzb_admin")[0]
    team = {**individual(kind="team"), "principal": "chen",
            "members": [{"username": "liu", "share": 30}, {"username": "chen", "share": 30}, GUEST]}  # fmt: skip
    luannan.file_claim(problem, "liu", team)
    clock.advance(timedelta(days=15))
    luannan.run_due_jobs(limit=50)

    def do(element: str, user: str, data: dict[str, object]) -> None:
        task = next(t for t in luannan.get_instance(problem).open_tasks if t.element_id == element)
        luannan.complete(task.id, user, data)

    do("select_claim", "sun", {"selected": 0})
    do(
        "progress_report",
        "liu",
        {"progress_percent": 100, "summary": "完工", "status_self": "on_track", "final": True},
    )
    do("completion_report", "liu", {"summary": "完工", "results": "3 个小区"})
    do("acceptance", "qian", {"decision": "pass", "grade": "good"})
    data = luannan.get_instance(problem).data
    assert [e["username"] for e in data["ledger"]] == ["liu", "chen"]
    assert data["claimant"]["principal"] == "chen"
    by_rank = {r.key: r.people for r in luannan.campaign_stats(campaign.id, "liu", "rank")}
    assert by_rank == {"科级": 1, "股级": 1, "未定级": 1}  # the guest has no rank


# ---- the attachment store ------------------------------------------------------------------------------
def test_types_are_read_from_the_bytes_and_names_kept_plain() -> None:
    assert sniff(PDF) == "application/pdf" and sniff(b"\x89PNG\r\n\x1a\n") == "image/png"
    assert sniff(b"\xff\xd8\xff\xdb") == "image/jpeg"
    assert sniff(b"MZ\x90\x00") is None and sniff(b"<html><script>") is None and sniff(b"") is None
    assert clean_filename("C:\\Users\\liu\\军令状.pdf") == "军令状.pdf"
    assert clean_filename("../../.bashrc") == "bashrc" and clean_filename("a\x00b\n.pdf") == "ab.pdf"
    assert clean_filename(None) == "file" and len(clean_filename("x" * 500)) == 200


def test_an_upload_over_the_limit_or_of_another_kind_stores_nothing(luannan: Engine) -> None:
    [problem] = on_the_board(luannan)
    with pytest.raises(TooLargeError):
        luannan.upload_attachment(
            problem, "liu", kind="pledge", filename="a.pdf", content=PDF * 100, max_bytes=100
        )
    with pytest.raises(InvalidInputError):
        luannan.upload_attachment(problem, "liu", kind="invoice", filename="a.pdf", content=PDF)
    with pytest.raises(NotAllowedError):  # evidence is for those who work the problem
        luannan.upload_attachment(problem, "liu", kind="evidence", filename="a.pdf", content=PDF)
    assert luannan.list_attachments(problem, "zzb_admin") == []
    assert "attachment.uploaded" not in [e.event for e in luannan.history(problem)]


def test_a_pledge_is_its_uploader_s_until_the_instance_is_theirs_to_see(luannan: Engine) -> None:
    [problem] = on_the_board(luannan)
    pledge = luannan.upload_attachment(problem, "liu", kind="pledge", filename="军令状.pdf", content=PDF)
    assert [a.id for a in luannan.list_attachments(problem, "liu")] == [pledge.id]
    assert luannan.list_attachments(problem, "chen") == []
    with pytest.raises(NotAllowedError):
        luannan.download_attachment(pledge.id, "chen")
    assert luannan.download_attachment(pledge.id, "zzb_admin")[1] == PDF  # the importer started it
    luannan.upsert_user("wu")
    with luannan.store.write() as s:
        org.upsert_unit(
            s, "qianxi", name="迁西县", kind="county", parent=None, attributes=None, now=luannan.clock.now()
        )
        org.set_posts(s, "wu", [org.PostAssignment("qianxi", "副局长", "科级")])
    for call in (
        lambda: luannan.download_attachment(pledge.id, "wu"),
        lambda: luannan.list_attachments(problem, "wu"),
    ):
        with pytest.raises(NotFoundError):
            call()
    with pytest.raises(NotFoundError):
        luannan.download_attachment("no-such-file", "liu")
