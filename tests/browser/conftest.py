"""Real browser tests: Playwright driving Debian's chromium (/usr/bin/chromium, never a
downloaded browser). Without chromium or playwright they skip locally and fail under CI=true."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("TWINRAIL_TEST_CHROMIUM", "/usr/bin/chromium")


def _require_browser() -> None:
    missing = None
    if shutil.which(CHROMIUM) is None:
        missing = f"chromium ({CHROMIUM}; apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package (pip install playwright)"
    if missing is None:
        return
    if IN_CI:
        pytest.fail(f"browser tests are mandatory in CI but {missing} is missing")
    pytest.skip(f"{missing} is missing")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # The bank's certificate comes from the sandbox QTSP, unknown to chromium's trust store.
    context = browser.new_context(ignore_https_errors=True)
    yield context.new_page()
    context.close()


# The sandbox bank's fixtures (its QTSP and shiftable clock), shared with tests/sandbox.
from tests.sandbox.conftest import bank_clock, qtsp, session_clock  # noqa: E402, F401
