"""通知设置 and 通知通道 in the browser: a cadre chooses what to be told and their quiet hours; an
admin adds the county's mail server and sends a test message to a real SMTP server on loopback
(aiosmtpd, standing in for the county's). Desk and phone widths, and the English page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.notify_support import Mailbox

from .test_campaigns import no_sideways_scroll
from .test_walk import keep

pytestmark = pytest.mark.browser


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.close()


def test_a_cadre_chooses_what_to_be_told_and_when_not(login, tmp_path: Path) -> None:
    wang = login("wang", viewport=(1366, 768))
    wang.locator(".mainnav a", has_text="通知设置").click()
    assert wang.locator("h1").inner_text() == "通知设置"
    assert wang.locator("input[name=events]:checked").count() == 4  # everything, until chosen
    assert "本县尚未开通" in wang.inner_text("#notify-settings")
    keep(wang, tmp_path, "notify-settings-desk.png")

    wang.locator("input[name=events][value=task_created]").uncheck()
    wang.locator("input[name=events][value=task_due_soon]").uncheck()
    wang.fill("input[name=email]", "不是邮箱")
    wang.fill("input[name=quiet_start]", "22:00")
    wang.click("#notify-settings button[type=submit]")
    assert "设置尚未保存" in wang.inner_text(".flash-error")
    assert "须为电子邮件地址" in wang.inner_text("#error-email")
    assert wang.locator("input[name=events]:checked").count() == 2  # what was chosen is kept
    assert "须同时填写起止时间" in wang.inner_text("#error-quiet_end")

    wang.fill("input[name=email]", "wang@xian.gov.cn")
    wang.fill("input[name=quiet_end]", "07:00")
    wang.click("#notify-settings button[type=submit]")
    assert "通知设置已保存" in wang.inner_text(".flash")
    assert wang.input_value("input[name=email]") == "wang@xian.gov.cn"
    assert wang.input_value("input[name=quiet_start]") == "22:00"
    checked = wang.locator("input[name=events]:checked")
    assert sorted(checked.nth(i).get_attribute("value") for i in range(checked.count())) == [
        "task_overdue",
        "task_urged",
    ]
    assert wang.js_errors == []

    phone = login("wang", viewport=(390, 844))
    phone.goto("/notifications")
    assert no_sideways_scroll(phone) <= 1
    keep(phone, tmp_path, "notify-settings-phone.png")
    phone.goto("/notifications?lang=en")
    assert phone.locator("h1").inner_text() == "Notification settings"
    assert "Quiet hours" in phone.inner_text("main")


def test_an_admin_adds_the_county_mail_server_and_tests_it(login, mailbox: Mailbox, tmp_path: Path) -> None:
    admin = login("admin", viewport=(1366, 768))
    admin.goto("/notifications")
    admin.locator(".crumbs a", has_text="通知通道").click()
    assert admin.locator("h1").inner_text() == "通知通道"

    admin.fill("#new-channel input[name=name]", "县政府邮件")
    admin.click("#new-channel button[type=submit]")
    assert "通道尚未添加" in admin.inner_text(".flash-error")
    assert admin.locator("#error-host").count() == 1 and admin.locator("#error-from_address").count() == 1

    admin.fill("#new-channel input[name=host]", "127.0.0.1")
    admin.fill("#new-channel input[name=port]", str(mailbox.port))
    admin.select_option("#new-channel select[name=security]", "none")
    admin.fill("#new-channel input[name=from_address]", "oa@xian.gov.cn")
    admin.click("#new-channel button[type=submit]")
    assert "已添加通知通道“县政府邮件”" in admin.inner_text(".flash")
    row = admin.locator("#channels tr", has_text="县政府邮件")
    assert "电子邮件" in row.inner_text() and "启用" in row.inner_text()

    row.locator("input[name=to]").fill("zhuren@xian.gov.cn")
    row.locator("button", has_text="发送测试").click()
    assert "测试消息已发出" in admin.inner_text(".flash")
    [mail] = mailbox.messages
    assert mail["To"] == "zhuren@xian.gov.cn" and str(mail["Subject"]) == "任务待办：通道测试"
    keep(admin, tmp_path, "notify-channels-desk.png")
    assert admin.js_errors == []

    phone = login("admin", viewport=(390, 844))
    phone.goto("/notifications/channels")
    assert no_sideways_scroll(phone) <= 1
    keep(phone, tmp_path, "notify-channels-phone.png")
