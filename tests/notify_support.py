"""Stand-ins for the services notifications go to, each a real server on 127.0.0.1: an SMTP server
(aiosmtpd) for e-mail, and an HTTP server standing in for the 钉钉 and 企业微信 robot services
(it checks their JSON shapes and DingTalk's signature as the vendors document them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from engine import Engine

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="notify_demo" name="村道修缮申请" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startVariables" value="title" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" name="初审材料"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="candidateGroups" value="reviewers" />
      <spiffworkflow:property name="dueIn" value="P2D" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="sign" />
    <bpmn:userTask id="sign" name="领导签批"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="candidateGroups" value="leaders" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="sign" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def email_channel_body(mailbox: Mailbox) -> dict[str, Any]:
    """The county's mail server as an admin enters it: the local SMTP stand-in, no TLS."""
    return {
        "kind": "email",
        "name": "县政府邮件",
        "settings": {
            "host": "127.0.0.1",
            "port": mailbox.port,
            "security": "none",
            "from_address": "oa@xian.gov.cn",
        },
    }


def deploy_demo(engine: Engine) -> None:
    engine.deploy({"notify_demo.bpmn": PROCESS.encode()}, actor="admin")


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free loopback port; keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's naming
                outer.raw.append(envelope.original_content)
                outer.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


class Robots:
    """Stands in for the 钉钉 and 企业微信 robot services on 127.0.0.1: it checks each post's JSON
    as the vendors document it (and DingTalk's ``timestamp``/``sign`` when a secret is set), then
    answers ``{"errcode": 0}``, or the queued HTTP statuses first."""

    def __init__(self, dingtalk_secret: str | None = None) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []  # (path, body)
        self.problems: list[str] = []
        self.answers: list[int] = []
        self.secret = dingtalk_secret
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                parts = urlsplit(self.path)
                outer.check(parts.path, parse_qs(parts.query), body)
                outer.posts.append((parts.path, body))
                status = outer.answers.pop(0) if outer.answers else 200
                answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        base = f"http://127.0.0.1:{self.server.server_port}"
        self.dingtalk = f"{base}/robot/send?access_token=dt"
        self.wecom = f"{base}/cgi-bin/webhook/send?key=wx"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check(self, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> None:
        kind = body.get("msgtype")
        if path == "/robot/send":
            if kind == "markdown" and not {"title", "text"} <= set(body.get("markdown", {})):
                self.problems.append("dingtalk markdown needs title and text")
            if self.secret is not None:
                stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
                expected = base64.b64encode(
                    hmac.new(
                        self.secret.encode(), f"{stamp}\n{self.secret}".encode(), hashlib.sha256
                    ).digest()
                ).decode()
                if sign != expected:
                    self.problems.append("dingtalk signature does not match")
                if abs(time.time() * 1000 - int(stamp or 0)) > 3600_000:
                    self.problems.append("dingtalk timestamp more than an hour off")
        elif path == "/cgi-bin/webhook/send":
            if kind == "markdown" and set(body.get("markdown", {})) != {"content"}:
                self.problems.append("wecom markdown has only content")
        else:
            self.problems.append(f"unknown robot path {path}")
        if kind not in ("markdown", "text"):
            self.problems.append(f"unknown msgtype {kind}")

    def texts(self) -> list[str]:
        out = []
        for _, body in self.posts:
            part = body.get("markdown") or body.get("text") or {}
            out.append(part.get("text") or part.get("content") or "")
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
