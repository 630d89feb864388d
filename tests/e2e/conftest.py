from __future__ import annotations

import pytest

from tests.e2e.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The real Rasa server and action server, shared by the end-to-end tests of a session."""
    running = Stack(tmp_path_factory.mktemp("e2e"))
    running.setup()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def fresh_stack(stack):
    """The shared servers with the demo borrowers re-created for this test."""
    stack.reset_demo()
    return stack
