"""The one rule for JSON a caller sends: what may enter the engine, and how it is parsed.

Python's ``json`` accepts ``NaN``/``Infinity`` (not JSON; nothing downstream can emit them again),
lone surrogates such as ``"\\ud800"`` (no UTF-8 form, so no database stores them), NUL characters
(PostgreSQL refuses them in text and jsonb) and nesting deep enough to exhaust the recursion
limit. ``strict_json_loads`` parses and ``check_json_value`` vets an already-built value; both
raise ``InvalidInputError`` naming the field, so the API answers 422 and nothing is stored.
API bodies, page forms, deployed form schemas and task data all pass through here.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import InvalidInputError

__all__ = ["MAX_DEPTH", "check_json_value", "check_text", "strict_json_loads", "text_problem"]

MAX_DEPTH = 64  # objects and arrays nested deeper than any form needs
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def strict_json_loads(text: str | bytes, *, where: str = "") -> Any:  # any JSON value
    """``json.loads`` that refuses non-finite numbers, bad text and deep nesting.

    A syntax error stays ``json.JSONDecodeError`` (a malformed body, 400 to HTTP callers); a body
    that parses but holds what the engine cannot keep raises ``InvalidInputError`` (422).
    """
    try:
        value = json.loads(text)  # NaN/Infinity load as floats, so the check below can name their field
    except RecursionError:
        raise _invalid(where, f"nested deeper than {MAX_DEPTH} levels / 嵌套超过 {MAX_DEPTH} 层") from None
    check_json_value(value, where)
    return value


def check_json_value(value: Any, where: str = "") -> None:  # any JSON value
    """Raise InvalidInputError at the first non-finite number, bad text or too-deep nesting.

    Iterative, so a hostile depth cannot exhaust the stack while it is being measured.
    """
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                raise _invalid(
                    path, "must be a finite number (NaN and Infinity are refused) / 必须是有限数值"
                )
        elif isinstance(item, str):
            reason = text_problem(item)
            if reason:
                raise _invalid(path, reason)
        elif isinstance(item, dict | list | tuple):
            if depth >= MAX_DEPTH:
                raise _invalid(path, f"nested deeper than {MAX_DEPTH} levels / 嵌套超过 {MAX_DEPTH} 层")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and text_problem(key):
                    raise _invalid(child_path, f"field name: {text_problem(key)}")
                stack.append((child, child_path, depth + 1))


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL character or a lone surrogate), or None."""
    bad = _BAD_TEXT.search(text)
    if bad is None:
        return None
    if bad.group() == "\x00":
        return "must not contain NUL characters (\\u0000) / 不能包含 NUL 字符"
    return (
        f"holds a lone surrogate (\\u{ord(bad.group()):04x}), which is not text / 包含无效的 Unicode 代理字符"
    )


def check_text(text: str, where: str) -> None:
    """Raise InvalidInputError when a plain text field (a query argument, a form field) cannot be stored."""
    reason = text_problem(text)
    if reason:
        raise _invalid(where, reason)


def _invalid(path: str, message: str) -> InvalidInputError:
    field = (
        _BAD_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", path) or "_body"
    )  # the error must be storable text itself
    return InvalidInputError(f"{field}: {message}", {field: [message]})
