"""Build hook (everything else is in pyproject.toml): a built wheel must carry the web pages'
front-end libraries, api/static/vendor, so an offline intranet ``pip install`` needs no npm.

Building copies them fresh from node_modules (``scripts/vendor-assets``); without node_modules a
build goes on only if a complete copy is already there (as in an sdist), and fails loudly otherwise.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "api" / "static" / "vendor"
REQUIRED_ASSETS = (
    "designer/jiebang-modeler.min.js",
    "bpmn-js/bpmn-navigated-viewer.production.min.js",
    "bpmn-js/assets/bpmn-js.css",
    "designer/dmn-modeler.min.js",
    "dompurify/purify.min.js",
)


def vendor_assets() -> None:
    """Make api/static/vendor from node_modules, or check a shipped copy is complete; exit with a clear message otherwise."""
    if (HERE / "node_modules").is_dir():
        subprocess.run(["bash", str(HERE / "scripts" / "vendor-assets")], cwd=HERE, check=True)
    missing = [name for name in REQUIRED_ASSETS if not (VENDOR / name).is_file()]
    if missing:
        raise SystemExit(
            "jiebang build: the web pages' front-end assets are missing from api/static/vendor "
            f"({', '.join(missing)}). Run 'npm ci' and 'scripts/vendor-assets' (or 'scripts/setup serve') "
            "before building, so the wheel works on an intranet without npm."
        )


class BuildPyWithAssets(build_py):
    def run(self) -> None:
        if not getattr(self, "editable_mode", False):  # an editable install serves the working tree's copy
            vendor_assets()
        super().run()


setup(cmdclass={"build_py": BuildPyWithAssets})
