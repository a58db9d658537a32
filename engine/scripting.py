"""The restricted script environment every diagram's code runs in.

One concept, at length: every guard a sandbox needs sits here so it can be read as one policy.

SpiffWorkflow evaluates scripts and expressions with plain ``eval``/``exec`` and full builtins,
so a diagram could run ``__import__('os').system(...)`` as the engine's user. This
module plugs a sandbox into Spiff's extension point instead:

* **Expressions** (gateway conditions, timers, DMN input expressions and cells, multi-instance,
  loop and completion conditions, message payload/correlation expressions) go through simpleeval's
  ``EvalWithCompoundTypes``. Names are task data + helpers + safe builtins. Names and attributes
  starting with ``_``, frame/generator internals and ``str.format``/``format_map`` are refused.
* **Scripts** (scriptTask, pre/post scripts) are compiled by RestrictedPython with a stricter
  policy (no imports, no classes, no bare ``except:``/``finally``) and run with task data as their
  namespace, so assigned variables become task data exactly as with Spiff's TaskDataEnvironment.
* **Resources**: ``*``, ``**``, ``+``, ``<<`` and ``%`` are rewritten into guarded calls that
  refuse results over ~10 million items or ~1 million bits (and %-/f-string widths over 10,000);
  size-taking methods (``ljust``, ``replace``, ``join``, ``to_bytes``...) are checked the same way;
  ``range`` is capped at 100,000 items. A per-thread ``sys.settrace`` tracer (call events only)
  plus a tick compiled into every loop and comprehension stop code that runs past ``time_limit``
  seconds, in any thread, restoring any previous tracer. The timeout and the guards raise a
  ``BaseException`` internally, so ``except Exception:`` in a diagram cannot swallow them.
* **Isolation**: all of the above is the first layer. The engine's script engine
  (``make_script_engine``) runs every script, and every expression that is not a plain
  comparison (``cheap_expression``), in a worker process of ``engine.sandbox_pool`` that has an
  address-space and CPU limit and is killed when it overruns the time limit, because one C-level
  operation (``[a] * 900 == [b] * 900``) runs without ever reaching a tracer or a tick. What a
  script leaves in task data must be JSON data within the data limit (``engine.taskdata``).

Helpers available to diagrams: ``now()``, ``add_duration(iso_datetime, iso_duration)``,
``to_utc(iso)``; safe builtins: ``len min max sum round abs int float str bool sorted any all dict
list tuple set range enumerate zip`` and a few exception classes for ``raise``/``except``.

How errors surface (what the engine's caller catches):

* ``make_script_engine`` returns a ``SandboxScriptEngine``: script/expression failures are raised
  as this project's ``ScriptError`` / ``SandboxViolationError`` / ``ScriptTimeoutError`` directly,
  *not* wrapped in Spiff's ``WorkflowTaskException``. ``err.context`` carries ``task_id``,
  ``bpmn_id``, ``task_name``, ``line`` and ``error_type``; the original Python error is
  ``__cause__``.
* Spiff's DMN code wraps every error of a businessRuleTask into ``WorkflowTaskException``; ours is
  then in its ``__context__`` chain. ``script_error_from(exc)`` finds it in either case, so the
  caller of ``do_engine_steps()``/``task.run()`` can do
  ``except Exception as exc: err = script_error_from(exc)``.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import sys
import threading
import time
import warnings
from collections import ChainMap
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

import simpleeval
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import durations
from engine.errors import SandboxViolationError, ScriptError, ScriptTimeoutError

__all__ = [
    "SandboxEnvironment",
    "SandboxScriptEngine",
    "make_script_engine",
    "cheap_expression",
    "check_expression",
    "check_script",
    "check_dmn_cell",
    "script_error_from",
    "HELPER_NAMES",
]

SCRIPT_FILENAME = "<bpmn-script>"
MAX_ITEMS = 10_000_000          # longest str/bytes/list/tuple a guarded operator may build
MAX_INT_BITS = 1_000_000        # biggest int (~300,000 digits) a guarded operator may build
MAX_RANGE = 100_000             # longest range()
MAX_PRINTED = 10_000            # characters of print() output kept (and then dropped)
HELPER_NAMES = frozenset({"now", "add_duration", "to_utc"})

_SEQUENCES = (str, bytes, bytearray, list, tuple)
_NUMBERS = (int, float)


# --------------------------------------------------------------------------- internal signals
class _Refused(BaseException):  # internal signal, never escapes this module
    """A guard said no. BaseException so a diagram's ``except Exception`` cannot swallow it."""


