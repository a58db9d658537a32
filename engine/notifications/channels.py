"""How a notification leaves: e-mail over SMTP, and the group robots of 钉钉 and 企业微信.

Each sender takes the channel's settings and secret and one rendered message and returns the
attempt (``{"status_code", "error", "duration_ms"}``, as webhook attempts are). A robot's URL is
checked like a webhook's (``integration.transport.resolve_target``: no private network unless
allowed) and posted to the very address checked; a robot answers HTTP 200 with ``errcode`` 0 when
it took the message, so anything else is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.parse
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from ..integration.transport import post_pinned, resolve_target

KINDS = ("email", "dingtalk", "wecom")
ROBOTS = ("dingtalk", "wecom")
SECURITIES = ("starttls", "ssl", "none")
FORMATS = ("markdown", "text")
SMTP_TIMEOUT = 10.0

Attempt = dict[str, Any]


def check_robot_url(url: str, *, allow_private: bool) -> None:
    """Refuse (``ValueError``) a robot URL that is not http(s) or reaches the private network."""
    resolve_target(url, allow_private=allow_private)


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with DingTalk's ``timestamp`` and ``sign`` (HMAC-SHA256 of "timestamp\\nsecret")."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign}"


def robot_body(kind: str, fmt: str, subject: str, body: str) -> bytes:
    """The JSON a robot expects: DingTalk's markdown has a title and text, WeCom's only content."""
    if fmt == "text":
        payload: dict[str, Any] = {"msgtype": "text", "text": {"content": body}}
    elif kind == "dingtalk":
        payload = {"msgtype": "markdown", "markdown": {"title": subject, "text": body}}
    else:
        payload = {"msgtype": "markdown", "markdown": {"content": body}}
    return json.dumps(payload, ensure_ascii=False).encode()


def send_robot(
    kind: str,
    settings: dict[str, Any],
    secret: str | None,
    subject: str,
    body: str,
    *,
    allow_private: bool,
) -> Attempt:
    url = str(settings.get("url") or "")
    if kind == "dingtalk" and secret:
        url = dingtalk_signed_url(url, secret, int(time.time() * 1000))
    data = robot_body(kind, settings.get("format") or "markdown", subject, body)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Jiebang-Notify/1"}
    attempt, answer = post_pinned(url, data, headers, allow_private=allow_private)
    if attempt["error"] is None:
        try:
            said = json.loads(answer or b"{}")
        except ValueError:
            said = {}
        code = said.get("errcode", 0) if isinstance(said, dict) else 0
        if code != 0:
            attempt["error"] = f"errcode {code}: {str(said.get('errmsg', ''))[:200]}"
    return attempt


def send_email(
    settings: dict[str, Any], secret: str | None, address: str, subject: str, body: str
) -> Attempt:
    """Send one plain-text UTF-8 message; the subject is RFC 2047-encoded by the mail library."""
    started = time.monotonic()
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr((str(settings.get("from_name") or "揭榜挂帅"), str(settings["from_address"])))
    msg["To"] = address
    msg["Message-ID"] = make_msgid(domain=str(settings["from_address"]).rpartition("@")[2] or None)
    msg.set_content(body, charset="utf-8")
    host, port = str(settings["host"]), int(settings.get("port") or 25)
    security = settings.get("security") or "starttls"
    error = None
    try:
        connect: Callable[..., smtplib.SMTP] = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
        kwargs: dict[str, Any] = {"timeout": SMTP_TIMEOUT}
        if security == "ssl":
            kwargs["context"] = ssl.create_default_context()
        with connect(host, port, **kwargs) as smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.get("username"):
                smtp.login(str(settings["username"]), secret or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    took = int((time.monotonic() - started) * 1000)
    return {"status_code": None if error else 250, "error": error, "duration_ms": took}
