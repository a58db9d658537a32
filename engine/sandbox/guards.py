"""The guards diagram code runs under: refused names and attributes, size limits, the time limit.

``Refused`` and ``TimedOut`` are BaseExceptions, so a diagram's ``except Exception:`` cannot
swallow them; ``engine.sandbox.environment`` turns them into the engine's script errors.
"""

from __future__ import annotations

import operator
import re
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from RestrictedPython.transformer import INSPECT_ATTRIBUTES

SCRIPT_FILENAME = "<bpmn-script>"
MAX_ITEMS = 10_000_000  # longest str/bytes/list/tuple a guarded operator may build
MAX_INT_BITS = 1_000_000  # biggest int (~300,000 digits) a guarded operator may build
MAX_RANGE = 100_000  # longest range()
MAX_PRINTED = 10_000  # characters of print() output kept (and then dropped)

_SEQUENCES = (str, bytes, bytearray, list, tuple)
_NUMBERS = (int, float)


# --------------------------------------------------------------------------- internal signals
class Refused(BaseException):  # internal signal, never escapes the sandbox
    """A guard said no. BaseException so a diagram's ``except Exception`` cannot swallow it."""


class TimedOut(BaseException):  # internal signal, never escapes the sandbox
    """Raised by the tracer when the deadline passes."""


# --------------------------------------------------------------------------- attribute policy
_DENIED_ATTRS = frozenset(INSPECT_ATTRIBUTES) | {
    "format",
    "format_map",
    "mro",
    "func_globals",
    "func_code",
    "func_closure",
    "im_func",
    "im_self",
    "f_lasti",
    "gi_running",
    "cr_running",
    "ag_running",
    "exec",
    "eval",
}
_DENIED_ATTR_PREFIXES = ("_", "func_", "f_", "gi_", "cr_", "ag_", "tb_", "co_")
SIZE_METHODS = frozenset(
    {"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "extend", "to_bytes"}
)
SIZED_OWNERS = (*(str, bytes, bytearray, list, tuple), int)
MAX_FORMAT_NUMBER = 10_000  # largest width/precision in a format spec or %-format


def attr_refusal(name: str) -> str | None:
    if name.startswith(_DENIED_ATTR_PREFIXES) or name in _DENIED_ATTRS:
        if name.startswith("_"):
            return f"access to attribute '{name}' is not allowed (names starting with '_' are internals)"
        return f"access to attribute '{name}' is not allowed (it can reach interpreter internals)"
    return None


# Builtins a diagram may not call; they are replaced by stubs that refuse with a clear reason.
FORBIDDEN_CALLS = frozenset(
    {
        "__import__",
        "open",
        "eval",
        "exec",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "vars",
        "globals",
        "locals",
        "dir",
        "type",
        "object",
        "super",
        "input",
        "breakpoint",
        "help",
        "memoryview",
        "bytearray",
        "classmethod",
        "staticmethod",
        "property",
        "exit",
        "quit",
        "reload",
        "execfile",
        "id",
        "callable",
        "isinstance",
        "issubclass",
        "format",
        "iter",
        "next",
    }
)


def _refusing_stub(name: str) -> Callable[..., Any]:
    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise Refused(f"calling {name}() is not allowed in diagram code")

    refused.__name__ = name
    return refused


REFUSING_STUBS = {name: _refusing_stub(name) for name in FORBIDDEN_CALLS}


# --------------------------------------------------------------------------- size guards
def _refuse_size(what: str) -> None:
    raise Refused(f"refused to build {what}: it would exceed the sandbox size limit")


def _check_mul(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int):
        if a.bit_length() + b.bit_length() > MAX_INT_BITS:
            _refuse_size("an integer product that large")
    elif isinstance(a, _SEQUENCES) and isinstance(b, int):
        if len(a) * b > MAX_ITEMS:
            _refuse_size(f"a {type(a).__name__} of {len(a) * b:,} items")
    elif isinstance(b, _SEQUENCES) and isinstance(a, int):
        if len(b) * a > MAX_ITEMS:
            _refuse_size(f"a {type(b).__name__} of {len(b) * a:,} items")


def check_pow(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        if b * (abs(a).bit_length() - 1 or 1) > MAX_INT_BITS:
            _refuse_size(f"{a!r} ** {b!r}")


def _check_add(a: Any, b: Any) -> None:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES) and len(a) + len(b) > MAX_ITEMS:
        _refuse_size(f"a sequence of {len(a) + len(b):,} items")


def _check_lshift(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int) and a and a.bit_length() + b > MAX_INT_BITS:
        _refuse_size(f"{a!r} << {b!r}")


_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")


def _check_spec_numbers(numbers: Any, what: str) -> None:
    for number in numbers:
        if number == "*" or (number and int(number) > MAX_FORMAT_NUMBER):
            _refuse_size(f"{what} with width/precision {number!r} (limit {MAX_FORMAT_NUMBER:,})")


def _check_percent(fmt: Any) -> None:
    if isinstance(fmt, str | bytes):
        text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
        for width, precision in _PERCENT.findall(text):
            _check_spec_numbers((width, precision), "a %-format")


def guarded_mod(a: Any, b: Any) -> Any:
    """``a % b`` unless ``a`` is a %-format asking for a huge width (``'%999999999d' % 1``)."""
    if type(a) is not int and type(a) is not float:
        _check_percent(a)
    return a % b


def guarded_format(value: Any, conversion: int, spec: str) -> str:
    """An f-string field with a format spec, refusing huge widths (``f'{x:>999999999}'``)."""
    _check_spec_numbers(re.findall(r"\d+", spec), "an f-string field")
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    return format(value, spec)


def guarded_mul(a: Any, b: Any) -> Any:
    """``a * b`` unless it would build a huge sequence or integer."""
    if type(a) is not float and type(b) is not float:
        _check_mul(a, b)
    return a * b


def guarded_pow(a: Any, b: Any) -> Any:
    """``a ** b`` unless the integer result would exceed MAX_INT_BITS."""
    check_pow(a, b)
    return a**b


def guarded_add(a: Any, b: Any) -> Any:
    """``a + b`` unless it would build a sequence over MAX_ITEMS (stops ``s = s + s`` doubling)."""
    if type(a) is not int and type(a) is not float:
        _check_add(a, b)
    return a + b


def guarded_lshift(a: Any, b: Any) -> Any:
    """``a << b`` unless the integer result would exceed MAX_INT_BITS."""
    _check_lshift(a, b)
    return a << b


_INPLACE: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], None] | None]] = {
    "+=": (operator.iadd, _check_add),
    "-=": (operator.isub, None),
    "*=": (operator.imul, _check_mul),
    "/=": (operator.itruediv, None),
    "//=": (operator.ifloordiv, None),
    "%=": (operator.imod, lambda a, b: _check_percent(a)),
    "**=": (operator.ipow, check_pow),
    "<<=": (operator.ilshift, _check_lshift),
    ">>=": (operator.irshift, None),
    "&=": (operator.iand, None),
    "|=": (operator.ior, None),
    "^=": (operator.ixor, None),
}


