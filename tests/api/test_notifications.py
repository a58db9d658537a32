"""The notification routes: channels for admins (secrets never shown), each person's own
preferences, the delivery log; and a channel's test message through the stand-in robot service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from engine import Engine, ManualClock
from tests.notify_support import Mailbox, Robots, deploy_demo, email_channel_body

from .conftest import HttpWalk, make_app


@pytest.fixture
def app(engine: Engine) -> Flask:
    return make_app(
        {
            "ENGINE": engine,
            "TESTING": True,
            "WEBHOOK_ALLOW_LOOPBACK": True,
            "BASE_URL": "https://oa.example.cn",
        }
    )


@pytest.fixture
def robots() -> Iterator[Robots]:
    r = Robots(dingtalk_secret="SECabc")
    yield r
    r.close()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.close()


def test_an_admin_configures_a_robot_tests_it_and_reads_the_log(
    walk: HttpWalk, robots: Robots, engine: Engine, clock: ManualClock
) -> None:
    made = walk.call(
        "POST",
        "/notification-channels",
        "admin",
        201,
        json={
            "kind": "dingtalk",
            "name": "县委办钉钉群",
            "settings": {"url": robots.dingtalk},
            "secret": "SECabc",
        },
    )
    assert made["has_secret"] is True and "secret" not in made and made["settings"]["format"] == "markdown"
    assert walk.call("POST", f"/notification-channels/{made['id']}/test", "admin", json={})["error"] is None
    assert robots.problems == [] and "通道测试" in robots.texts()[0]
    listed = walk.call("GET", "/notification-channels", "admin")
    assert listed["total"] == 1 and "secret" not in listed["items"][0]

    engine.upsert_user("shen", groups=["reviewers"], display_name="沈审核")
    deploy_demo(engine)
    walk.call("POST", "/process-instances", "wang", 201, json={"process_key": "notify_demo"})
    while engine.run_due_jobs():
        pass
    log = walk.call("GET", "/notification-deliveries?status=delivered", "admin")
    assert log["total"] == 1
    item = log["items"][0]
    assert (item["event"], item["channel_name"], item["recipients"], item["subject"]) == (
        "task_created",
        "县委办钉钉群",
        ["shen"],
        "任务待办：初审材料",
    )
    assert "](https://oa.example.cn/tasks/" in robots.texts()[-1]  # the link uses BASE_URL

    renamed = walk.call(
        "PATCH", f"/notification-channels/{made['id']}", "admin", json={"name": "县委办群", "active": False}
    )
    assert renamed["name"] == "县委办群" and renamed["active"] is False and renamed["has_secret"] is True
    walk.call("DELETE", f"/notification-channels/{made['id']}", "admin", 204)
    assert walk.call("GET", "/notification-channels", "admin")["total"] == 0


def test_mail_test_goes_to_the_admins_own_address(walk: HttpWalk, mailbox: Mailbox) -> None:
    made = walk.call(
        "POST",
        "/notification-channels",
        "admin",
        201,
        json=email_channel_body(mailbox),
    )
    refused = walk.call("POST", f"/notification-channels/{made['id']}/test", "admin", 422, json={})
    assert "to" in refused["errors"]  # no address of their own yet
    walk.call(
        "PUT",
        "/me/notification-preferences",
        "admin",
        json={"events": ["task_created"], "channels": ["email"], "email": "admin@xian.gov.cn"},
    )
    assert walk.call("POST", f"/notification-channels/{made['id']}/test", "admin", json={})["error"] is None
    assert [m["To"] for m in mailbox.messages] == ["admin@xian.gov.cn"]


def test_channels_are_for_admins_and_bad_ones_are_422(walk: HttpWalk) -> None:
    body = {
        "kind": "wecom",
        "name": "群",
        "settings": {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"},
    }
    walk.call("POST", "/notification-channels", "wang", 403, json=body)
    walk.call("GET", "/notification-channels", "wang", 403)
    walk.call("GET", "/notification-deliveries", "wang", 403)
    bad = walk.call("POST", "/notification-channels", "admin", 422, json={**body, "kind": "fax"})
    assert "kind" in bad["errors"]
    bad = walk.call(
        "POST",
        "/notification-channels",
        "admin",
        422,
        json={"kind": "email", "name": "邮件", "settings": {"port": 70000}},
    )
    assert "settings" in bad["errors"] or "settings.port" in bad["errors"]
    bad = walk.call(
        "POST",
        "/notification-channels",
        "admin",
        422,
        json={"kind": "email", "name": "邮件", "settings": {"host": "smtp"}},
    )
    assert "settings.from_address" in bad["errors"]


def test_each_person_reads_and_replaces_only_their_own_preferences(walk: HttpWalk) -> None:
    mine = walk.call("GET", "/me/notification-preferences", "wang")
    assert mine["events"] == ["task_created", "task_urged", "task_due_soon", "task_overdue"]
    assert mine["language"] == "zh_CN" and mine["quiet_start"] is None and mine["available"] == []
    put = walk.call(
        "PUT",
        "/me/notification-preferences",
        "wang",
        json={
            "events": ["task_urged", "task_overdue"],
            "channels": ["email", "dingtalk"],
            "email": "wang@xian.gov.cn",
            "language": "en",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    assert put["events"] == ["task_overdue", "task_urged"] and put["quiet_end"] == "07:00"
    assert walk.call("GET", "/me/notification-preferences", "zhao")["email"] is None  # not wang's
    bad = walk.call(
        "PUT",
        "/me/notification-preferences",
        "wang",
        422,
        json={"events": ["task_lunch"], "channels": ["fax"], "email": "not-mail", "quiet_start": "25:00"},
    )
    assert {"events.0", "channels.0", "email", "quiet_start"} <= set(bad["errors"])
    half = walk.call(
        "PUT",
        "/me/notification-preferences",
        "wang",
        422,
        json={"events": [], "channels": [], "quiet_start": "22:00"},
    )
    assert "quiet_end" in half["errors"]
