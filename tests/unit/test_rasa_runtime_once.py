"""rasa_runtime/once.py: which deliveries are looked up, and what counts as handled already.

The whole path (real Rasa, lock, socket.io) is tests/e2e/test_duplicate_delivery.py.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_runtime import once
from channels.widget.socketio import message_id


def tracker_with(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("web:abc", list(events))


@pytest.mark.parametrize("given, looked_up", [
    ("telegram:800000001", True), ("widget:0123456789abcdef", True),
    (None, False),                        # Rasa makes a uuid hex: REST, Rasa's HTTP API
])
def test_only_ids_a_channel_gave_are_looked_up(given, looked_up):
    message = UserMessage("hi", sender_id="web:abc", message_id=given)
    assert (once.delivery_id(message) is not None) is looked_up


def test_a_message_counts_as_handled_when_its_id_is_on_a_user_event_of_the_session():
    tracker = tracker_with(SessionStarted(), ActionExecuted("action_listen"),
                           UserUttered("HCF-1001 1988-04-12", message_id="widget:aaaaaaaaaaaaaaaa"),
                           BotUttered("Thank you, you're verified."))
    assert once.already_handled(tracker, "widget:aaaaaaaaaaaaaaaa")
    assert not once.already_handled(tracker, "widget:bbbbbbbbbbbbbbbb")
    assert not once.already_handled(None, "widget:aaaaaaaaaaaaaaaa")


async def test_a_second_delivery_is_not_handled(monkeypatch):
    store = InMemoryTrackerStore(Domain.empty())
    await store.save(tracker_with(UserUttered("hello", message_id="widget:aaaaaaaaaaaaaaaa")))
    handled = []

    async def rasa_handles(processor, message):
        handled.append(message.text)
        return ["answered"]

    monkeypatch.setattr(once, "_RASA_HANDLE_MESSAGE", rasa_handles)
    processor = SimpleNamespace(tracker_store=store)
    again = UserMessage("hello", CollectingOutputChannel(), "web:abc", message_id="widget:aaaaaaaaaaaaaaaa")
    assert await once.handle_message(processor, again) == []
    new = UserMessage("hello", CollectingOutputChannel(), "web:abc", message_id="widget:cccccccccccccccc")
    assert await once.handle_message(processor, new) == ["answered"]
    rest = UserMessage("hello", CollectingOutputChannel(), "web:abc")
    assert await once.handle_message(processor, rest) == ["answered"]
    assert handled == ["hello", "hello"]


@pytest.mark.parametrize("data, expected", [
    ({"message_id": "0123456789abcdef"}, "widget:0123456789abcdef"),
    ({"message_id": "a" * 64}, "widget:" + "a" * 64),
    ({}, None), ({"message_id": None}, None), ({"message_id": 12345678}, None),
    ({"message_id": "short"}, None), ({"message_id": "a" * 65}, None),
    ({"message_id": "/intent{\"x\":1}"}, None), ({"message_id": "1; DROP TABLE events"}, None),
    ({"message_id": "web:abcdefgh"}, None),   # never another channel's namespace
])
def test_the_widget_message_id_is_taken_only_in_its_own_shape(data, expected):
    assert message_id(data) == expected
