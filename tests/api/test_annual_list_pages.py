"""The annual list's task pages: a unit's 联络员 fills the campaign's categories, a panel member
reads every submitted problem with its unit's name, and the units that missed the deadline."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient

from engine import Engine
from tests.campaigns import CATEGORIES, county, liaisons, open_task, problem, start_list

from .conftest import page_login


@pytest.fixture
def luannan(engine: Engine) -> Engine:
    county(engine)
    liaisons(engine)
    return engine


def test_a_unit_fills_its_problems_and_the_panel_reads_them_all(
    client: FlaskClient, luannan: Engine, clock
) -> None:
    _, list_id = start_list(luannan)
    task = open_task(luannan, list_id, "submit_unit_problems", "liu_ll")
    page_login(client, luannan, "liu_ll")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "报送本单位问题" in page and "县住建局" in page and "征集情况" in page
    schema = json.loads(re.search(r'<script[^>]*id="form-schema"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert schema["properties"]["problems"]["items"]["properties"]["category"]["enum"] == CATEGORIES

    luannan.complete(task, "liu_ll", {"problems": [problem("老旧小区雨污分流改造", "城市建设类")]})
    clock.advance(days=20)  # past the deadline: 县农业农村局 and 柏各庄镇 did not submit
    luannan.run_due_jobs()
    review = open_task(luannan, list_id, "panel_review", "sun")
    page_login(client, luannan, "sun")
    page = client.get(f"/tasks/{review}").get_data(as_text=True)
    assert "评审会签" in page and "zjj-1" in page and "老旧小区雨污分流改造" in page
    missing = re.search(r'class="missing-units">(.*?)</dd>', page).group(1)
    assert missing == "县农业农村局、柏各庄镇"  # names, not codes
