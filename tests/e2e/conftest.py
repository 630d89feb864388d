"""One running stack for every end-to-end test: Rasa with all channels (REST, the widget's
socket.io, Telegram against a local fake Bot API) and the action server."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from tests.e2e.borrowers import CHANNELS, Borrower, FakeTelegram, borrower_on
from tests.e2e.stack import Stack


@pytest.fixture(scope="session")
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, telegram) -> Iterator[Stack]:
    """The real Rasa server and action server, shared by the end-to-end tests of a session."""
    running = Stack(tmp_path_factory.mktemp("e2e"), extra_env=telegram.env())
    running.setup()
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
def fresh_stack(stack: Stack) -> Stack:
    """The shared servers with the demo borrowers re-created for this test."""
    stack.reset_demo()
    return stack


@pytest.fixture(params=CHANNELS)
def channel(request) -> str:
    """Each conversation test runs over REST, the widget's socket.io and Telegram."""
    return request.param


@pytest.fixture
def new_borrower(stack: Stack, telegram: FakeTelegram, channel: str) -> Iterator[Callable[[], Borrower]]:
    """A factory of borrowers on this test's channel (each its own conversation)."""
    made: list[Borrower] = []

    def make() -> Borrower:
        made.append(borrower_on(channel, stack, telegram))
        return made[-1]

    yield make
    for borrower in made:
        borrower.close()


@pytest.fixture
def borrower(new_borrower) -> Borrower:
    return new_borrower()

