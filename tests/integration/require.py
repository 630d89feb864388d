"""REQUIRE_INTEGRATION=1 (set by CI): a test that would skip fails instead.

`require()` is what a test calls for something it needs (a browser, a trained model, a
service): it skips locally and fails in CI. The report hook below, imported by
tests/conftest.py, turns every other skip into a failure too, so that no test anywhere can
pass CI by skipping.
"""
from __future__ import annotations

import os

import pytest


def integration_required() -> bool:
    return os.environ.get("REQUIRE_INTEGRATION") == "1"


def require(present: bool, what: str) -> None:
    """Go on when `present`; otherwise skip, or fail under REQUIRE_INTEGRATION=1."""
    if present:
        return
    if integration_required():
        pytest.fail(f"{what} (REQUIRE_INTEGRATION=1 allows no skip)")
    pytest.skip(what)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and integration_required() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped although REQUIRE_INTEGRATION=1 allows no skip: {reason}"
