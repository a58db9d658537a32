"""SSRF: a webhook may only target a globally routable address, whatever form the URL writes it in.

Every target below is refused at registration (422 naming ``url``) and again right before a post,
so a name that later resolves into the intranet is caught too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from engine import Engine, InvalidInputError
from engine.integration.transport import post_signed, resolve_target
from tests.api.conftest import Auth, make_app

REFUSED = [
    ("http://127.0.0.1/", "loopback"),
    ("http://localhost:8080/", "loopback by name"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://10.1.2.3/", "private 10/8"),
    ("http://172.16.0.1/", "private 172.16/12"),
    ("http://192.168.1.1/", "private 192.168/16"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://169.254.169.254/latest/meta-data", "link-local cloud metadata"),
    ("http://192.0.0.8/", "IPv4 dummy address (IETF protocol assignments)"),
    ("http://192.0.0.170/", "NAT64 discovery"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://240.0.0.1/", "reserved"),
    ("http://224.0.0.1/", "multicast"),
    ("http://2130706433/", "decimal 127.0.0.1"),
    ("http://0177.0.0.1/", "octal 127.0.0.1"),
    ("http://0x7f.0.0.1/", "hex 127.0.0.1"),
    ("http://127.1/", "short 127.0.0.1"),
    ("http://[::1]/", "IPv6 loopback"),
    ("http://[::]/", "IPv6 unspecified"),
    ("http://[fe80::1]/", "IPv6 link-local"),
    ("http://[fc00::1]/", "IPv6 unique local"),
    ("http://[fec0::1]/", "IPv6 site-local"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped loopback"),
    ("http://[::ffff:a9fe:a9fe]/", "IPv4-mapped metadata"),
    ("http://[::127.0.0.1]/", "IPv4-compatible loopback"),
    ("http://[64:ff9b::a9fe:a9fe]/", "NAT64 to the metadata address"),
    ("http://[64:ff9b::7f00:1]/", "NAT64 to loopback"),
    ("http://[64:ff9b:1::a00:1]/", "local-use NAT64"),
    ("http://[2002:7f00:1::1]/", "6to4 of loopback"),
    ("http://[2002:a00:1::1]/", "6to4 of 10.0.0.1"),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "Teredo whose client is 127.0.0.1"),
    ("http://[2001:db8::1]/", "IPv6 documentation"),
    ("http://[ff02::1]/", "IPv6 multicast"),
    ("ftp://example.com/", "not http(s)"),
    ("http:///nohost", "no host"),
]

PUBLIC = [
    "http://8.8.8.8/hook",
    "https://1.1.1.1:8443/hook",
    "http://[2606:4700:4700::1111]/hook",
    "http://[64:ff9b::808:808]/hook",
]


@pytest.mark.parametrize(("url", "why"), REFUSED, ids=[why for _, why in REFUSED])
def test_a_non_public_target_is_refused_before_connecting(url: str, why: str) -> None:
    with pytest.raises(ValueError):
        resolve_target(url, allow_private=False)
    attempt = post_signed(url, "task.created", b"{}", "s", allow_private=False)
    assert attempt["status_code"] is None and attempt["error"].startswith("refused"), why


@pytest.mark.parametrize("url", PUBLIC)
def test_a_public_target_passes_the_guard(url: str) -> None:
    scheme, _, _, address = resolve_target(url, allow_private=False)
    assert scheme in ("http", "https") and address


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    built = Engine(sqlite_url)
    built.configure_integration(allow_private_webhooks=False)
    yield built
    built.store.dispose()


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    return make_app(
        {"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test", "WEBHOOK_ALLOW_LOOPBACK": False}
    ).test_client()


def test_registration_refuses_every_non_public_target_and_stores_none(
    engine: Engine, client: FlaskClient
) -> None:
    auth = Auth(engine)
    auth.user("admin", roles=["admin"])
    for url, why in REFUSED:
        resp = client.post(
            "/api/v1/webhooks",
            json={"url": url, "events": ["task.created"], "secret": "s"},
            headers=auth.headers("admin"),
        )
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", (
            why,
            resp.status_code,
        )
        assert "url" in resp.get_json()["errors"], why
        with pytest.raises(InvalidInputError):
            engine.create_webhook(url, ["task.created"], "s", actor="admin")
    assert engine.list_webhooks() == []
