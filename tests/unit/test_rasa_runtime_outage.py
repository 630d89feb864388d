"""rasa_runtime/outage.py: a database outage fails the turn with a clear answer; nothing falls back to memory."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import aiohttp
import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError
from sqlalchemy.exc import OperationalError

import rasa_runtime
from channels.outage_reply import TECHNICAL_TROUBLE_REPLY
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
    assert [message["text"] for message in collector.messages] == [TECHNICAL_TROUBLE_REPLY]


async def test_a_turn_failing_for_another_reason_is_not_answered_as_an_outage():
    async def failing_turn(message):
        raise KeyError("a bug")

    agent = SimpleNamespace(is_ready=lambda: True, lock_store=InMemoryLockStore(),
                            processor=SimpleNamespace(handle_message=failing_turn))
    collector = CollectingOutputChannel()
    with pytest.raises(KeyError):
        await outage.handle_message(agent, UserMessage("hi", collector, "rest:someone"))
    assert collector.messages == []


def _raised_by_rasa(error: Exception) -> Exception:
    """The error as Rasa's `RemoteAction.run` raises it: a RasaException raised while handling `error`."""
    try:
        try:
            raise error
        except Exception as inner:
            raise RasaException("Failed to execute custom action 'action_verify_identity'") from (
                inner if isinstance(inner, ClientResponseError) else None)
    except RasaException as outer:
        if outer.__cause__ is None:
            outer.__context__ = error
        return outer


@pytest.mark.parametrize("error, down", [
    (aiohttp.ClientConnectorError(SimpleNamespace(host="actions", port=5055, ssl=None), OSError(111, "refused")), True),
    (aiohttp.ServerDisconnectedError(), True),
    (asyncio.TimeoutError(), True),
    (ClientResponseError(502, "Bad Gateway", "nginx"), True),
    (ClientResponseError(503, "Service Unavailable", ""), True),
    (ClientResponseError(504, "Gateway Timeout", ""), True),
    (ClientResponseError(500, "Internal Server Error", "Traceback"), False),   # an action's bug: not an outage
    (ClientResponseError(400, "Bad Request", '{"action_name": "x"}'), False),
    (KeyError("a bug"), False),
])
def test_only_an_unreachable_action_server_counts_as_its_outage(error, down):
    assert outage.is_action_server_outage(_raised_by_rasa(error)) is down


async def test_a_turn_whose_action_server_was_unreachable_fails_with_the_clear_answer():
    """What Rasa's processor does with a failed custom action (logs, carries on) is undone: the turn fails."""
    class Processor:
        async def handle_message(self, message):
            await outage.run_action(self)      # Rasa's _run_action swallowed the failure; the turn goes on
            return ["saved"]

    async def rasa_run_action(processor):
        try:
            await outage.run_remote_action(SimpleNamespace(name=lambda: "action_verify_identity"))
        except RasaException:
            pass
        return False

    async def unreachable(action):
        raise _raised_by_rasa(aiohttp.ServerDisconnectedError())

    agent = SimpleNamespace(is_ready=lambda: True, lock_store=InMemoryLockStore(), processor=Processor())
    collector = CollectingOutputChannel()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outage, "_RASA_RUN_ACTION", rasa_run_action)
        patch.setattr(outage, "_RASA_REMOTE_RUN", unreachable)
        with pytest.raises(outage.ActionServerUnavailable):
            await outage.handle_message(agent, UserMessage("HCF-1001 1988-04-12", collector, "rest:someone"))
    assert [message["text"] for message in collector.messages] == [TECHNICAL_TROUBLE_REPLY]
