"""Notifications: 任务待办, 催办, 即将到期 and 已超期 reach people by e-mail and group robots.

E-mail goes to a real SMTP server on loopback (aiosmtpd) and the robots' posts to a local HTTP
server standing in for the 钉钉 and 企业微信 services (``tests/notify_support.py``); time moves on
the manual clock, and the worker's job loop (``run_due_jobs``) does the sending.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import Engine, InvalidInputError, ManualClock, NotAllowedError
from engine.notifications.tables import NotificationDelivery
from engine.observe import Tally
from engine.organisation import PostAssignment, set_posts, upsert_unit
from engine.tables import Job
from tests.notify_support import Mailbox, Robots, deploy_demo, email_channel_body

PEOPLE = {"wang": [], "a": ["reviewers"], "b": ["reviewers"], "boss": ["leaders"]}


@pytest.fixture
def engine(make_engine, clock: ManualClock) -> Engine:
    eng = make_engine()
    eng.webhook_allow_private = True  # the stand-in services listen on loopback
    eng.configure_notifications(base_url="https://oa.example.cn/jiebang")
    for user, groups in PEOPLE.items():
        eng.upsert_user(user, groups=groups, display_name={"a": "张三", "b": "李四"}.get(user, user))
    eng.upsert_user("admin", roles=["admin"])
    deploy_demo(eng)
    return eng


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture
def robots() -> Iterator[Robots]:
    r = Robots(dingtalk_secret="SECxyz")
    yield r
    r.close()


def email_channel(engine: Engine, mailbox: Mailbox) -> str:
    return engine.create_notification_channel("admin", email_channel_body(mailbox)).id


def robot_channels(engine: Engine, robots: Robots) -> None:
    engine.create_notification_channel(
        "admin",
        {"kind": "dingtalk", "name": "钉钉群", "settings": {"url": robots.dingtalk}, "secret": "SECxyz"},
    )
    engine.create_notification_channel(
        "admin", {"kind": "wecom", "name": "企业微信群", "settings": {"url": robots.wecom}}
    )


def work(engine: Engine) -> None:
    """The worker's loop until nothing is due (a due-time job writes deliveries due at once)."""
    while engine.run_due_jobs():
        pass


def deliveries(engine: Engine) -> list[NotificationDelivery]:
    with engine.store.read() as s:
        return list(s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.created_at)))


def test_a_new_task_is_mailed_in_chinese_with_its_names_due_time_and_link(
    engine: Engine, mailbox: Mailbox
) -> None:
    email_channel(engine, mailbox)
    engine.set_notification_preferences("a", {"email": "zhangsan@xian.gov.cn"})
    inst = engine.start("notify_demo", actor="wang", data={"title": "修缮三组村道"})
    assert mailbox.messages == []  # nothing is sent inside the step; the worker sends
    engine.run_due_jobs()
    [mail] = mailbox.messages
    assert mail["To"] == "zhangsan@xian.gov.cn"
    assert str(mail["Subject"]) == "任务待办：初审材料"
    assert b"=?utf-8?" in mailbox.raw[0].split(b"\r\n\r\n")[0].lower()  # the header is RFC 2047-encoded
    assert str(make_header(decode_header(mail["From"]))).startswith("揭榜挂帅")
    body = mail.get_content()
    task = engine.get_instance(inst.id).open_tasks[0]
    assert "张三有一项新的待办任务。" in body
    assert "事项：修缮三组村道" in body and "流程：村道修缮申请" in body
    assert "办理期限：2026-03-04 09:00（北京时间）" in body  # due 01:00 UTC two days on, read in Shanghai
    assert f"https://oa.example.cn/jiebang/tasks/{task.id}" in body
    assert task.id not in body.replace(f"/tasks/{task.id}", "")  # the task is named, never by its id
    [row] = deliveries(engine)
    assert (row.status, row.recipients, len(row.attempts)) == ("delivered", ["a"], 1)


def test_english_when_the_person_chose_it(engine: Engine, mailbox: Mailbox) -> None:
    email_channel(engine, mailbox)
    engine.set_notification_preferences("a", {"email": "a@xian.gov.cn", "language": "en"})
    engine.start("notify_demo", actor="wang")
    engine.run_due_jobs()
    [mail] = mailbox.messages
    assert str(mail["Subject"]) == "New task: 初审材料"
    assert "Due: 2026-03-04 09:00 (Beijing time)" in mail.get_content()


