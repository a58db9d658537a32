"""What task data may hold: JSON data of a bounded size, checked without building the JSON.

Task data is stored as JSON on every step, so a value that is not JSON data (a ``range``, a
generator, a set) or that serializes huge (``y = [s] * 3000`` with a 1 MB ``s`` is 3 GB of JSON
but only 3,000 pointers in memory) must be refused where it enters, naming the variable, before
anything tries to encode it. ``measure`` walks a value with an explicit stack and stops as soon
as the budget is spent, so checking costs at most the budget, whatever the value claims to be.

Sizes are counted in characters of compact JSON (a string counts its length plus its quotes),
which is what the limit means; escapes are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from engine.errors import TaskDataError

__all__ = ["DEFAULT_MAX_DATA_BYTES", "MAX_DEPTH", "TaskDataError", "check_data", "check_value", "measure"]

#: The default bound on one instance's data (and on what one script may return), in JSON characters.
DEFAULT_MAX_DATA_BYTES = 1024 * 1024
#: Deepest nesting of lists and dicts task data may have (JSON encoders and decoders recurse).
MAX_DEPTH = 100

_SCALARS = (str, int, float, bool, type(None))
_STRINGS = frozenset({str})
_FLAT = frozenset(_SCALARS)


class _NotJson(Exception):
    """Internal: ``path`` holds a ``kind`` of value that JSON cannot carry."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(path, kind)
        self.path, self.kind = path, kind


Entry = tuple[Any, "Entry | None", Any, int]  # (container, parent entry or None, key in the parent, depth)


def _format_path(entry: Entry | None, name: str, key: Any = None, has_key: bool = False) -> str:
    keys = [key] if has_key else []
    while entry is not None and entry[1] is not None:
        keys.append(entry[2])
        entry = entry[1]
    return name + "".join(f"[{k!r}]" for k in reversed(keys))


def _scalar_size(value: Any) -> int | None:
    kind = type(value)
    if kind is str:
        return len(value) + 2
    if kind is int:
        return value.bit_length() * 3 // 10 + 2
    if kind is bool or value is None:
        return 5
    if kind is float and math.isfinite(value):
        return 24
    return None


def _refusal(value: Any) -> str:
    kind = type(value)
    if kind is float:
        return f"non-finite number {value!r}"
    if isinstance(value, _SCALARS) or isinstance(value, dict | list | tuple):
        return f"{kind.__name__} (a subclass of a JSON type)"
    return kind.__name__


def measure(value: Any, budget: int, name: str = "value") -> int:
    """Approximate compact-JSON size of ``value``; stops counting once it passes ``budget``.

    Raises ``_NotJson`` naming the first path that is not JSON data (tuples count as lists,
    as the JSON encoder writes them) or nests deeper than MAX_DEPTH (a structure that contains
    itself ends there too). Containers of scalars only are counted at C speed; only nested
    containers go on the stack, which keeps the check close to the cost of encoding the data.
    """
    kind = type(value)
    if not (kind is dict or kind is list or kind is tuple):
        size = _scalar_size(value)
        if size is None:
            raise _NotJson(name, _refusal(value))
        return size
    total = 0
    stack: list[Entry] = [(value, None, None, 0)]
    while stack:
        entry = stack.pop()
        item, _, _, depth = entry
        if depth >= MAX_DEPTH:
            raise _NotJson(
                _format_path(entry, name),
                f"structure nested more than {MAX_DEPTH} levels deep (or that contains itself)",
            )
        is_dict = type(item) is dict
        values = item.values() if is_dict else item
        total += 2 + len(item)
        if is_dict and item:
            if set(map(type, item)) != {str}:
                key = next(k for k in item if type(k) is not str)
                raise _NotJson(
                    _format_path(entry, name, key, True), f"{type(key).__name__} key (JSON keys are strings)"
                )
            total += sum(map(len, item)) + 3 * len(item)
        types: AbstractSet[type] = set(map(type, values))
        if str in types:
            total += sum(map(len, [v for v in values if type(v) is str])) + 2 * len(item)
        if types <= _FLAT:  # scalars only: count at C speed
            if int in types:
                ints = [v for v in values if type(v) is int]
                total += sum(map(int.bit_length, ints)) * 3 // 10 + 2 * len(ints)
            if float in types:
                floats = [v for v in values if type(v) is float]
                if all(map(math.isfinite, floats)):
                    total += 24 * len(floats)
                    types = _STRINGS
            else:
                types = _STRINGS
            total += 5 * len(item)  # booleans, None and separators, as an upper bound
        if not types <= _STRINGS:  # containers below, or a value that is not JSON: one by one
            pairs = item.items() if is_dict else enumerate(item)
            for key, child in pairs:
                child_kind = type(child)
                if child_kind is str:
                    continue
                if child_kind is dict or child_kind is list or child_kind is tuple:
                    stack.append((child, entry, key, depth + 1))
                    continue
                size = _scalar_size(child)
                if size is None:
                    raise _NotJson(_format_path(entry, name, key, True), _refusal(child))
                total += size
        if total > budget:
            return total
    return total


