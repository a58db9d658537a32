"""The README is the operator's first page: every picture it shows is in the repository, and no
picture sits there that it does not show (scripts/refresh-screenshots keeps only those)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_shows_every_screenshot_and_only_those_that_exist() -> None:
    shown = set(
        re.findall(r"!\[[^\]]+\]\((docs/screenshots/[^)]+\.png)\)", (ROOT / "README.md").read_text("utf-8"))
    )
    kept = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert shown, "the README shows no screenshot"
    assert shown - kept == set(), "pictures the README shows but the repository lacks"
    assert kept - shown == set(), "pictures in docs/screenshots the README does not show"
