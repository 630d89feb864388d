"""Debian's Chromium for every browser test: where it is, how it is started.

A missing browser skips locally and fails in CI (`require`, REQUIRE_INTEGRATION=1).
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from playwright.sync_api import Browser, sync_playwright

from tests.integration.require import require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, closed after the block."""
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (scripts/system_packages.sh)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
