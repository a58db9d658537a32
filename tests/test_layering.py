"""The layering rules: the engine knows nothing of Flask, and api/ uses only its public surface."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parent.parent


def test_importing_the_engine_loads_no_web_framework() -> None:
    code = "import sys, engine; bad = [m for m in ('flask', 'werkzeug', 'marshmallow', 'flask_smorest') if m in sys.modules]; print(bad)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_the_public_surface_is_listed_and_importable() -> None:
    assert engine.__all__ == sorted(engine.__all__)
    for name in engine.__all__:
        assert getattr(engine, name) is not None


def test_api_imports_only_the_engine_package() -> None:
    offenders = []
    for path in (ROOT / "api").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine."):
                offenders.append(f"{path.relative_to(ROOT)}: from {node.module}")
            if isinstance(node, ast.Import):
                offenders += [
                    f"{path.relative_to(ROOT)}: import {a.name}"
                    for a in node.names
                    if a.name.startswith("engine.")
                ]
    assert offenders == []


def _mentions_the_engine(node: ast.expr) -> bool:
    """``engine``, ``self.engine``, ``get_engine()`` and the like."""
    if isinstance(node, ast.Call):
        return _mentions_the_engine(node.func)
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return "engine" in name.lower()


def test_api_calls_the_engine_instead_of_probing_it() -> None:
    """The pages and routes call the engine's public methods; a probe would hide a renamed one as a missing button."""
    offenders = []
    for path in (ROOT / "api").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("hasattr", "getattr")
                and node.args
                and _mentions_the_engine(node.args[0])
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []


def _public_bindings(module: object) -> set[str]:
    """The names a package binds for its users: neither private nor one of its own submodules."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not (isinstance(value, type(engine)) and value.__name__.startswith("engine."))
    }


def _engine_names_used_by_api() -> dict[str, list[str]]:
    """Every name api/ takes from the engine package: ``from engine import X`` and ``engine.X``."""
    used: dict[str, list[str]] = {}
    for path in sorted((ROOT / "api").rglob("*.py")):
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text("utf-8"))
        aliases = {
            a.asname or a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
            if a.name == "engine"
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "engine" and node.level == 0:
                for alias in node.names:
                    used.setdefault(alias.name, []).append(where)
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                used.setdefault(node.attr, []).append(where)
    return used


def test_all_lists_exactly_what_the_package_exports() -> None:
    assert set(engine.__all__) == set(engine._LAZY)  # the names it loads on first use
    for name in engine.__all__:
        getattr(engine, name)
    assert set(engine.__all__) == _public_bindings(engine)
    assert len(engine.__all__) == len(set(engine.__all__))


def test_every_engine_name_the_api_uses_is_public() -> None:
    used = _engine_names_used_by_api()
    assert "TaskRecord" in used and "Engine" in used  # the walk sees the imports
    assert {name: files for name, files in used.items() if name not in engine.__all__} == {}


def test_every_record_type_is_public() -> None:
    import engine.records

    records = {
        name
        for name, value in vars(engine.records).items()
        if isinstance(value, type) and value.__module__ == "engine.records"
    }
    assert records - set(engine.__all__) == set()