def check_value(value: Any, max_bytes: int, what: str) -> int:
    """Size of one value (e.g. an expression's result), or TaskDataError saying why it cannot be data."""
    try:
        size = measure(value, max_bytes, what)
    except _NotJson as exc:
        raise TaskDataError(
            f"{exc.path} holds a {exc.kind}, which is not JSON data "
            "(use lists, dicts, strings, numbers, booleans or None)",
            path=exc.path,
        ) from None
    if size > max_bytes:
        raise TaskDataError(
            f"{what} is too big: over {max_bytes:,} characters as JSON (limit {max_bytes:,})", limit=max_bytes
        )
    return size


def check_data(data: Mapping[str, Any], max_bytes: int, *, where: str = "task data") -> int:
    """Size of a whole task data dict, or TaskDataError naming the variable(s) at fault.

    A variable that is not JSON data is named with the path to the offending value; when the
    total is over ``max_bytes``, the biggest variables are named (each measured within the budget).
    The whole dict is measured in one pass first; variables are measured one by one only to
    explain a refusal.
    """
    if type(data) is dict:
        try:
            total = measure(data, max_bytes, where)
        except _NotJson:
            total = max_bytes + 1  # explained below, variable by variable
        if total <= max_bytes:
            return total
    sizes: dict[str, int] = {}
    total = 2
    for key, value in data.items():
        if type(key) is not str:
            raise TaskDataError(
                f"{where} has a {type(key).__name__} key {key!r}; variable names are strings",
                keys=[repr(key)],
            )
        try:
            size = measure(value, max_bytes + 1, key)
        except _NotJson as exc:
            raise TaskDataError(
                f"variable {key!r} in {where} holds a {exc.kind}{'' if exc.path == key else ' at ' + exc.path}, "
                "which is not JSON data "
                "(use lists, dicts, strings, numbers, booleans or None)",
                keys=[key],
                path=exc.path,
            ) from None
        sizes[key] = size
        total += size + len(key) + 4
    if total > max_bytes:
        biggest = sorted(sizes, key=lambda k: -sizes[k])
        named, covered = [], 0
        for key in biggest:  # the variables that make the data too big, and at least the top three
            named.append(key)
            covered += sizes[key]
            if (total - covered <= max_bytes and len(named) >= 3) or len(named) == 5:
                break
        listing = ", ".join(
            f"{k!r} ({'over ' if sizes[k] > max_bytes else ''}{min(sizes[k], max_bytes):,} characters)"
            for k in named
        )
        raise TaskDataError(
            f"{where} is too big: over {max_bytes:,} characters as JSON; the biggest variable(s): {listing}",
            keys=named,
            limit=max_bytes,
        )
    return total
