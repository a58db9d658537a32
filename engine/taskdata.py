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
from typing import Any

from engine.errors import TaskDataError

__all__ = ["DEFAULT_MAX_DATA_BYTES", "MAX_DEPTH", "TaskDataError", "check_data", "check_value", "measure"]

#: The default bound on one instance's data (and on what one script may return), in JSON characters.
DEFAULT_MAX_DATA_BYTES = 1024 * 1024
#: Deepest nesting of lists and dicts task data may have (JSON encoders and decoders recurse).
MAX_DEPTH = 100

_SCALARS = (str, int, float, bool, type(None))


class _NotJson(Exception):
    """Internal: ``path`` holds a ``kind`` of value that JSON cannot carry."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(path, kind)
        self.path, self.kind = path, kind


_CLOSE = object()  # stack marker: the container below is finished


def _path(parent: str, key: Any) -> str:
    return f"{parent}[{key!r}]"


def measure(value: Any, budget: int, name: str = "value") -> int:
    """Approximate compact-JSON size of ``value``; stops counting once it passes ``budget``.

    Raises ``_NotJson`` naming the first path that is not JSON data (tuples count as lists,
    as the JSON encoder writes them) or nests deeper than MAX_DEPTH, or refers to itself.
    """
    total = 0
    stack: list[tuple[Any, str, int]] = [(value, name, 0)]
    open_containers: set[int] = set()
    while stack:
        item, path, depth = stack.pop()
        if item is _CLOSE:
            open_containers.discard(depth)
            continue
        kind = type(item)
        if kind is str:
            total += len(item) + 2
        elif kind is bool or item is None:
            total += 5
        elif kind is int:
            total += item.bit_length() * 3 // 10 + 2
        elif kind is float:
            if not math.isfinite(item):
                raise _NotJson(path, f"non-finite number {item!r}")
            total += 24
        elif kind is dict or kind is list or kind is tuple:
            if depth >= MAX_DEPTH:
                raise _NotJson(path, f"structure nested more than {MAX_DEPTH} levels deep")
            ident = id(item)
            if ident in open_containers:
                raise _NotJson(path, "structure that contains itself")
            open_containers.add(ident)
            stack.append((_CLOSE, path, ident))
            total += 2 + len(item)
            if kind is dict:
                for key, child in item.items():
                    if type(key) is not str:
                        raise _NotJson(_path(path, key), f"{type(key).__name__} key (JSON keys are strings)")
                    total += len(key) + 3
                    stack.append((child, _path(path, key), depth + 1))
            else:
                for index, child in enumerate(item):
                    stack.append((child, _path(path, index), depth + 1))
        elif isinstance(item, _SCALARS) or isinstance(item, dict | list | tuple):
            raise _NotJson(path, f"{kind.__name__} (a subclass of a JSON type)")
        else:
            raise _NotJson(path, kind.__name__)
        if total > budget:
            return total
    return total


def check_value(value: Any, max_bytes: int, what: str) -> int:
    """Size of one value (e.g. an expression's result), or TaskDataError saying why it cannot be data."""
    try:
        size = measure(value, max_bytes, what)
    except _NotJson as exc:
        raise TaskDataError(f"{exc.path} holds a {exc.kind}, which is not JSON data "
                            "(use lists, dicts, strings, numbers, booleans or None)", path=exc.path) from None
    if size > max_bytes:
        raise TaskDataError(f"{what} is too big: over {max_bytes:,} characters as JSON (limit {max_bytes:,})",
                            limit=max_bytes)
    return size


def check_data(data: Mapping[str, Any], max_bytes: int, *, where: str = "task data") -> int:
    """Size of a whole task data dict, or TaskDataError naming the variable(s) at fault.

    A variable that is not JSON data is named with the path to the offending value; when the
    total is over ``max_bytes``, the biggest variables are named (each measured within the budget).
    """
    sizes: dict[str, int] = {}
    total = 2
    for key, value in data.items():
        if type(key) is not str:
            raise TaskDataError(f"{where} has a {type(key).__name__} key {key!r}; variable names are strings",
                                keys=[repr(key)])
        try:
            size = measure(value, max_bytes + 1, key)
        except _NotJson as exc:
            raise TaskDataError(
                f"variable {key!r} in {where} holds a {exc.kind}{'' if exc.path == key else ' at ' + exc.path}, "
                "which is not JSON data "
                "(use lists, dicts, strings, numbers, booleans or None)", keys=[key], path=exc.path) from None
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
        listing = ", ".join(f"{k!r} ({'over ' if sizes[k] > max_bytes else ''}{min(sizes[k], max_bytes):,} characters)"
                            for k in named)
        raise TaskDataError(f"{where} is too big: over {max_bytes:,} characters as JSON; the biggest "
                            f"variable(s): {listing}", keys=named, limit=max_bytes)
    return total