class _Timeout(BaseException):  # internal signal, never escapes this module
    """Raised by the tracer when the deadline passes."""


# --------------------------------------------------------------------------- attribute policy
_DENIED_ATTRS = frozenset(INSPECT_ATTRIBUTES) | {
    "format", "format_map", "mro", "func_globals", "func_code", "func_closure", "im_func",
    "im_self", "f_lasti", "gi_running", "cr_running", "ag_running", "exec", "eval",
}
_DENIED_ATTR_PREFIXES = ("_", "func_", "f_", "gi_", "cr_", "ag_", "tb_", "co_")
_SIZE_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "extend", "to_bytes"})
_SIZED_OWNERS = (*(str, bytes, bytearray, list, tuple), int)
MAX_FORMAT_NUMBER = 10_000      # largest width/precision in a format spec or %-format


def _attr_refusal(name: str) -> str | None:
    if name.startswith(_DENIED_ATTR_PREFIXES) or name in _DENIED_ATTRS:
        if name.startswith("_"):
            return f"access to attribute '{name}' is not allowed (names starting with '_' are internals)"
        return f"access to attribute '{name}' is not allowed (it can reach interpreter internals)"
    return None


# Builtins a diagram may not call; they are replaced by stubs that refuse with a clear reason.
_FORBIDDEN_CALLS = frozenset({
    "__import__", "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "hasattr",
    "vars", "globals", "locals", "dir", "type", "object", "super", "input", "breakpoint", "help",
    "memoryview", "bytearray", "classmethod", "staticmethod", "property", "exit", "quit",
    "reload", "execfile", "id", "callable", "isinstance", "issubclass", "format", "iter", "next",
})


def _refusing_stub(name: str) -> Callable[..., Any]:
    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise _Refused(f"calling {name}() is not allowed in diagram code")

    refused.__name__ = name
    return refused


_STUBS = {name: _refusing_stub(name) for name in _FORBIDDEN_CALLS}


# --------------------------------------------------------------------------- size guards
def _refuse_size(what: str) -> None:
    raise _Refused(f"refused to build {what}: it would exceed the sandbox size limit")


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


def _check_pow(a: Any, b: Any) -> None:
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
    _check_pow(a, b)
    return a ** b


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
    "**=": (operator.ipow, _check_pow),
    "<<=": (operator.ilshift, _check_lshift),
    ">>=": (operator.irshift, None),
    "&=": (operator.iand, None),
    "|=": (operator.ior, None),
    "^=": (operator.ixor, None),
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    entry = _INPLACE.get(op)
    if entry is None:
        raise _Refused(f"the operator {op} is not allowed in diagram scripts")
    fn, check = entry
    if check is not None:
        check(x, y)
    return fn(x, y)


