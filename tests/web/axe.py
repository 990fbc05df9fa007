"""axe-core in the test browser: the accessibility rules a page must pass (WCAG 2.1 A and AA and
axe's best practices). axe-core comes from the npm registry at the version tests/axe pins,
installed by `make test` (never from a CDN); without it the caller's test is skipped, except
under CI=true, where it fails."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parent.parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_or_skip() -> None:
    if AXE.is_file():
        return
    missing = f"{AXE} is not installed (make test installs it: npm ci --prefix tests/axe)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"the accessibility test must run under CI: {missing}")
    pytest.skip(missing)


@functools.cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def violations(page: Any) -> list[str]:
    """axe's findings on the page as it is now, one line each: rule, impact, where, and why."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's debugging protocol, which the pages' Content Security
        # Policy (no inline script) does not govern: the page is tested as it is served.
        page.evaluate(_source() + "\n;undefined")
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}) at {', '.join(str(n['target']) for n in v['nodes'][:3])}: {v['help']}"
        for v in found
    ]