def test_robots_post_once_per_event_naming_everyone_and_escape_what_people_typed(
    engine: Engine, robots: Robots
) -> None:
    robot_channels(engine, robots)
    engine.start("notify_demo", actor="wang", data={"title": "[点我](http://evil.example) **急**"})
    engine.run_due_jobs()
    assert robots.problems == []
    assert sorted(path for path, _ in robots.posts) == ["/cgi-bin/webhook/send", "/robot/send"]
    ding = next(body for path, body in robots.posts if path == "/robot/send")
    assert ding["msgtype"] == "markdown" and ding["markdown"]["title"] == "任务待办：初审材料"
    for text in robots.texts():
        assert "张三、李四有一项新的待办任务。" in text  # one post for the whole group
        assert r"\[点我\]\(http://evil\.example\) \*\*急\*\*" in text  # shown as typed, not a link
        assert "](http://evil" not in text


def test_an_urge_tells_the_holder_and_a_persons_urge_goes_through_quiet_hours(
    engine: Engine, mailbox: Mailbox, clock: ManualClock
) -> None:
    email_channel(engine, mailbox)
    engine.set_notification_preferences(
        "a",
        {"email": "a@xian.gov.cn", "events": ["task_urged"], "quiet_start": "22:00", "quiet_end": "07:00"},
    )
    inst = engine.start("notify_demo", actor="wang")
    task = engine.get_instance(inst.id).open_tasks[0]
    engine.claim(task.id, "a")
    clock.set(datetime(2026, 3, 2, 15, 30, tzinfo=UTC))  # 23:30 in 县城: quiet hours
    engine.urge(task.id, "wang", "今天下班前报送")
    engine.run_due_jobs()
    [mail] = mailbox.messages  # task_created was not wanted; the urge was, at once
    assert str(mail["Subject"]) == "催办：初审材料"
    body = mail.get_content()
    assert "wang催办张三的任务" in body and "催办说明：今天下班前报送" in body


