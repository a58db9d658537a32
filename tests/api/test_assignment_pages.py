"""A task nobody holds the post for is a visible incident: the instance page flags it and admins see it listed."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine import Engine
from tests.engine.test_assignment import county, posts, start

from .conftest import page_login


def test_a_vacant_post_shows_on_the_instance_page_and_in_the_admins_list(
    client: FlaskClient, engine: Engine
) -> None:
    county(engine)
    posts(engine, "zhang")  # 蒋家坪村 has no 书记
    task_id = start(engine, "post:书记@data:unit", {"unit": "jjp"})
    instance_id = engine.get_task(task_id).task.instance_id
    engine.upsert_user("admin", roles=["admin"])

    page_login(client, engine, "wang")
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "无人担任 书记 @ 蒋家坪村" in page and "书记 @ jjp" in page
    assert "无人可分派的任务" not in client.get("/instances").get_data(as_text=True)  # not an admin

    page_login(client, engine, "admin")
    listing = client.get("/instances").get_data(as_text=True)
    assert "无人可分派的任务" in listing and "无人担任 书记 @ 蒋家坪村" in listing
    english = client.get("/instances?lang=en").get_data(as_text=True)
    assert "Nobody holds 书记 @ 蒋家坪村" in english and "无人担任" not in english

    posts(engine, "chen", ("jjp", "书记"))  # someone takes the post: the flag is gone
    assert "无人担任" not in client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "无人可分派的任务" not in client.get("/instances").get_data(as_text=True)
