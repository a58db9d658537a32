"""The engine's module structure: no module reaches into another's private names, and the import
graph of ``engine/`` has no cycle.

Every import counts wherever it is written (inside a function, under ``TYPE_CHECKING``), so a
cycle cannot hide behind a late import; importing ``pkg.mod`` also runs ``pkg/__init__.py``, so
that edge counts too. Private names of the standard library are outside the rule (``patterns.py``
reads ``re._parser``: the only way to see a pattern's quantifiers).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("engine", "api")


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name of the importing file
    target: str  # dotted module name imported from
    name: str | None  # the name taken from it (``from target import name``), None when a module is imported
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path, package: str) -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted((root / package).rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[Import]:
    """Every import in the file, at any depth; ``from pkg import mod`` counts as importing ``pkg.mod``."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:
                    yield Import(name, submodule, None, node.lineno)
                else:
                    yield Import(name, source, alias.name, node.lineno)


def all_imports(root: Path, package: str) -> list[Import]:
    modules = package_modules(root, package)
    known = set(modules)
    return [imp for name, path in modules.items() for imp in imports_of(name, path, known)]


def private_imports(imports: list[Import]) -> list[str]:
    """``from other import _name`` for a first-party ``other``, however deep in the file."""
    return [
        f"{imp.importer}:{imp.line} imports {imp.name} from {imp.target}"
        for imp in imports
        if imp.name is not None
        and imp.name.startswith("_")
        and imp.target != imp.importer
        and imp.target.split(".")[0] in FIRST_PARTY
    ]


def import_graph(imports: list[Import], modules: set[str]) -> dict[str, set[str]]:
    """Module -> modules its import runs: the target and the packages above it the importer is not inside."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        parts = imp.target.split(".")
        for depth in range(1, len(parts) + 1):
            target = ".".join(parts[:depth])
            inside = imp.importer == target or imp.importer.startswith(target + ".")
            if target in modules and not inside:
                graph[imp.importer].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def engine_graph(root: Path, package: str) -> tuple[list[Import], dict[str, set[str]]]:
    imports = all_imports(root, package)
    return imports, import_graph(imports, set(package_modules(root, package)))


def test_no_engine_module_imports_a_private_name_of_another() -> None:
    imports, _ = engine_graph(ROOT, "engine")
    assert private_imports(imports) == []


def test_the_engine_import_graph_has_no_cycle() -> None:
    _, graph = engine_graph(ROOT, "engine")
    assert find_cycles(graph) == []


def test_a_late_private_import_and_the_cycle_it_closes_are_found(tmp_path: Path) -> None:
    """The shape the engine had: a façade importing its operations, which reach back inside a function."""
    pkg = tmp_path / "engine"
    (pkg / "approval").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .core import Core\n")
    (pkg / "core.py").write_text(
        "from . import approval\nfrom .approval import handover\n\ndef _record():\n    pass\n"
    )
    (pkg / "approval" / "__init__.py").write_text("")
    (pkg / "approval" / "handover.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from ..core import Core\n\n"
        "def transfer():\n    from ..core import _record\n    return _record()\n"
    )
    imports, graph = engine_graph(tmp_path, "engine")
    assert private_imports(imports) == ["engine.approval.handover:7 imports _record from engine.core"]
    assert find_cycles(graph) == [["engine.approval.handover", "engine.core"]]


def test_importing_a_module_runs_its_package_first(tmp_path: Path) -> None:
    """A cycle through a package's ``__init__`` is a cycle: importing ``pkg.leaf`` runs ``pkg`` first."""
    pkg = tmp_path / "engine"
    (pkg / "approval").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "rules.py").write_text("from engine.approval.common import MODES\n")
    (pkg / "approval" / "__init__.py").write_text("from . import policies\n")
    (pkg / "approval" / "common.py").write_text("MODES = ()\n")
    (pkg / "approval" / "policies.py").write_text("from .. import rules\n")
    _, graph = engine_graph(tmp_path, "engine")
    assert find_cycles(graph) == [["engine.approval", "engine.approval.policies", "engine.rules"]]