def guarded_inplace(op: str, x: Any, y: Any) -> Any:
    entry = _INPLACE.get(op)
    if entry is None:
        raise Refused(f"the operator {op} is not allowed in diagram scripts")
    fn, check = entry
    if check is not None:
        check(x, y)
    return fn(x, y)


def size_guarded_method(obj: Any, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap methods whose result size is chosen by an argument (``'x'.ljust(10**10)``)."""
    if isinstance(obj, type):
        raise Refused(f"calling {obj.__name__}.{name} on the type is not allowed; call it on a value")

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if name in ("ljust", "rjust", "center", "zfill"):
            width = args[0] if args else kwargs.get("width", 0)
            if isinstance(width, int) and width > MAX_ITEMS:
                _refuse_size(f"a string of {width:,} characters")
        elif name == "expandtabs":
            tab = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tab, int) and len(obj) * max(tab, 1) > MAX_ITEMS:
                _refuse_size("an expanded string that long")
        elif name == "replace" and len(args) >= 2:
            old, new = args[0], args[1]
            if isinstance(old, str | bytes) and isinstance(new, str | bytes) and len(new) > len(old):
                count = obj.count(old)
                limit = args[2] if len(args) > 2 else kwargs.get("count", -1)
                if isinstance(limit, int) and limit >= 0:
                    count = min(count, limit)
                if len(obj) + count * (len(new) - len(old)) > MAX_ITEMS:
                    _refuse_size("a replaced string that long")
        elif name == "join" and args:
            items = list(args[0])
            total = len(obj) * max(len(items) - 1, 0)
            total += sum(len(i) for i in items if isinstance(i, str | bytes))
            if total > MAX_ITEMS:
                _refuse_size(f"a joined string of {total:,} characters")
            return method(items)
        elif name == "to_bytes":
            length = args[0] if args else kwargs.get("length", 1)
            if isinstance(length, int) and length > MAX_ITEMS:
                _refuse_size(f"{length:,} bytes")
        elif name == "extend" and args and hasattr(args[0], "__len__"):
            if len(obj) + len(args[0]) > MAX_ITEMS:
                _refuse_size(f"a list of {len(obj) + len(args[0]):,} items")
        return method(*args, **kwargs)

    return guarded


_MISSING = object()


def guarded_getattr(obj: Any, name: str, default: Any = _MISSING) -> Any:
    """Attribute access for diagram code: no internals, no format tricks, no size bombs."""
    if type(name) is not str:
        raise Refused("attribute names must be strings")
    reason = attr_refusal(name)
    if reason:
        raise Refused(reason)
    if isinstance(obj, ModuleType):
        raise Refused("modules are not available in diagram code")
    value = getattr(obj, name) if default is _MISSING else getattr(obj, name, default)
    if name in SIZE_METHODS and (isinstance(obj, SIZED_OWNERS) or obj in SIZED_OWNERS):
        return size_guarded_method(obj, name, value)
    return value


def write_guard(ob: Any) -> Any:
    if isinstance(ob, dict | list):
        return ob
    raise Refused(
        f"changing a {type(ob).__name__} object is not allowed in diagram scripts "
        "(only dicts and lists can be modified)"
    )


def plain_getitem(ob: Any, index: Any) -> Any:
    return ob[index]


def plain_apply(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


class PrintCollector:
    """Where ``print`` goes in a diagram script: kept briefly, capped, never written anywhere."""

    def __init__(self, _getattr_: Any = None) -> None:
        self.txt: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        if self.size < MAX_PRINTED:
            self.txt.append(text[: MAX_PRINTED - self.size])
            self.size += len(text)

    def __call__(self) -> str:
        return "".join(self.txt)

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        if kwargs.get("file") is not None:
            raise Refused("print(file=...) is not allowed in diagram scripts")
        kwargs["file"] = self
        print(*objects, **kwargs)


# --------------------------------------------------------------------------- safe builtins
def _safe_range(*args: Any) -> range:
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:
        n = MAX_RANGE + 1
    if n > MAX_RANGE:
        raise Refused(f"range() of more than {MAX_RANGE:,} items is not allowed in diagram code")
    return r


def _safe_sum(iterable: Any, start: Any = 0) -> Any:
    if not isinstance(start, _NUMBERS):
        raise Refused("sum() only adds numbers in diagram code (use list concatenation instead)")
    return sum(iterable, start)


SAFE_BUILTINS: dict[str, Any] = {
    "len": len,
    "min": min,
    "max": max,
    "sum": _safe_sum,
    "round": round,
    "abs": abs,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "sorted": sorted,
    "any": any,
    "all": all,
    "dict": dict,
    "list": list,
    "tuple": tuple,
    "set": set,
    "range": _safe_range,
    "enumerate": enumerate,
    "zip": zip,
    "True": True,
    "False": False,
    "None": None,
}
SAFE_EXCEPTIONS: dict[str, Any] = {
    cls.__name__: cls
    for cls in (
        Exception,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        ZeroDivisionError,
        ArithmeticError,
        LookupError,
    )
}


# --------------------------------------------------------------------------- the time limit
_state = threading.local()

#: However busy the machine, a script's wall time stays under this many times its budget.
WALL_CAP = 10


class _Budget:
    """A script's time budget, counted in the thread's own CPU time: time spent waiting for a
    core or the GIL on a loaded server is not the script's doing. The wall clock is read on every
    check (cheap); the thread's CPU clock only once the wall deadline has passed, which then moves
    by what the thread did not use, up to ``WALL_CAP`` times the budget."""

    def __init__(self, limit: float, outer: _Budget | None) -> None:
        self.limit, self.outer = limit, outer
        now = time.monotonic()
        self.cpu_start = time.thread_time()
        self.deadline = now + limit
        self.cap = now + limit * WALL_CAP
        if outer is not None:  # an inner budget never outlasts the one it runs inside
            self.deadline, self.cap = min(self.deadline, outer.deadline), min(self.cap, outer.cap)

    def expired(self) -> bool:
        if self.outer is not None and self.outer.expired():
            return True
        now = time.monotonic()
        if now <= self.deadline:
            return False
        used = time.thread_time() - self.cpu_start
        if used >= self.limit or now >= self.cap:
            return True
        self.deadline = min(now + (self.limit - used), self.cap)
        if self.outer is not None:
            self.deadline = min(self.deadline, self.outer.deadline)
        return False


def run_limited(time_limit: float, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` under a per-thread tracer that raises TimedOut once its budget is spent.

    Every Python frame entered costs one deadline check and no line tracing: that covers
    recursion, simpleeval's recursive evaluator and the helpers. Loops in scripts cannot rely on
    line events (3.11 emits none for a one-line ``while True: pass``), so the compiler puts a
    ``_jb_tick_()`` call in every loop body and comprehension, which checks the same budget.
    The previous tracer is restored afterwards.
    """
    outer = getattr(_state, "budget", None)
    budget = _Budget(time_limit, outer)
    clock, deadline = time.monotonic, budget.deadline

    def global_tracer(frame: Any, event: str, _arg: Any) -> None:
        nonlocal deadline
        if clock() > deadline:
            if budget.expired():
                raise TimedOut
            deadline = budget.deadline
        return None

    previous = sys.gettrace()
    _state.budget = budget
    sys.settrace(global_tracer)
    try:
        return fn(*args)
    finally:
        sys.settrace(previous)
        _state.budget = outer


def tick() -> bool:
    """Injected into every loop iteration of a script: stop it once its budget is spent."""
    budget = getattr(_state, "budget", None)
    if budget is not None and time.monotonic() > budget.deadline and budget.expired():
        raise TimedOut
    return True
