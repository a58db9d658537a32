"""Browser-facing protections every response carries, and how the app learns it sits behind HTTPS.

``init_app(app)`` adds the security headers to every page, API and static response (a
Content-Security-Policy that runs only this site's own script files), and, with
``PROXY_HOPS`` (``JIEBANG_PROXY_HOPS``) set to the number of reverse proxies in front, trusts
that many ``X-Forwarded-For``/``-Proto`` hops so ``request.is_secure`` and the client address are right;
cookies are then marked ``Secure`` on every HTTPS request without further configuration.
"""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Scripts: only files served by this site (no inline code, no eval, no javascript: URLs).
# Stylesheets: only this site's files (no injected <style>, so no CSS selectors probing the page).
# Style *attributes* stay allowed: bpmn-js and dmn-js position and size their elements
# with style="..." set from script, and a style attribute cannot run script or read the page.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-elem 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SessionCookieInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, marked ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app)) or (has_request_context() and request.is_secure)


def add_security_headers(response: Response) -> Response:
    """Set the headers a view did not set itself."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops < 0:
        raise ValueError("PROXY_HOPS (JIEBANG_PROXY_HOPS) must be 0 or the number of proxies in front")
    if hops:
        # Only what a proxy always sets: the client address and the scheme. Host and prefix stay
        # the request's own, so a client cannot steer generated links with X-Forwarded-Host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = SessionCookieInterface()
    app.after_request(add_security_headers)
