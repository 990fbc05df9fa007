"""The browser for page tests: Debian's Chromium driven by Playwright (never a browser Playwright
downloads). Without Chromium the caller's test is skipped, except under CI=true, where it fails:
CI installs Chromium (.ci/run)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync",
]  # fmt: skip


def browser_or_skip() -> None:
    missing = None
    if shutil.which(CHROMIUM) is None:
        missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401, PLC0415 - a test-only dependency
        except ImportError:
            missing = "playwright is not installed (requirements-dev.lock)"
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run under CI: {missing}")
        pytest.skip(missing)
