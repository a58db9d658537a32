"""How a webhook delivery reaches its target: the ``Transport`` seam, the real poster and a fake.

The real poster checks the target (only public addresses unless allowed; DNS is asked again before
each post) and connects to the very address it checked. ``FakeTransport`` records what would have
been posted and answers with a chosen status, for tests that need no listening server.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

WEBHOOK_TIMEOUT = 10.0


class Transport(Protocol):
    """What the webhook outbox needs from the network."""

    def check_target(self, url: str, *, allow_private: bool) -> None:
        """Refuse (``ValueError``, a bilingual reason) a URL deliveries may not go to."""

    def post(self, url: str, event: str, body: bytes, secret: str, *, allow_private: bool) -> dict[str, Any]:
        """POST one signed delivery; the attempt as ``{"status_code", "error", "duration_ms"}``."""


class HttpTransport:
    """The real network: ``resolve_target`` at registration, ``post_signed`` for each delivery."""

    def check_target(self, url: str, *, allow_private: bool) -> None:
        resolve_target(url, allow_private=allow_private)

    def post(self, url: str, event: str, body: bytes, secret: str, *, allow_private: bool) -> dict[str, Any]:
        return post_signed(url, event, body, secret, allow_private=allow_private)


@dataclass
class Posted:
    """One delivery a ``FakeTransport`` received, with the headers the real poster would send."""

    url: str
    event: str
    body: bytes
    signature: str


@dataclass
class FakeTransport:
    """Accepts any http(s) URL and answers each post with the next of ``statuses`` (then the last)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    posted: list[Posted] = field(default_factory=list)

    def check_target(self, url: str, *, allow_private: bool) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http(s) URL with a host / 须为 http(s) 地址")

    def post(self, url: str, event: str, body: bytes, secret: str, *, allow_private: bool) -> dict[str, Any]:
        self.posted.append(Posted(url, event, body, sign(body, secret)))
        status = self.statuses[min(len(self.posted), len(self.statuses)) - 1]
        return {
            "status_code": status,
            "error": None if 200 <= status < 300 else f"HTTP {status}",
            "duration_ms": 0,
        }


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def resolve_target(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    """Check a webhook URL; returns (scheme, host, port, address to connect to).

    Every address the name resolves to must be public unless ``allow_private``: a hostile URL
    must not reach the intranet. Called at registration and again before each post (DNS can
    change in between), and the post connects to the address checked here.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an http(s) URL with a host / 须为 http(s) 地址")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValueError(f"host does not resolve ({exc}) / 无法解析主机") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if not allow_private and not is_public_address(address):
            raise ValueError(
                f"target {address} is not a public address / 目标地址不是公网地址（内网、回环或保留地址）"
            )
    return parts.scheme, parts.hostname, port, addresses[0]


# Special-purpose ranges (IANA registries, RFC 6890 and successors) that Python 3.11's ``is_global``
# still calls global, or that only carry another address inside.
_NOT_PUBLIC = [
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.0/24",  # IETF protocol assignments: 192.0.0.8 dummy, 192.0.0.170 NAT64 discovery, ...
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
        "fec0::/10",  # site-local (deprecated)
        "5f00::/16",  # SRv6 SIDs
        "3fff::/20",  # documentation
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo).

    A host that routes these forms reaches the IPv4 address inside, so that one must be public too.
    """
    inner: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        inner.append(ip.ipv4_mapped)
    if ip in _NAT64 or ip in _COMPATIBLE:
        inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        inner.append(ip.sixtofour)
    if ip.teredo is not None:
        inner.extend(ip.teredo)
    return inner


def is_public_address(address: str) -> bool:
    """Whether a webhook may connect to ``address``: globally routable, unicast, nothing private inside."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if (
        not ip.is_global
        or ip.is_multicast
        or any(ip in net for net in _NOT_PUBLIC if net.version == ip.version)
    ):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(is_public_address(str(v4)) for v4 in embedded_ipv4(ip))
    return True


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post_signed(url: str, event: str, body: bytes, secret: str, *, allow_private: bool) -> dict[str, Any]:
    """POST ``body`` with the event and signature headers; returns the attempt as a dict."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Jiebang-Webhook/1",
        "X-Jiebang-Event": event,
        "X-Jiebang-Signature": sign(body, secret),
    }
    attempt, _ = post_pinned(url, body, headers, allow_private=allow_private)
    return attempt


def post_pinned(
    url: str, body: bytes, headers: dict[str, str], *, allow_private: bool
) -> tuple[dict[str, Any], bytes]:
    """POST ``body`` to a checked target; the attempt as a dict and the first 64 KiB of the answer.

    http.client rather than urllib.request: the connection must go to the address that
    ``resolve_target`` checked (no second lookup an attacker's DNS could answer differently).
    """
    started = time.monotonic()
    try:
        scheme, host, port, address = resolve_target(url, allow_private=allow_private)
    except ValueError as exc:
        return {"status_code": None, "error": f"refused: {exc}", "duration_ms": 0}, b""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn_cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = conn_cls(host, port, address, WEBHOOK_TIMEOUT)
    answer = b""
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        answer = resp.read(65536)
        status: int | None = resp.status
        error = None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except (OSError, http.client.HTTPException) as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    took = int((time.monotonic() - started) * 1000)
    return {"status_code": status, "error": error, "duration_ms": took}, answer
