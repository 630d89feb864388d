from __future__ import annotations

import pytest

from tests.e2e.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The real Rasa server and action server, shared by the evaluation tests of a session
    (the same pattern as tests/e2e/conftest.py)."""
    running = Stack(tmp_path_factory.mktemp("eval"))
    running.setup()
    running.start()
    yield running
    running.stop()
