"""Parsing and compiling diagram code: RestrictedPython's policy for scripts, the checks for expressions.

Deploy asks ``check_script``/``check_expression``/``check_dmn_cell`` for a reason to refuse;
the environment runs what ``compile_script``/``parse_expression`` return (both cached by source).
"""

from __future__ import annotations

import ast
import re
import warnings
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations

from .guards import FORBIDDEN_CALLS, SCRIPT_FILENAME, attr_refusal


class _DiagramPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, tightened for diagram scripts and with guarded operators."""

    _BINOPS = {
        ast.Mult: "_jb_mul_",
        ast.Pow: "_jb_pow_",
        ast.Add: "_jb_add_",
        ast.LShift: "_jb_lshift_",
        ast.Mod: "_jb_mod_",
    }

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        call = ast.Call(
            func=ast.Name("_jb_format_", ast.Load()),
            args=[node.value, ast.Constant(node.conversion), node.format_spec],
            keywords=[],
        )
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
                self.error(
                    handler, "a bare 'except:' is not allowed; name the exception, e.g. 'except ValueError:'"
                )
        if node.finalbody:
            self.error(node, "'finally' blocks are not allowed in diagram scripts")
        return super().visit_Try(node)

    def visit_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            self.error(node, f"calling {node.func.id}() is not allowed in diagram code")
        return super().visit_Call(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        reason = attr_refusal(node.attr)
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


@lru_cache(maxsize=2048)
def compile_script(script: str) -> tuple[CodeType | None, str | None, bool]:
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
def parse_expression(expression: object) -> tuple[ast.expr | None, str | None, bool]:
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
            reason = attr_refusal(node.attr)
            if reason:
                return None, reason, True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            return None, f"calling {node.func.id}() is not allowed in diagram code", True
        if isinstance(node, _EXPR_NODES_REFUSED):
            return None, f"{type(node).__name__} is not allowed in expressions", True
    return tree.body, None, False


_CHEAP_CALLS = frozenset({"len", "abs", "bool", "now", "to_utc", "add_duration", "add_working_days"})
_CHEAP_NODES = (
    ast.Expression,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Compare,
    ast.BoolOp,
    ast.UnaryOp,
    ast.IfExp,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Subscript,
    ast.BinOp,
    ast.Call,
    ast.And,
    ast.Or,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.Add,
    ast.Sub,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
)


@lru_cache(maxsize=4096)
def cheap_expression(expression: str) -> bool:
    """Can this expression run in the server process? True when its cost is bounded by the data's size.

    Names, constants, comparisons, boolean operators, ``+``/``-``, subscripts by a constant,
    tuple/list literals and calls of ``len``, ``abs``, ``bool`` and the date helpers: nothing
    that multiplies, loops, calls methods or formats. Everything else runs in a worker process.
    """
    body = parse_expression(expression)[0]
    if body is None:
        return True  # refused in-process with the reason, before anything runs
    for node in ast.walk(body):
        if not isinstance(node, _CHEAP_NODES):
            return False
        if isinstance(node, ast.Call):
            if (
                not (isinstance(node.func, ast.Name) and node.func.id in _CHEAP_CALLS)
                or node.keywords
                or any(isinstance(a, ast.Starred) for a in node.args)
            ):
                return False
        elif isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant | ast.UnaryOp):
            return False
    return True


def check_expression(expression: str) -> str | None:
    """Why ``expression`` would be refused before running (syntax or sandbox), else None.

    For the deploy-time validator. DMN input-entry cells like ``> 0.5`` are not expressions on
    their own; check those with ``check_dmn_cell``.
    """
    return parse_expression(expression)[1]


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
        return parse_expression(_DMN_QUESTION.sub("dmninputexpr", text))[1]
    first = text.split(None, 1)[0]
    if first in ("in", "not", "is", "and", "or") and parse_expression(text)[1] is not None:
        return (
            f"DMN cell {text!r} starts with the word operator {first!r}, which SpiffWorkflow joins to the "
            f"input without a space; write it as '? {text}'"
        )
    if parse_expression(text)[1] is None:
        return None
    reason = parse_expression(f"dmninputexpr {text}")[1]
    return None if reason is None else reason.replace("dmninputexpr ", "")


def check_script(script: object) -> str | None:
    """Why ``script`` would be refused before running (syntax or sandbox), else None."""
    if not isinstance(script, str):
        return f"a script must be text, got {type(script).__name__}"
    return compile_script(script)[1]
