"""rasa_runtime/outage.py: a database outage fails the turn with a clear answer; nothing falls back to memory."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import OperationalError

import rasa_runtime
from channels.outage_reply import STORAGE_TROUBLE_REPLY
from rasa_runtime import outage


class BrokenStore(InMemoryTrackerStore):
    """A tracker store whose database is down (or, with `error`, fails some other way)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(Domain.empty())
        self.error = error

    async def retrieve(self, sender_id):
        raise self.error

    async def save(self, tracker):
        raise self.error


DOWN = OperationalError("SELECT data FROM events", {}, Exception("server closed the connection unexpectedly"))


@pytest.fixture(autouse=True)
def installed():
    rasa_runtime.install()


async def test_a_database_outage_fails_retrieve_and_save_instead_of_using_an_empty_in_memory_store():
    store = FailSafeTrackerStore(BrokenStore(DOWN))
    with pytest.raises(outage.StorageUnavailable):
        await store.retrieve("rest:someone")  # Rasa returned None: the conversation restarted from hello
    with pytest.raises(outage.StorageUnavailable):
        await store.save(DialogueStateTracker("rest:someone", []))  # Rasa saved it in this process's memory
    assert await store.fallback_tracker_store.retrieve("rest:someone") is None


async def test_other_tracker_store_errors_keep_rasas_behaviour():
    store = FailSafeTrackerStore(BrokenStore(ValueError("not an outage")))
    assert await store.retrieve("rest:someone") is None


async def test_the_borrower_is_told_to_send_it_again_and_the_turn_still_fails():
    async def failing_turn(message):
        raise outage.StorageUnavailable("the tracker store is unreachable")

    agent = SimpleNamespace(is_ready=lambda: True, lock_store=InMemoryLockStore(),
                            processor=SimpleNamespace(handle_message=failing_turn))
    collector = CollectingOutputChannel()
    with pytest.raises(outage.StorageUnavailable):
        await outage.handle_message(agent, UserMessage("how much do I owe", collector, "rest:someone"))
    assert [message["text"] for message in collector.messages] == [STORAGE_TROUBLE_REPLY]


async def test_a_turn_failing_for_another_reason_is_not_answered_as_an_outage():
    async def failing_turn(message):
        raise KeyError("a bug")

    agent = SimpleNamespace(is_ready=lambda: True, lock_store=InMemoryLockStore(),
                            processor=SimpleNamespace(handle_message=failing_turn))
    collector = CollectingOutputChannel()
    with pytest.raises(KeyError):
        await outage.handle_message(agent, UserMessage("hi", collector, "rest:someone"))
    assert collector.messages == []
