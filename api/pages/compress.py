"""gzip for the pages' static files (scripts, stylesheets, SVG): the designer's libraries and the
task form's scripts are sent compressed to browsers that accept it. Each file is compressed once
per version (path, size, mtime) and kept in memory; the set of files is fixed, so the cache is too.
"""

from __future__ import annotations

import gzip
import os

from flask import Response, request

__all__ = ["compress_static"]

_TYPES = ("application/javascript", "text/javascript", "text/css", "image/svg+xml")
_MIN_BYTES = 1024
_cache: dict[tuple[str, int, float], bytes] = {}


def compress_static(response: Response) -> Response:
    """Answer with the gzip of a static file when the browser accepts gzip (a hook on the assets)."""
    if (
        response.status_code != 200
        or response.mimetype not in _TYPES
        or "gzip" not in (request.headers.get("Accept-Encoding") or "").lower()
        or response.headers.get("Content-Encoding")
    ):
        return response
    response.vary.add("Accept-Encoding")
    filename = getattr(getattr(response, "response", None), "file", None)
    name = getattr(filename, "name", None)
    if isinstance(name, str) and os.path.isfile(name):
        stat = os.stat(name)
        key = (name, stat.st_size, stat.st_mtime)
    else:
        key = None
    body = _cache.get(key) if key else None
    if body is None:
        response.direct_passthrough = False
        raw = response.get_data()
        if len(raw) < _MIN_BYTES:
            return response
        body = gzip.compress(raw, compresslevel=9, mtime=0)
        if key:
            _cache[key] = body
    response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(body))
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}-gz", weak=weak)
    return response
