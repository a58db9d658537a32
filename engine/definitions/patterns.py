"""Regular expressions from form schemas (``pattern``, ``patternProperties``): vetted, then matched
in linear time.

A form's author writes its patterns, and a backtracking engine spends exponential time on
``^(a+)+$`` against ``aaaa…b``: on the server (Python's ``re``) and in every reviewer's browser
(json-editor checks patterns with JavaScript's engine). So deployment refuses patterns with a
nested or overlapping quantifier, naming the form and the field, and the server matches with
RE2 (``google-re2``), whose time grows linearly with the input. Patterns RE2 cannot compile
(lookaround, backreferences) fall back to ``re``; they passed the same deploy-time check.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

# The parsed form of a pattern is the only way to see its quantifiers; typeshed does not describe
# these private modules of re.
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import re2

__all__ = ["schema_pattern_problems", "search", "unsafe_reason"]

MAX_FIXED_REPEATS = 10  # (\\d{1,3}\\.){3} stays cheap; (.*a){12} does not
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a pattern RE2 cannot compile is expected (lookaround), not news for stderr
    options.never_capture = True
    return options


_OPTIONS = _re2_options()


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Callable[[str], Any]:
    try:
        return re2.compile(pattern, _OPTIONS).search
    except re2.error:
        return re.compile(pattern).search  # lookaround or backreference: vetted at deploy


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text`` (JSON Schema's unanchored semantics)."""
    return _compiled(pattern)(text) is not None


def unsafe_reason(pattern: str) -> str | None:
    """Why ``pattern`` could make a backtracking engine take exponential time (or is no regex), or None."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"is not a valid regular expression ({exc})"
    return _risky(parsed)


def schema_pattern_problems(schema: Any) -> Iterator[tuple[str, str, str]]:  # any JSON Schema
    """``(field path, pattern, reason)`` for every unsafe ``pattern``/``patternProperties`` key."""
    stack: list[tuple[Any, str]] = [(schema, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        if isinstance(node.get("patternProperties"), dict):
            found += [k for k in node["patternProperties"] if isinstance(k, str)]
        for pattern in found:
            reason = unsafe_reason(pattern)
            if reason:
                yield _field(path), pattern, reason
        stack.extend(
            (child, f"{path}.{key}" if path else str(key))
            for key, child in node.items()
            if isinstance(child, dict | list)
        )


def _field(path: str) -> str:
    """``properties.members.items.properties.phone`` -> ``members.phone``: the path a user knows."""
    skip = {
        "properties",
        "items",
        "patternProperties",
        "additionalProperties",
        "$defs",
        "definitions",
        "allOf",
        "anyOf",
        "oneOf",
    }
    parts = [p for p in path.split(".") if p and p not in skip and not p.isdigit()]
    return ".".join(parts) or "(form)"


def _risky(sub: Any) -> str | None:  # a parsed pattern
    """The first quantifier that may repeat many times a part whose own length varies.

    Such a part can split one input in exponentially many ways (``(a+)+``, ``(\\w+\\s?)*``,
    ``(a|aa)+``, ``(.*a){12}``), and a backtracking engine tries them all before failing. A part
    of fixed length (``(\\d{3}-)+``, ``(foo|bar)*``) splits one way only.
    """
    for op, av in sub:
        if op in _REPEATS:
            _, high, body = av
            low_width, high_width = body.getwidth()
            if high > MAX_FIXED_REPEATS and low_width != high_width:
                return "repeats a part whose own length varies, e.g. (a+)+ or (\\w+\\s?)*, which backtracks exponentially"
            reason = _risky(body)
        elif op == sre.SUBPATTERN:
            reason = _risky(av[3])
        elif op == sre.BRANCH:
            reason = next((r for r in map(_risky, av[1]) if r), None)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            reason = _risky(av[1])
        elif op == sre.ATOMIC_GROUP:
            reason = _risky(av)
        else:
            reason = None
        if reason:
            return reason
    return None