def _size_guarded_method(obj: Any, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap methods whose result size is chosen by an argument (``'x'.ljust(10**10)``)."""
    if isinstance(obj, type):
        raise _Refused(f"calling {obj.__name__}.{name} on the type is not allowed; call it on a value")

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
        raise _Refused("attribute names must be strings")
    reason = _attr_refusal(name)
    if reason:
        raise _Refused(reason)
    if isinstance(obj, ModuleType):
        raise _Refused("modules are not available in diagram code")
    value = getattr(obj, name) if default is _MISSING else getattr(obj, name, default)
    if name in _SIZE_METHODS and (isinstance(obj, _SIZED_OWNERS) or obj in _SIZED_OWNERS):
        return _size_guarded_method(obj, name, value)
    return value


def _write_guard(ob: Any) -> Any:
    if isinstance(ob, dict | list):
        return ob
    raise _Refused(f"changing a {type(ob).__name__} object is not allowed in diagram scripts "
                   "(only dicts and lists can be modified)")


def _getitem(ob: Any, index: Any) -> Any:
    return ob[index]


def _apply(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


class _PrintCollector:
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
            raise _Refused("print(file=...) is not allowed in diagram scripts")
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
        raise _Refused(f"range() of more than {MAX_RANGE:,} items is not allowed in diagram code")
    return r


def _safe_sum(iterable: Any, start: Any = 0) -> Any:
    if not isinstance(start, _NUMBERS):
        raise _Refused("sum() only adds numbers in diagram code (use list concatenation instead)")
    return sum(iterable, start)


SAFE_BUILTINS: dict[str, Any] = {
    "len": len, "min": min, "max": max, "sum": _safe_sum, "round": round, "abs": abs,
    "int": int, "float": float, "str": str, "bool": bool, "sorted": sorted, "any": any,
    "all": all, "dict": dict, "list": list, "tuple": tuple, "set": set, "range": _safe_range,
    "enumerate": enumerate, "zip": zip, "True": True, "False": False, "None": None,
}
_EXCEPTIONS: dict[str, Any] = {
    cls.__name__: cls for cls in (Exception, ValueError, KeyError, IndexError, TypeError,
                                  ZeroDivisionError, ArithmeticError, LookupError)
}


# --------------------------------------------------------------------------- date helpers
def _parse_utc(value: Any) -> datetime:
    return durations.parse_instant(value).astimezone(UTC).replace(microsecond=0)


def to_utc(iso: str) -> str:
    """Normalise an ISO date-time ('Z', an offset, or naive = UTC) to ``YYYY-MM-DDTHH:MM:SS+00:00``.

    One shape for every date-time in task data means ISO strings compare correctly as strings.
    Raises ValueError for anything that is not an ISO 8601 date-time.
    """
    return _parse_utc(iso).isoformat()


def add_duration(iso_datetime: str, iso_duration: str) -> str:
    """``iso_datetime`` plus an ISO 8601 duration (PnYnMnDTnHnMnS or PnW), in to_utc form.

    Years and months are calendar arithmetic with the day clamped to the month's end
    (2026-01-31 + P1M = 2026-02-28); the rest is exact time, as XML Schema defines it.
    Negative durations, an empty "P" and weeks mixed with other units raise ValueError
    (``engine.durations`` reads the value, as it does for diagrams and forms).
    """
    duration = durations.parse_duration(str(iso_duration))
    try:
        result = durations.add(_parse_utc(iso_datetime), duration)
    except ValueError as exc:
        raise ValueError(f"add_duration({iso_datetime!r}, {iso_duration!r}) is out of range: {exc}") from None
    return result.replace(microsecond=0).isoformat()


# --------------------------------------------------------------------------- the time limit
_state = threading.local()


def _run_limited(time_limit: float, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` under a per-thread tracer that raises _Timeout once the deadline passes.

    Every Python frame entered costs one deadline check and no line tracing: that covers
    recursion, simpleeval's recursive evaluator and the helpers. Loops in scripts cannot rely on
    line events (3.11 emits none for a one-line ``while True: pass``), so the compiler puts a
    ``_jb_tick_()`` call in every loop body and comprehension, which checks the same deadline.
    The previous tracer is restored afterwards.
    """
    clock = time.monotonic
    outer = getattr(_state, "deadline", None)
    deadline = clock() + time_limit
    if outer is not None and outer < deadline:
        deadline = outer

    def global_tracer(frame: Any, event: str, _arg: Any) -> None:
        if clock() > deadline:
            raise _Timeout
        return None

    previous = sys.gettrace()
    _state.deadline = deadline
    sys.settrace(global_tracer)
    try:
        return fn(*args)
    finally:
        sys.settrace(previous)
        _state.deadline = outer


def _tick() -> bool:
    """Injected into every loop iteration of a script: stop it once the deadline has passed."""
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise _Timeout
    return True


# --------------------------------------------------------------------------- compile / check
class _DiagramPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, tightened for diagram scripts and with guarded operators."""

    _BINOPS = {ast.Mult: "_jb_mul_", ast.Pow: "_jb_pow_", ast.Add: "_jb_add_", ast.LShift: "_jb_lshift_",
               ast.Mod: "_jb_mod_"}

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        call = ast.Call(func=ast.Name("_jb_format_", ast.Load()),
                        args=[node.value, ast.Constant(node.conversion), node.format_spec], keywords=[])
        return ast.copy_location(ast.FormattedValue(value=call, conversion=-1, format_spec=None), node)

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import statements are not allowed in diagram scripts")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import statements are not allowed in diagram scripts")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "class definitions are not allowed in diagram scripts")
        return node

    def visit_Try(self, node: ast.Try) -> Any:
        for handler in node.handlers:
            if handler.type is None:
                self.error(handler, "a bare 'except:' is not allowed; name the exception, e.g. 'except ValueError:'")
        if node.finalbody:
            self.error(node, "'finally' blocks are not allowed in diagram scripts")
        return super().visit_Try(node)

    def visit_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
            self.error(node, f"calling {node.func.id}() is not allowed in diagram code")
        return super().visit_Call(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        reason = _attr_refusal(node.attr)
        if reason:
            self.error(node, reason)
            return node
        return super().visit_Attribute(node)

    @staticmethod
    def _tick_call(node: ast.AST) -> ast.Call:
        call = ast.Call(func=ast.Name("_jb_tick_", ast.Load()), args=[], keywords=[])
        return ast.copy_location(call, node)

    def visit_For(self, node: ast.For) -> Any:
        visited = super().visit_For(node)
        if isinstance(visited, ast.For):
            visited.body.insert(0, ast.copy_location(ast.Expr(self._tick_call(visited)), visited))
        return visited

    def visit_While(self, node: ast.While) -> Any:
        visited = super().visit_While(node)
        if isinstance(visited, ast.While):
            visited.body.insert(0, ast.copy_location(ast.Expr(self._tick_call(visited)), visited))
        return visited

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        visited = super().visit_comprehension(node)
        if isinstance(visited, ast.comprehension):
            visited.ifs.insert(0, self._tick_call(visited.target))
        return visited

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = self._BINOPS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        copy_locations(call, node)
        return call


def _syntax_reason(exc: SyntaxError, kind: str) -> str:
    where = f" on line {exc.lineno}" if exc.lineno else ""
    text = f": {exc.text.strip()!r}" if exc.text and exc.text.strip() else ""
    return f"{kind} syntax error{where}: {exc.msg}{text}"


def _refused(reason: str | None, violation: bool, script: str) -> ScriptError:
    """The error for a script ``_compile_script`` refused (it always gives a reason with no code)."""
    return (SandboxViolationError if violation else ScriptError)(reason or "script refused", source=script)


@lru_cache(maxsize=2048)
def _compile_script(script: str) -> tuple[CodeType | None, str | None, bool]:
    """(code, reason, is_violation). Cached by source: diagrams run the same scripts repeatedly."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(script, SCRIPT_FILENAME, "exec")
    except SyntaxError as exc:
        return None, _syntax_reason(exc, "script"), False
    except (ValueError, MemoryError, RecursionError) as exc:
        return None, f"script cannot be parsed: {exc}", False
    errors: list[str] = []
    try:
        _DiagramPolicy(errors, [], {}).visit(tree)
    except RecursionError:
        return None, "script is nested too deeply", True
    if errors:
        return None, "script refused: " + "; ".join(dict.fromkeys(errors)), True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            return compile(ast.fix_missing_locations(tree), SCRIPT_FILENAME, "exec"), None, False
    except (SyntaxError, ValueError, TypeError, RecursionError) as exc:
        return None, f"script cannot be compiled: {exc}", False


_EXPR_NODES_REFUSED = (ast.Lambda, ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await)


@lru_cache(maxsize=4096)
def _parse_expression(expression: object) -> tuple[ast.expr | None, str | None, bool]:
    """(parsed body, reason, is_violation). Cached by source."""
    if not isinstance(expression, str):
        return None, f"an expression must be text, got {type(expression).__name__}", False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(expression.strip(), "<bpmn-expression>", "eval")
    except SyntaxError as exc:
        return None, _syntax_reason(exc, "expression"), False
    except (ValueError, MemoryError, RecursionError) as exc:
        return None, f"expression cannot be parsed: {exc}", False
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        return None, "expression is nested too deeply", True
    for node in nodes:
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            return None, f"the name '{node.id}' is not allowed (names starting with '_' are internals)", True
        if isinstance(node, ast.Attribute):
            reason = _attr_refusal(node.attr)
            if reason:
                return None, reason, True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
            return None, f"calling {node.func.id}() is not allowed in diagram code", True
        if isinstance(node, _EXPR_NODES_REFUSED):
            return None, f"{type(node).__name__} is not allowed in expressions", True
    return tree.body, None, False


_CHEAP_CALLS = frozenset({"len", "abs", "bool", "now", "to_utc", "add_duration"})
_CHEAP_NODES = (
    ast.Expression, ast.Name, ast.Load, ast.Constant, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.IfExp,
    ast.Tuple, ast.List, ast.Set, ast.Subscript, ast.BinOp, ast.Call,
    ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Add, ast.Sub,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
)


@lru_cache(maxsize=4096)
def cheap_expression(expression: str) -> bool:
    """Can this expression run in the server process? True when its cost is bounded by the data's size.

    Names, constants, comparisons, boolean operators, ``+``/``-``, subscripts by a constant,
    tuple/list literals and calls of ``len``, ``abs``, ``bool`` and the date helpers: nothing
    that multiplies, loops, calls methods or formats. Everything else runs in a worker process.
    """
    body = _parse_expression(expression)[0]
    if body is None:
        return True  # refused in-process with the reason, before anything runs
    for node in ast.walk(body):
        if not isinstance(node, _CHEAP_NODES):
            return False
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _CHEAP_CALLS) or node.keywords or \
                    any(isinstance(a, ast.Starred) for a in node.args):
                return False
        elif isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant | ast.UnaryOp):
            return False
    return True


