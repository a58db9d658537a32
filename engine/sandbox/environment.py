"""The restricted script environment every diagram's code runs in, and the policy it enforces.

The policy is described here once; its parts live beside this module: ``guards`` (refused names
and attributes, size guards, safe builtins, the time limit), ``restricted`` (compiling scripts
and parsing expressions, the deploy-time checks) and ``helpers`` (the date helpers).

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
  comparison (``cheap_expression``), in a worker process of ``engine.sandbox.pool`` that has an
  address-space and CPU limit and is killed when it overruns the time limit, because one C-level
  operation (``[a] * 900 == [b] * 900``) runs without ever reaching a tracer or a tick. What a
  script leaves in task data must be JSON data within the data limit (``engine.runtime.taskdata``).

Helpers available to diagrams: ``now()``, ``add_duration(iso_datetime, iso_duration)``,
``add_working_days(iso_datetime, days)``, ``to_utc(iso)``; safe builtins: ``len min max sum round abs int float str bool sorted any all dict
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
from collections import ChainMap
from collections.abc import Callable, Mapping
from datetime import datetime
from types import ModuleType
from typing import Any

import simpleeval
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.errors import SandboxViolationError, ScriptError, ScriptTimeoutError

from .guards import (
    FORBIDDEN_CALLS,
    REFUSING_STUBS,
    SAFE_BUILTINS,
    SAFE_EXCEPTIONS,
    SCRIPT_FILENAME,
    SIZE_METHODS,
    SIZED_OWNERS,
    PrintCollector,
    Refused,
    TimedOut,
    attr_refusal,
    check_pow,
    guarded_add,
    guarded_format,
    guarded_getattr,
    guarded_inplace,
    guarded_lshift,
    guarded_mod,
    guarded_mul,
    guarded_pow,
    plain_apply,
    plain_getitem,
    run_limited,
    size_guarded_method,
    tick,
    write_guard,
)
from .helpers import add_duration, add_working_days, parse_utc, to_utc
from .restricted import cheap_expression, compile_script, parse_expression

__all__ = ["SandboxEnvironment", "SandboxScriptEngine", "make_script_engine", "script_error_from"]


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


def _refused(reason: str | None, violation: bool, script: str) -> ScriptError:
    """The error for a script ``compile_script`` refused (it always gives a reason with no code)."""
    return (SandboxViolationError if violation else ScriptError)(reason or "script refused", source=script)


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


_SIMPLEEVAL_VIOLATIONS = (
    simpleeval.FeatureNotAvailable,
    simpleeval.IterableTooLong,
    simpleeval.NumberTooHigh,
)


# --------------------------------------------------------------------------- the evaluator
def _se_mul(a: Any, b: Any) -> Any:
    return (
        guarded_mul(a, b)
        if isinstance(a, int | float) and isinstance(b, int | float)
        else simpleeval.safe_mult(a, b)
    )


def _se_pow(a: Any, b: Any) -> Any:
    check_pow(a, b)
    return simpleeval.safe_power(a, b)


_OPERATORS = dict(simpleeval.DEFAULT_OPERATORS)
_OPERATORS.update({ast.Mult: _se_mul, ast.Pow: _se_pow, ast.Mod: guarded_mod})


class _Evaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval with our attribute policy, size-guarded methods and a cheap result check."""

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        reason = attr_refusal(node.attr)
        if reason:
            raise Refused(reason)
        value = super()._eval_attribute(node)
        if node.attr in SIZE_METHODS:
            owner = getattr(value, "__self__", None)
            if isinstance(owner, SIZED_OWNERS) or owner in SIZED_OWNERS:
                return size_guarded_method(owner, node.attr, value)
        return value

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        if node.format_spec:
            return guarded_format(self._eval(node.value), node.conversion, self._eval(node.format_spec))
        return super()._eval_formattedvalue(node)

    def _check_disallowed_items(self, item: Any) -> None:
        # simpleeval walks every container after every node; task data is JSON-like and our
        # functions are vetted, so a shallow module check keeps expressions O(expression size).
        if isinstance(item, ModuleType):
            raise Refused("modules are not available in diagram code")


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
            return parse_utc(clock()).isoformat()

        helpers: dict[str, Callable[..., Any]] = {
            "now": now,
            "add_duration": add_duration,
            "add_working_days": add_working_days,
            "to_utc": to_utc,
        }
        for name, fn in (extra_helpers or {}).items():
            if not name.isidentifier() or name.startswith("_") or not callable(fn):
                raise ValueError(f"helper {name!r} must be a callable with a public identifier name")
            if name in SAFE_BUILTINS or name in FORBIDDEN_CALLS:
                raise ValueError(f"helper {name!r} would shadow a builtin")
            helpers[name] = fn
        super().__init__(environment_globals=helpers)
        self.clock = clock
        self.time_limit = float(time_limit)
        self.helpers = helpers
        self._functions: dict[str, Any] = {**REFUSING_STUBS, **SAFE_BUILTINS, **SAFE_EXCEPTIONS, **helpers}
        self._script_builtins: dict[str, Any] = {
            **REFUSING_STUBS,
            **SAFE_BUILTINS,
            **SAFE_EXCEPTIONS,
            **helpers,
            "_getattr_": guarded_getattr,
            "_getitem_": plain_getitem,
            "_getiter_": iter,
            "_write_": write_guard,
            "_inplacevar_": guarded_inplace,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_print_": PrintCollector,
            "_apply_": plain_apply,
            "_jb_mul_": guarded_mul,
            "_jb_pow_": guarded_pow,
            "_jb_add_": guarded_add,
            "_jb_lshift_": guarded_lshift,
            "_jb_mod_": guarded_mod,
            "_jb_format_": guarded_format,
            "_jb_tick_": tick,
        }

    # -- Spiff API -------------------------------------------------------------------------
    def evaluate(
        self, expression: str, context: Mapping[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Evaluate one expression against task data with simpleeval, under the time limit."""
        body, reason, violation = parse_expression(expression)
        if body is None:
            raise (SandboxViolationError if violation else ScriptError)(
                f"{reason} in expression {expression!r}", source=expression
            )
        if not isinstance(context, Mapping):
            raise ScriptError(
                f"expression context must be a mapping, got {type(context).__name__}", source=expression
            )
        self.check_clash(context, external_context)
        # ChainMap only ever writes to its first map and nobody writes to names; typeshed asks for
        # mutable maps all the same.
        names = ChainMap(context, external_context) if external_context else context  # type: ignore[arg-type]
        evaluator = _Evaluator(operators=_OPERATORS, functions=dict(self._functions), names=names)
        evaluator.expr = expression
        try:
            return run_limited(self.time_limit, evaluator._eval, body)
        except TimedOut:
            raise ScriptTimeoutError(
                f"expression {expression!r} ran longer than {self.time_limit:g}s and was stopped",
                source=expression,
                time_limit=self.time_limit,
            ) from None
        except Refused as exc:
            raise SandboxViolationError(
                f"{exc.args[0]} (in expression {expression!r})", source=expression
            ) from None
        except _SIMPLEEVAL_VIOLATIONS as exc:
            raise SandboxViolationError(f"{exc} (in expression {expression!r})", source=expression) from exc
        except ScriptError:
            raise
        except simpleeval.InvalidExpression as exc:
            raise ScriptError(f"{exc}", source=expression, error_type=type(exc).__name__) from exc
        except Exception as exc:  # every failure of diagram code becomes a ScriptError
            raise ScriptError(
                f"{type(exc).__name__}: {exc} (in expression {expression!r})",
                source=expression,
                error_type=type(exc).__name__,
            ) from exc

    def execute(
        self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> bool:
        """Run a script with task data as its namespace; new variables become task data."""
        if not isinstance(script, str):
            raise ScriptError(f"a script must be text, got {type(script).__name__}")
        code, reason, violation = compile_script(script)
        if code is None:
            raise _refused(reason, violation, script)
        self.check_clash(context, external_context)
        builtins = self._script_builtins
        if external_context:
            builtins = {**builtins, **{k: v for k, v in external_context.items() if not k.startswith("_")}}
        context["__builtins__"] = builtins
        try:
            run_limited(self.time_limit, exec, code, context)
        except TimedOut as exc:
            line = _script_line(exc)
            raise ScriptTimeoutError(
                _with_line(f"script ran longer than {self.time_limit:g}s and was stopped", script, line),
                source=script,
                line=line,
                time_limit=self.time_limit,
            ) from None
        except Refused as exc:
            line = _script_line(exc)
            raise SandboxViolationError(
                _with_line(str(exc.args[0]), script, line), source=script, line=line
            ) from None
        except ScriptError as exc:
            exc.context.setdefault("line", _script_line(exc))
            raise
        except Exception as exc:  # every failure of diagram code becomes a ScriptError
            line = _script_line(exc)
            raise ScriptError(
                _with_line(f"{type(exc).__name__}: {exc}", script, line),
                source=script,
                line=line,
                error_type=type(exc).__name__,
            ) from exc
        finally:
            self._strip(context, external_context)
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        """Service tasks have no operators registered in the sandbox; say so plainly."""
        name = kwargs.get("operation_name") or kwargs.get("operator") or "?"
        raise ScriptError(
            f"service task operator {name!r} is not available: the engine registers no service operators"
        )

    # -- internals -------------------------------------------------------------------------
    def check_clash(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None) -> None:
        """Task data must not shadow a helper: say which key, before any code runs."""
        clashes = sorted(
            k for k in self.helpers if k in context or (external_context and k in external_context)
        )
        if clashes:
            keys = ", ".join(repr(k) for k in clashes)
            raise ScriptError(
                f"task data key(s) {keys} clash with the diagram helper function(s) of the same name; "
                "rename the form field or variable",
                keys=clashes,
            )

    def _strip(self, context: dict[str, Any], external_context: Mapping[str, Any] | None) -> None:
        """Keep task data plain: drop builtins, the print collector and anything callable."""
        for key in list(context):
            if (
                key in ("__builtins__", "_print")
                or callable(context[key])
                or isinstance(context[key], ModuleType)
            ):
                del context[key]


class SandboxScriptEngine(PythonScriptEngine):
    """PythonScriptEngine that lets the sandbox's ScriptError family through unwrapped.

    Spiff would wrap them in WorkflowTaskException (losing the class); here they are raised
    as-is with the task recorded in ``err.context``. With ``isolated`` (the default of
    ``make_script_engine``) scripts and every expression that is not ``cheap_expression`` run
    in a worker process of ``engine.sandbox.pool`` under hard time and memory limits, and what
    they return must be JSON data within ``max_data_bytes``.
    """

    environment: SandboxEnvironment

    def __init__(
        self, environment: SandboxEnvironment, *, isolated: bool = False, max_data_bytes: int | None = None
    ) -> None:
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
                code, reason, violation = compile_script(script)
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

    def _in_worker(
        self, op: str, source: str, data: Mapping[str, Any], external: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        from engine.sandbox.pool import run_in_worker  # the worker imports this module: import late

        external = {k: v for k, v in (external or {}).items() if not k.startswith("_")} or None
        try:
            return run_in_worker(
                op,
                source,
                data,
                external,
                now=parse_utc(self.environment.clock()).isoformat(),
                time_limit=self.environment.time_limit,
                max_data_bytes=self.max_data_bytes,
            )
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
        err.context.update(
            task_id=str(getattr(task, "id", "")),
            bpmn_id=bpmn_id,
            task_name=getattr(spec, "bpmn_name", None),
            kind=kind,
        )
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
