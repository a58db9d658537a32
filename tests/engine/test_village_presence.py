"""Presence in the village (against 走读式驻村): stays logged by the person or the OA, counted per
person and village, with each village's 总队长 marked."""

from __future__ import annotations

import pytest

from engine import Engine, InvalidInputError, NotAllowedError
from tests.villages import county


@pytest.fixture
def engine(make_engine) -> Engine:
    built = make_engine()
    built.deploy_shipped()
    county(built)
    built.upsert_user("oa", display_name="OA", roles=["oa-service"])
    proposal = built.propose_village_leader("organiser", "shahe", "yuan")
    built.complete(proposal.open_tasks[0].id, "changwei", {"decision": "confirm"})
    return built


def test_visits_and_nights_are_counted_per_leader_and_village(engine: Engine) -> None:
    engine.log_visit("yuan", {"village": "shahe", "day": "2026-02-10", "nights": 2, "note": "院落会"})
    engine.log_visit("yuan", {"village": "shahe", "day": "2026-02-20"})
    engine.log_visit("organiser", {"village": "shahe", "day": "2026-02-21", "nights": 1, "username": "clerk"})
    engine.log_visit("yuan", {"village": "sanhe", "day": "2026-01-05", "nights": 0})

    rows = engine.village_presence("organiser")
    assert [(r.display_name, r.village_name, r.visits, r.nights, r.is_leader) for r in rows] == [
        ("袁守波", "沙河村", 2, 2, True),
        ("普通干部", "沙河村", 1, 1, False),
        ("袁守波", "三合村", 1, 0, False),
    ]
    february = engine.village_presence("organiser", since="2026-02-01", until="2026-02-28")
    assert {(r.village, r.username) for r in february} == {("shahe", "yuan"), ("shahe", "clerk")}


def test_a_cadre_logs_only_their_own_stays_and_the_oa_logs_for_anyone(engine: Engine) -> None:
    with pytest.raises(NotAllowedError):
        engine.log_visit("clerk", {"village": "shahe", "day": "2026-02-10", "username": "yuan"})
    logged = engine.log_visit(
        "oa", {"village": "shahe", "day": "2026-02-10", "nights": 3, "username": "yuan"}
    )
    assert (logged.username, logged.recorded_by, logged.village_name) == ("yuan", "oa", "沙河村")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"village": "shahe", "day": "2099-01-01"}, "day"),
        ({"village": "shahe", "day": "02/10/2026"}, "day"),
        ({"village": "shahe", "day": "2026-02-10", "nights": 40}, "nights"),
        ({"village": "changan", "day": "2026-02-10"}, "village"),  # a town, not a village
    ],
)
def test_a_bad_stay_is_refused_field_by_field(engine: Engine, body: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        engine.log_visit("yuan", body)
    assert field in refused.value.errors