def check_expression(expression: str) -> str | None:
    """Why ``expression`` would be refused before running (syntax or sandbox), else None.

    For the deploy-time validator. DMN input-entry cells like ``> 0.5`` are not expressions on
    their own; check those with ``check_dmn_cell``.
    """
    return _parse_expression(expression)[1]


_DMN_QUESTION = re.compile(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""")  # as in Spiff's DMNEngine


def check_dmn_cell(cell: str) -> str | None:
    """Like check_expression for a DMN input-entry cell, which Spiff may prefix with the input.

    Spiff 3.2 glues the input expression to an operator cell without a space (``track`` +
    ``in ('a', 'b')`` becomes ``trackin ('a', 'b')``), so cells starting with a word operator
    are reported with the fix: write ``? in ('a', 'b')``.
    """
    text = (cell or "").strip()
    if not text or text == "-":
        return None
    if "?" in text:  # Spiff's double-ended form: '?' (outside quotes) stands for the input
        return _parse_expression(_DMN_QUESTION.sub("dmninputexpr", text))[1]
    first = text.split(None, 1)[0]
    if first in ("in", "not", "is", "and", "or") and _parse_expression(text)[1] is not None:
        return (f"DMN cell {text!r} starts with the word operator {first!r}, which SpiffWorkflow joins to the "
                f"input without a space; write it as '? {text}'")
    if _parse_expression(text)[1] is None:
        return None
    reason = _parse_expression(f"dmninputexpr {text}")[1]
    return None if reason is None else reason.replace("dmninputexpr ", "")


def check_script(script: object) -> str | None:
    """Why ``script`` would be refused before running (syntax or sandbox), else None."""
    if not isinstance(script, str):
        return f"a script must be text, got {type(script).__name__}"
    return _compile_script(script)[1]


# --------------------------------------------------------------------------- errors
def _script_line(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _with_line(message: str, source: str, line: int | None) -> str:
    if not line:
        return message
    lines = source.splitlines()
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return f"{message} (line {line}: {text!r})" if text else f"{message} (line {line})"


def script_error_from(exc: BaseException | None) -> ScriptError | None:
    """The ScriptError behind ``exc``: itself, or found along ``__cause__``/``__context__``.

    Spiff wraps DMN failures in WorkflowTaskException; this digs our error back out.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ScriptError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


_SIMPLEEVAL_VIOLATIONS = (simpleeval.FeatureNotAvailable, simpleeval.IterableTooLong, simpleeval.NumberTooHigh)


# --------------------------------------------------------------------------- the evaluator
def _se_mul(a: Any, b: Any) -> Any:
    return guarded_mul(a, b) if isinstance(a, int | float) and isinstance(b, int | float) else simpleeval.safe_mult(a, b)


def _se_pow(a: Any, b: Any) -> Any:
    _check_pow(a, b)
    return simpleeval.safe_power(a, b)


_OPERATORS = dict(simpleeval.DEFAULT_OPERATORS)
_OPERATORS.update({ast.Mult: _se_mul, ast.Pow: _se_pow, ast.Mod: guarded_mod})


class _Evaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval with our attribute policy, size-guarded methods and a cheap result check."""

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        reason = _attr_refusal(node.attr)
        if reason:
            raise _Refused(reason)
        value = super()._eval_attribute(node)
        if node.attr in _SIZE_METHODS:
            owner = getattr(value, "__self__", None)
            if isinstance(owner, _SIZED_OWNERS) or owner in _SIZED_OWNERS:
                return _size_guarded_method(owner, node.attr, value)
        return value

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        if node.format_spec:
            return guarded_format(self._eval(node.value), node.conversion, self._eval(node.format_spec))
        return super()._eval_formattedvalue(node)

    def _check_disallowed_items(self, item: Any) -> None:
        # simpleeval walks every container after every node; task data is JSON-like and our
        # functions are vetted, so a shallow module check keeps expressions O(expression size).
        if isinstance(item, ModuleType):
            raise _Refused("modules are not available in diagram code")


# --------------------------------------------------------------------------- environment
class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Spiff script environment that runs diagram code in the sandbox described above."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        time_limit: float = 2.0,
        extra_helpers: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        def now() -> str:
            """The engine clock as ``YYYY-MM-DDTHH:MM:SS+00:00``."""
            return _parse_utc(clock()).isoformat()

        helpers: dict[str, Callable[..., Any]] = {"now": now, "add_duration": add_duration, "to_utc": to_utc}
        for name, fn in (extra_helpers or {}).items():
            if not name.isidentifier() or name.startswith("_") or not callable(fn):
                raise ValueError(f"helper {name!r} must be a callable with a public identifier name")
            if name in SAFE_BUILTINS or name in _FORBIDDEN_CALLS:
                raise ValueError(f"helper {name!r} would shadow a builtin")
            helpers[name] = fn
        super().__init__(environment_globals=helpers)
        self.clock = clock
        self.time_limit = float(time_limit)
        self.helpers = helpers
        self._functions: dict[str, Any] = {**_STUBS, **SAFE_BUILTINS, **_EXCEPTIONS, **helpers}
        self._script_builtins: dict[str, Any] = {
            **_STUBS, **SAFE_BUILTINS, **_EXCEPTIONS, **helpers,
            "_getattr_": guarded_getattr,
            "_getitem_": _getitem,
            "_getiter_": iter,
            "_write_": _write_guard,
            "_inplacevar_": _inplacevar,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_print_": _PrintCollector,
            "_apply_": _apply,
            "_jb_mul_": guarded_mul,
            "_jb_pow_": guarded_pow,
            "_jb_add_": guarded_add,
            "_jb_lshift_": guarded_lshift,
            "_jb_mod_": guarded_mod,
            "_jb_format_": guarded_format,
            "_jb_tick_": _tick,
        }

    # -- Spiff API -------------------------------------------------------------------------
    def evaluate(self, expression: str, context: Mapping[str, Any], external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate one expression against task data with simpleeval, under the time limit."""
        body, reason, violation = _parse_expression(expression)
        if body is None:
            raise (SandboxViolationError if violation else ScriptError)(
                f"{reason} in expression {expression!r}", source=expression)
        if not isinstance(context, Mapping):
            raise ScriptError(f"expression context must be a mapping, got {type(context).__name__}", source=expression)
        self.check_clash(context, external_context)
        # ChainMap only ever writes to its first map and nobody writes to names; typeshed asks for
        # mutable maps all the same.
        names = ChainMap(context, external_context) if external_context else context  # type: ignore[arg-type]
        evaluator = _Evaluator(operators=_OPERATORS, functions=dict(self._functions), names=names)
        evaluator.expr = expression
        try:
            return _run_limited(self.time_limit, evaluator._eval, body)
        except _Timeout:
            raise ScriptTimeoutError(
                f"expression {expression!r} ran longer than {self.time_limit:g}s and was stopped",
                source=expression, time_limit=self.time_limit) from None
        except _Refused as exc:
            raise SandboxViolationError(f"{exc.args[0]} (in expression {expression!r})", source=expression) from None
        except _SIMPLEEVAL_VIOLATIONS as exc:
            raise SandboxViolationError(f"{exc} (in expression {expression!r})", source=expression) from exc
        except ScriptError:
            raise
        except simpleeval.InvalidExpression as exc:
            raise ScriptError(f"{exc}", source=expression, error_type=type(exc).__name__) from exc
        except Exception as exc:  # every failure of diagram code becomes a ScriptError
            raise ScriptError(f"{type(exc).__name__}: {exc} (in expression {expression!r})",
                              source=expression, error_type=type(exc).__name__) from exc

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        """Run a script with task data as its namespace; new variables become task data."""
        if not isinstance(script, str):
            raise ScriptError(f"a script must be text, got {type(script).__name__}")
        code, reason, violation = _compile_script(script)
        if code is None:
            raise _refused(reason, violation, script)
        self.check_clash(context, external_context)
        builtins = self._script_builtins
        if external_context:
            builtins = {**builtins, **{k: v for k, v in external_context.items() if not k.startswith("_")}}
        context["__builtins__"] = builtins
        try:
            _run_limited(self.time_limit, exec, code, context)
        except _Timeout as exc:
            line = _script_line(exc)
            raise ScriptTimeoutError(
                _with_line(f"script ran longer than {self.time_limit:g}s and was stopped", script, line),
                source=script, line=line, time_limit=self.time_limit) from None
        except _Refused as exc:
            line = _script_line(exc)
            raise SandboxViolationError(_with_line(str(exc.args[0]), script, line), source=script, line=line) from None
        except ScriptError as exc:
            exc.context.setdefault("line", _script_line(exc))
            raise
        except Exception as exc:  # every failure of diagram code becomes a ScriptError
            line = _script_line(exc)
            raise ScriptError(_with_line(f"{type(exc).__name__}: {exc}", script, line),
                              source=script, line=line, error_type=type(exc).__name__) from exc
        finally:
            self._strip(context, external_context)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        """Service tasks have no operators registered in the sandbox; say so plainly."""
        name = kwargs.get("operation_name") or kwargs.get("operator") or "?"
        raise ScriptError(f"service task operator {name!r} is not available: the engine registers no service operators")

    # -- internals -------------------------------------------------------------------------
    def check_clash(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None) -> None:
        """Task data must not shadow a helper: say which key, before any code runs."""
        clashes = sorted(k for k in self.helpers if k in context or (external_context and k in external_context))
        if clashes:
            keys = ", ".join(repr(k) for k in clashes)
            raise ScriptError(
                f"task data key(s) {keys} clash with the diagram helper function(s) of the same name; "
                "rename the form field or variable", keys=clashes)

    def _strip(self, context: dict[str, Any], external_context: Mapping[str, Any] | None) -> None:
        """Keep task data plain: drop builtins, the print collector and anything callable."""
        for key in list(context):
            if key in ("__builtins__", "_print") or callable(context[key]) or isinstance(context[key], ModuleType):
                del context[key]


class SandboxScriptEngine(PythonScriptEngine):
    """PythonScriptEngine that lets the sandbox's ScriptError family through unwrapped.

    Spiff would wrap them in WorkflowTaskException (losing the class); here they are raised
    as-is with the task recorded in ``err.context``. With ``isolated`` (the default of
    ``make_script_engine``) scripts and every expression that is not ``cheap_expression`` run
    in a worker process of ``engine.sandbox_pool`` under hard time and memory limits, and what
    they return must be JSON data within ``max_data_bytes``.
    """

    environment: SandboxEnvironment

    def __init__(self, environment: SandboxEnvironment, *, isolated: bool = False, max_data_bytes: int | None = None) -> None:
        super().__init__(environment=environment)
        self.isolated = isolated
        self.max_data_bytes = max_data_bytes

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        try:
            if self.isolated and isinstance(expression, str) and not cheap_expression(expression):
                self.environment.check_clash(task.data, external_context)
                return self._in_worker("eval", expression, task.data, external_context)["value"]
            return self.environment.evaluate(expression, task.data, external_context)
        except ScriptError as err:
            _annotate(err, task, "expression")
            raise

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> bool:
        try:
            if self.isolated:
                if not isinstance(script, str):
                    raise ScriptError(f"a script must be text, got {type(script).__name__}")
                code, reason, violation = _compile_script(script)
                if code is None:  # refused here already: no need to bother a worker
                    raise _refused(reason, violation, script)
                self.environment.check_clash(task.data, external_context)
                data = self._in_worker("exec", script, task.data, external_context)["data"]
                task.data.clear()
                task.data.update(data)
                return True
            return self.environment.execute(script, task.data, external_context or {})
        except ScriptError as err:
            _annotate(err, task, "script")
            raise

    def _in_worker(self, op: str, source: str, data: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        from engine.sandbox_pool import run_in_worker  # the worker imports this module: import late

        external = {k: v for k, v in (external or {}).items() if not k.startswith("_")} or None
        try:
            return run_in_worker(op, source, data, external, now=_parse_utc(self.environment.clock()).isoformat(),
                                 time_limit=self.environment.time_limit, max_data_bytes=self.max_data_bytes)
        except ScriptError as err:
            err.context.setdefault("source", source)
            line = err.context.get("line")
            if isinstance(line, int) and line:
                if "(line " not in err.detail:
                    err.detail = _with_line(err.detail, source, line)
                    err.args = (err.detail,)
            raise

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except ScriptError as err:
            _annotate(err, task, "service call")
            raise


def _annotate(err: ScriptError, task: Any, kind: str) -> ScriptError:
    spec = getattr(task, "task_spec", None)
    bpmn_id = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    if "task_id" not in err.context:
        err.context.update(task_id=str(getattr(task, "id", "")), bpmn_id=bpmn_id,
                           task_name=getattr(spec, "bpmn_name", None), kind=kind)
        err.add_note(f"in {kind} of task {bpmn_id!r}")
    return err


def make_script_engine(
    clock: Callable[[], datetime],
    *,
    time_limit: float = 2.0,
    extra_helpers: Mapping[str, Callable[..., Any]] | None = None,
    isolated: bool | None = None,
    max_data_bytes: int | None = None,
) -> PythonScriptEngine:
    """A Spiff script engine whose every script and expression runs in the sandbox.

    ``clock()`` must return an aware UTC datetime; ``now()`` in diagrams reads it, so tests that
    move the engine clock move diagram time too. Returns a SandboxScriptEngine (see module doc for
    how errors surface). Set it again after deserializing: Spiff restores a default engine.
    Scripts and costly expressions run in worker processes (``isolated``, the default unless
    ``extra_helpers`` are given: helpers are functions of this process and cannot travel).
    """
    if not (time_limit > 0 and math.isfinite(time_limit)):
        raise ValueError("time_limit must be a positive number of seconds")
    if isolated is None:
        isolated = not extra_helpers
    if isolated and extra_helpers:
        raise ValueError("extra_helpers run in this process; they cannot be used with isolated=True")
    environment = SandboxEnvironment(clock, time_limit=time_limit, extra_helpers=extra_helpers)
    return SandboxScriptEngine(environment, isolated=isolated, max_data_bytes=max_data_bytes)
