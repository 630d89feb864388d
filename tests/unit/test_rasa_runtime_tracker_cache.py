"""The tracker store's per-process cache reads exactly what Rasa's own store reads from the database.

Two of our stores on one SQLite file stand for two Rasa processes; Rasa's `SQLTrackerStore` on the
same file is the reference. Generated sequences of turns (through either store, new sessions
included), rows deleted behind the stores' backs (a forgotten conversation) and trackers changed
and never saved: after each step both caches must give Rasa's tracker.
"""
from __future__ import annotations

import asyncio
import itertools
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from rasa_runtime.tracker_store import SQLTrackerStore, clone
from tests.conftest import PROJECT_ROOT

SENDER = "rest:cache"
DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


def run(coroutine):
    return asyncio.run(coroutine)


def turn(clock, text: str, language: str) -> list:
    t = next(clock)
    return [ActionExecuted("action_listen", timestamp=t), UserUttered(text, {"name": "greet"}, timestamp=t),
            SlotSet("language", language, timestamp=t), BotUttered(text.upper(), timestamp=t),
            ActionExecuted("action_reply", timestamp=t)]


def new_session(clock) -> list:
    t = next(clock)
    return [ActionExecuted("action_session_start", timestamp=t), SessionStarted(timestamp=t)]


def state(tracker: DialogueStateTracker | None) -> dict | None:
    return None if tracker is None else tracker.current_state(EventVerbosity.ALL)


steps = st.lists(st.tuples(st.sampled_from(["turn", "turn", "turn", "session", "forget", "unsaved"]),
                           st.sampled_from([0, 1]), st.sampled_from(["en", "zh"])), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_each_processs_cache_reads_what_rasas_store_reads(plan):
    with tempfile.TemporaryDirectory() as directory:
        db = str(Path(directory) / "tracker.db")
        stores = [SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=db) for _ in range(2)]
        rasa = RasaSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=db)
        clock = itertools.count(1000.0, 1.0)
        for action, which, language in plan:
            store = stores[which]
            tracker = run(store.retrieve(SENDER)) or DialogueStateTracker(SENDER, DOMAIN.slots)
            if action == "forget":
                with sqlite3.connect(db) as connection:
                    connection.execute("DELETE FROM events WHERE sender_id = ?", (SENDER,))
            elif action == "unsaved":   # a turn that failed before the save: nothing may leak into the cache
                for event in turn(clock, "lost", language):
                    tracker.update(event)
            else:
                for event in (new_session(clock) if action == "session" else []) + turn(clock, "hi", language):
                    tracker.update(event)
                run(store.save(tracker))
            expected = state(run(rasa.retrieve(SENDER)))
            assert state(run(stores[0].retrieve(SENDER))) == expected
            assert state(run(stores[1].retrieve(SENDER))) == expected
        for store in stores:
            store.engine.dispose()
        rasa.engine.dispose()


def test_a_read_is_served_from_the_cache_and_a_write_elsewhere_is_caught_up(tmp_path):
    db = str(tmp_path / "tracker.db")
    first, second = (SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=db) for _ in range(2))
    clock = itertools.count(1000.0, 1.0)
    tracker = DialogueStateTracker.from_events(SENDER, new_session(clock) + turn(clock, "hi", "en"), DOMAIN.slots)
    run(first.save(tracker))
    assert run(first.retrieve(SENDER)) is not first.cache.get(SENDER).tracker   # a copy is handed out
    read = run(second.retrieve(SENDER))
    for event in turn(clock, "and again", "zh"):
        read.update(event)
    run(second.save(read))
    caught_up = run(first.retrieve(SENDER))
    assert state(caught_up) == state(read)
    assert caught_up.get_slot("language") == "zh"


def test_a_clone_shares_nothing_rasa_changes_in_place():
    tracker = DialogueStateTracker.from_events(SENDER, [SlotSet("language", "en")], DOMAIN.slots)
    copy = clone(tracker)
    copy.update(SlotSet("language", "zh"))
    copy.update(UserUttered("hi"))
    assert tracker.get_slot("language") == "en" and len(tracker.events) == 1
    assert state(clone(copy)) == state(copy)


@pytest.mark.parametrize("events", [0, 1])
def test_no_tracker_for_an_unknown_conversation(tmp_path, events):
    store = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    if events:
        run(store.save(DialogueStateTracker.from_events("rest:other", [SlotSet("language", "en")], DOMAIN.slots)))
    assert run(store.retrieve(SENDER)) is None
