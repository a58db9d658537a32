"""A built wheel is what an offline intranet installs: it must carry the web pages' front-end
assets (made from node_modules at build time), and a build that cannot make them must say so."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = {
    ".git",
    ".venv",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "vendor",
}

pytestmark = pytest.mark.slow


def _clean_checkout(into: Path) -> Path:
    """The project as a fresh clone has it: no node_modules, no vendored assets, no build output."""
    src = into / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=lambda _d, names: [n for n in names if n in LEFT_OUT or n.endswith((".egg-info", ".sqlite3"))],
    )
    return src


def _build_wheel(src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(src), "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.skipif(
    not (ROOT / "node_modules" / "bpmn-js").is_dir(), reason="node_modules not installed (npm ci)"
)
def test_the_wheel_carries_the_front_end_assets(tmp_path: Path) -> None:
    src = _clean_checkout(tmp_path)
    (src / "node_modules").symlink_to(ROOT / "node_modules")
    built = _build_wheel(src, tmp_path / "dist")
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("jiebang-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in (
        "designer/jiebang-modeler.min.js",
        "bpmn-js/bpmn-navigated-viewer.production.min.js",
        "bpmn-js/assets/bpmn-js.css",
        "designer/dmn-modeler.min.js",
        "dompurify/purify.min.js",
    ):
        assert f"api/static/vendor/{asset}" in names, asset
    assert "bpmn/claim_evaluate.bpmn" in names and any(n.startswith("migrations/versions/") for n in names)


def test_a_build_without_the_assets_fails_loudly(tmp_path: Path) -> None:
    src = _clean_checkout(tmp_path)
    built = _build_wheel(src, tmp_path / "dist")
    assert built.returncode != 0
    assert (
        "front-end assets are missing" in built.stdout + built.stderr
        and "npm ci" in built.stdout + built.stderr
    )
    assert not list((tmp_path / "dist").glob("*.whl")) if (tmp_path / "dist").exists() else True