def test_quiet_hours_postpone_to_the_end_of_the_window(
    engine: Engine, mailbox: Mailbox, clock: ManualClock
) -> None:
    email_channel(engine, mailbox)
    engine.set_notification_preferences(
        "a", {"email": "a@xian.gov.cn", "quiet_start": "22:00", "quiet_end": "07:00"}
    )
    clock.set(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # 23:00 local
    engine.start("notify_demo", actor="wang")
    [row] = deliveries(engine)
    assert row.not_before == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 07:00 local the next morning
    clock.advance(hours=7, minutes=59)
    engine.run_due_jobs()
    assert mailbox.messages == []
    clock.advance(minutes=1)
    engine.run_due_jobs()
    assert len(mailbox.messages) == 1


def test_due_soon_and_overdue_come_from_jobs_and_stop_when_the_task_closes(
    engine: Engine, robots: Robots, clock: ManualClock
) -> None:
    robot_channels(engine, robots)
    first = engine.start("notify_demo", actor="wang")
    second = engine.start("notify_demo", actor="wang")
    work(engine)
    robots.posts.clear()
    done = engine.get_instance(second.id).open_tasks[0]
    engine.claim(done.id, "b")
    engine.complete(done.id, "b", {})  # closed: its due-time jobs go with it
    work(engine)
    robots.posts.clear()
    clock.advance(days=1, minutes=1)  # 24 hours before the due time
    work(engine)
    texts = robots.texts()
    assert len(texts) == 2 and all("即将到期" in t and "张三、李四的任务即将到期" in t for t in texts)
    robots.posts.clear()
    clock.advance(days=1)
    work(engine)
    assert len(robots.texts()) == 2 and all("已超期" in t for t in robots.texts())
    with engine.store.read() as s:
        left = s.scalars(select(Job).where(Job.kind.like("notification%"))).all()
    assert left == []
    assert engine.get_instance(first.id).open_tasks  # told, not moved


def test_failed_posts_are_retried_with_back_off_then_end_failed_and_counted(
    engine: Engine, robots: Robots, clock: ManualClock
) -> None:
    engine.create_notification_channel(
        "admin", {"kind": "wecom", "name": "企业微信群", "settings": {"url": robots.wecom}}
    )
    tallies: list[Tally] = []
    engine.observe(tallies.append)
    robots.answers = [500] * 20
    engine.start("notify_demo", actor="wang")
    waits = []
    for _ in range(8):
        engine.run_due_jobs()
        with engine.store.read() as s:
            job = s.scalars(select(Job).where(Job.kind == "notification")).first()
        if job is None:
            break
        waits.append(job.due_at - clock.now())
        clock.set(job.due_at)
    assert waits == [timedelta(seconds=5 * 2**n) for n in range(7)]
    [row] = deliveries(engine)
    assert row.status == "failed" and len(row.attempts) == 8 and row.attempts[-1]["error"] == "HTTP 500"
    assert sum(t.notifications_failed["task_created"] for t in tallies) == 1
    log, total = engine.list_notification_deliveries("admin", status="failed")
    assert total == 1 and log[0].channel_name == "企业微信群" and log[0].recipients == ["a", "b"]


def test_a_step_that_rolls_back_announces_nothing(engine: Engine, robots: Robots) -> None:
    robot_channels(engine, robots)

    def refuse(step, ctx) -> None:  # a reaction that refuses rolls the whole step back
        if any(ht.element_id == "review" for ht in ctx.created_tasks):
            raise InvalidInputError("refused", {"title": ["no"]})

    engine.steps.reactions.append(refuse)
    with pytest.raises(InvalidInputError):
        engine.start("notify_demo", actor="wang")
    engine.run_due_jobs()
    assert deliveries(engine) == [] and robots.posts == []


def test_preferences_choose_events_and_channels(engine: Engine, mailbox: Mailbox, robots: Robots) -> None:
    email_channel(engine, mailbox)
    robot_channels(engine, robots)
    engine.set_notification_preferences("a", {"email": "a@xian.gov.cn", "channels": ["email"]})
    engine.set_notification_preferences("b", {"events": ["task_overdue"]})
    engine.start("notify_demo", actor="wang")
    engine.run_due_jobs()
    assert [m["To"] for m in mailbox.messages] == ["a@xian.gov.cn"]
    assert robots.posts == []  # a wants only e-mail; b only overdue notices
    prefs = engine.notification_preferences("b")
    assert prefs.events == ["task_overdue"] and prefs.available == ["dingtalk", "email", "wecom"]
    assert engine.notification_preferences("boss").events == [
        "task_created",
        "task_urged",
        "task_due_soon",
        "task_overdue",
    ]


def test_another_tenants_channel_is_never_used(engine: Engine, robots: Robots) -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with engine.store.write() as s:
        for code, parent in (("xian_a", None), ("town_a", "xian_a"), ("xian_b", None), ("town_b", "xian_b")):
            upsert_unit(
                s,
                code,
                name=code,
                kind="county" if parent is None else "town",
                parent=parent,
                attributes=None,
                now=now,
            )
        set_posts(s, "wang", [PostAssignment("town_a", "科员")])
        set_posts(s, "a", [PostAssignment("town_a", "科员")])
    engine.upsert_user("admin_b", roles=["admin"])
    with engine.store.write() as s:
        set_posts(s, "admin_b", [PostAssignment("town_b", "科员")])
    engine.create_notification_channel(
        "admin_b", {"kind": "wecom", "name": "乙县群", "settings": {"url": robots.wecom}}
    )
    engine.start("notify_demo", actor="wang")  # 甲县's instance
    engine.run_due_jobs()
    assert robots.posts == [] and deliveries(engine) == []
    engine.create_notification_channel(
        "admin",
        {"kind": "dingtalk", "name": "全市群", "settings": {"url": robots.dingtalk}, "secret": "SECxyz"},
    )
    engine.start("notify_demo", actor="wang")
    engine.run_due_jobs()
    assert [path for path, _ in robots.posts] == ["/robot/send"]  # the installation's, not 乙县's
    assert [c.name for c in engine.list_notification_channels("admin_b")] == ["乙县群"]


def test_channels_are_checked_and_their_secrets_never_shown(engine: Engine) -> None:
    engine.webhook_allow_private = False
    with pytest.raises(InvalidInputError) as private:
        engine.create_notification_channel(
            "admin", {"kind": "dingtalk", "name": "内网", "settings": {"url": "http://127.0.0.1:9/robot"}}
        )
    assert "不是公网地址" in private.value.errors["settings.url"][0]
    with pytest.raises(InvalidInputError) as bad:
        engine.create_notification_channel(
            "admin", {"kind": "email", "name": "邮件", "settings": {"port": 0}}
        )
    assert set(bad.value.errors) == {"settings.host", "settings.port", "settings.from_address"}
    with pytest.raises(NotAllowedError):
        engine.list_notification_channels("wang")
    made = engine.create_notification_channel(
        "admin",
        {
            "kind": "email",
            "name": "邮件",
            "settings": {"host": "smtp.xian.gov.cn", "from_address": "oa@xian.gov.cn"},
            "secret": "pw",
        },
    )
    assert made.has_secret and "pw" not in repr(made)
    renamed = engine.update_notification_channel(
        made.id, "admin", {"name": "县政府邮件", "settings": {"from_address": "noreply@xian.gov.cn"}}
    )
    assert renamed.has_secret and renamed.settings["from_address"] == "noreply@xian.gov.cn"
    changed = engine.update_notification_channel(
        made.id, "admin", {"settings": {"port": 465, "security": "ssl"}, "secret": "pw"}
    )
    assert changed.has_secret and changed.settings["port"] == 465


def test_the_password_is_not_sent_to_a_server_it_was_not_given_for(engine: Engine, mailbox: Mailbox) -> None:
    """An admin who points the county's mail channel at another server must type its password
    again: otherwise pressing 测试 would log in there with the county's stored password."""
    made = engine.create_notification_channel(
        "admin",
        {
            "kind": "email",
            "name": "县政府邮件",
            "settings": {"host": "smtp.xian.gov.cn", "username": "oa", "from_address": "oa@xian.gov.cn"},
            "secret": "county-smtp-password",
        },
    )
    for moved in (
        {"host": "127.0.0.1", "port": mailbox.port, "security": "none"},
        {"port": 2525},
        {"security": "ssl"},
        {"username": "someone-else"},
    ):
        with pytest.raises(InvalidInputError) as refused:
            engine.update_notification_channel(made.id, "admin", {"settings": moved})
        assert "重新填写密码" in refused.value.errors["secret"][0]
    [kept] = engine.list_notification_channels("admin")
    assert kept.settings["host"] == "smtp.xian.gov.cn" and kept.has_secret  # nothing changed


def test_a_channel_whose_address_no_longer_passes_can_still_be_stopped(
    engine: Engine, robots: Robots
) -> None:
    made = engine.create_notification_channel(
        "admin", {"kind": "wecom", "name": "企业微信群", "settings": {"url": robots.wecom}}
    )
    engine.webhook_allow_private = False  # the operator turned loopback targets off since
    stopped = engine.update_notification_channel(
        made.id, "admin", {"active": False, "name": "企业微信群（停用）"}
    )
    assert (stopped.active, stopped.name) == (False, "企业微信群（停用）")
    with pytest.raises(InvalidInputError):  # changing where it posts is checked as ever
        engine.update_notification_channel(made.id, "admin", {"settings": {"url": robots.wecom}})


def test_quiet_hours_take_ascii_clock_times_only(engine: Engine) -> None:
    with pytest.raises(InvalidInputError):
        engine.set_notification_preferences("a", {"quiet_start": "２２:００", "quiet_end": "07:00"})
    assert engine.notification_preferences("a").quiet_start is None


APPROVAL = Path(__file__).resolve().parent.parent / "data" / "engine" / "approval.bpmn"


def approval_engine(make_engine, robots: Robots, mode: str, people: dict[str, list[str]]) -> Engine:
    """The approval test diagram with signing ``mode``, its people, and a 企业微信 robot."""
    engine = make_engine()
    engine.webhook_allow_private = True
    for user, groups in people.items():
        engine.upsert_user(user, groups=groups)
    engine.upsert_user("admin", roles=["admin"])
    xml = APPROVAL.read_text().replace("__AUTO__", "never").replace("__MODE__", mode)
    engine.deploy({"approval.bpmn": xml.encode()}, actor="admin")
    engine.create_notification_channel(
        "admin", {"kind": "wecom", "name": "企业微信群", "settings": {"url": robots.wecom}}
    )
    return engine


def test_signers_are_told_and_the_systems_own_reminder_waits_out_quiet_hours(
    make_engine, clock: ManualClock, robots: Robots
) -> None:
    engine = approval_engine(
        make_engine, robots, "all", {"wang": [], "a": ["reviewers"], "b": ["reviewers"], "s1": [], "s2": []}
    )
    for person in ("a", "b"):
        engine.set_notification_preferences(
            person, {"events": ["task_urged"], "quiet_start": "22:00", "quiet_end": "07:00"}
        )

    clock.set(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # 23:00 in 县城
    inst = engine.start("approval_demo", actor="wang", data={"signers": ["s1", "s2"]})
    engine.complete(engine.get_instance(inst.id).open_tasks[0].id, "wang", {"title": "修缮村道"})
    work(engine)
    robots.posts.clear()
    clock.advance(days=2, minutes=1)  # the review's timeout (P2D, remind): 23:01, quiet for a and b
    work(engine)
    assert robots.posts == []  # the system's reminder waits; a person's urge would not
    clock.set(datetime(2026, 3, 4, 23, 0, tzinfo=UTC))  # 07:00 the next morning
    work(engine)
    [reminder] = robots.texts()
    assert "系统催办a、b的任务" in reminder and "超时提醒" in reminder

    review = next(t for t in engine.get_instance(inst.id).open_tasks if t.element_id == "review")
    engine.claim(review.id, "a")
    engine.complete(review.id, "a", {"decision": "approve"})
    work(engine)
    assert "s1、s2有一项新的待办任务。" in robots.texts()[-1]  # 会签: each signer whose turn it is


def test_whoever_a_task_is_handed_to_is_told(engine: Engine, mailbox: Mailbox) -> None:
    """转办, 委派 and its return, and added signers: each new holder hears of the task as of a new one."""
    email_channel(engine, mailbox)
    for person in ("a", "boss", "wang", "b"):
        engine.set_notification_preferences(person, {"email": f"{person}@xian.gov.cn"})
    inst = engine.start("notify_demo", actor="wang", data={"title": "修缮三组村道"})
    task = engine.get_instance(inst.id).open_tasks[0]
    work(engine)
    mailbox.messages.clear()

    engine.claim(task.id, "a")
    engine.transfer(task.id, "a", "boss", "请领导处理")
    work(engine)
    assert [m["To"] for m in mailbox.messages] == ["boss@xian.gov.cn"]
    assert "boss有一项新的待办任务。" in mailbox.messages[0].get_content()

    mailbox.messages.clear()
    engine.delegate(task.id, "boss", "b")
    work(engine)
    assert [m["To"] for m in mailbox.messages] == ["b@xian.gov.cn"]

    mailbox.messages.clear()
    engine.complete(task.id, "b", {"decision": "approve"})  # the delegate's work goes back to boss
    work(engine)
    assert [m["To"] for m in mailbox.messages] == ["boss@xian.gov.cn"]

    mailbox.messages.clear()
    engine.add_signers(task.id, "boss", ["a", "wang"], "parallel")
    work(engine)
    assert sorted(m["To"] for m in mailbox.messages) == ["a@xian.gov.cn", "wang@xian.gov.cn"]


def test_in_sequential_signing_the_next_signer_is_told_when_their_turn_comes(
    make_engine, robots: Robots
) -> None:
    engine = approval_engine(
        make_engine, robots, "sequential", {"wang": [], "a": ["reviewers"], "s1": [], "s2": []}
    )
    inst = engine.start("approval_demo", actor="wang", data={"signers": ["s1", "s2"]})
    engine.complete(engine.get_instance(inst.id).open_tasks[0].id, "wang", {"title": "修缮村道"})
    review = next(t for t in engine.get_instance(inst.id).open_tasks if t.element_id == "review")
    engine.claim(review.id, "a")
    engine.complete(review.id, "a", {"decision": "approve"})
    work(engine)
    assert "s1有一项新的待办任务。" in robots.texts()[-1]  # only the first signer's turn has come

    assert engine.list_tasks("s2").items == []
    [first] = engine.list_tasks("s1").items
    robots.posts.clear()
    engine.complete(first.id, "s1", {"decision": "approve"})
    work(engine)
    assert len(robots.texts()) == 1 and "s2有一项新的待办任务。" in robots.texts()[0]


def test_nobody_is_told_of_their_own_action_and_a_robot_posts_once_for_all_added_signers(
    engine: Engine, mailbox: Mailbox, robots: Robots
) -> None:
    email_channel(engine, mailbox)
    robot_channels(engine, robots)
    for person in ("a", "b", "wang"):
        engine.set_notification_preferences(person, {"email": f"{person}@xian.gov.cn"})
    task = engine.start("notify_demo", actor="wang", data={"title": "修缮三组村道"}).open_tasks[0]
    engine.claim(task.id, "a")
    work(engine)
    mailbox.messages.clear()
    robots.posts.clear()

    engine.add_signers(task.id, "a", ["b", "wang"], "parallel")
    work(engine)
    assert sorted(m["To"] for m in mailbox.messages) == ["b@xian.gov.cn", "wang@xian.gov.cn"]
    assert len(robots.texts()) == 2  # one post per robot (钉钉, 企业微信), naming both
    assert all("李四" in t and "wang" in t for t in robots.texts())

    engine.remove_signer(task.id, "a", "b")
    engine.remove_signer(task.id, "a", "wang")
    mailbox.messages.clear()
    engine.add_signers(task.id, "a", ["b"], "before")
    engine.remove_signer(task.id, "a", "b")  # the step comes back to a, who did this
    work(engine)
    assert [m["To"] for m in mailbox.messages] == ["b@xian.gov.cn"]  # b, added; never a
