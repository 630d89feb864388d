"""The REQUIRE_INTEGRATION guard itself: a skip passes locally and fails under REQUIRE_INTEGRATION=1."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

SKIPPING = '''
import pytest
from tests.integration.require import require

def test_skips_in_the_body():
    pytest.skip("no browser here")

@pytest.fixture
def service():
    require(False, "no service here")

def test_skips_in_a_fixture(service):
    pass

@pytest.mark.skipif(True, reason="marked")
def test_marked_skip():
    pass
'''


def run_pytest(tmp_path, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text("from tests.integration.require import pytest_runtest_makereport  # noqa\n")
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    environment = {k: v for k, v in os.environ.items() if k != "REQUIRE_INTEGRATION"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**environment, "PYTHONPATH": str(PROJECT_ROOT), **env})


def test_skips_are_skips_locally(tmp_path):
    result = run_pytest(tmp_path)
    assert result.returncode == 0 and "3 skipped" in result.stdout, result.stdout


def test_every_kind_of_skip_fails_under_require_integration(tmp_path):
    result = run_pytest(tmp_path, REQUIRE_INTEGRATION="1")
    assert result.returncode == 1, result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1], result.stdout
    assert "1 failed, 2 errors" in result.stdout, result.stdout  # skips in setup show as errors
    assert "REQUIRE_INTEGRATION=1 allows no skip" in result.stdout
