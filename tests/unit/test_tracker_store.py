"""rasa_runtime's SQL tracker store writes the rows Rasa's store writes and reads back what Rasa's reads."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_runtime.tracker_store import SQLTrackerStore
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "tracker.db")


def run(coroutine):
    return asyncio.run(coroutine)


def session(timestamp: float, text: str) -> list:
    return [ActionExecuted("action_session_start", timestamp=timestamp), SessionStarted(timestamp=timestamp),
            ActionExecuted("action_listen", timestamp=timestamp),
            UserUttered(text, {"name": "greet", "confidence": 0.9}, timestamp=timestamp + 1),
            SlotSet("language", "en", timestamp=timestamp + 1),
            BotUttered("Hello, I'm the automated assistant", timestamp=timestamp + 2),
            ActionExecuted("action_listen", timestamp=timestamp + 2)]


def as_dicts(tracker: DialogueStateTracker | None) -> list[dict]:
    assert tracker is not None
    return [event.as_dict() for event in tracker.events]


def test_a_saved_tracker_reads_back_the_same_in_both_stores(domain, db):
    ours = SQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    rasa = RasaSQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    tracker = DialogueStateTracker.from_events("web:abc", session(1000.0, "hi <b>&' OR 1=1 --"), domain.slots)
    run(ours.save(tracker))

    assert as_dicts(run(ours.retrieve("web:abc"))) == as_dicts(tracker)
    assert as_dicts(run(rasa.retrieve("web:abc"))) == as_dicts(tracker)
    assert run(ours.retrieve("web:abc")).get_slot("language") == "en"
    assert run(ours.retrieve("web:nobody")) is None
    assert list(run(ours.keys())) == ["web:abc"]


def test_saving_again_appends_only_the_new_events(domain, db):
    ours = SQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    tracker = DialogueStateTracker.from_events("web:abc", session(1000.0, "hi"), domain.slots)
    run(ours.save(tracker))
    run(ours.save(tracker))  # a duplicate save writes nothing
    tracker.update(UserUttered("how much do I owe", timestamp=1010.0))
    run(ours.save(tracker))

    rows = sqlite3.connect(db).execute("SELECT count(*) FROM events WHERE sender_id = 'web:abc'").fetchone()[0]
    assert rows == len(tracker.events) == 8
    assert as_dicts(run(ours.retrieve("web:abc"))) == as_dicts(tracker)


def test_the_latest_session_and_the_full_history_match_rasas(domain, db):
    ours = SQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    rasa = RasaSQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    tracker = DialogueStateTracker.from_events("tg:42", session(1000.0, "hi"), domain.slots)
    run(ours.save(tracker))
    for event in session(5000.0, "hello again"):
        tracker.update(event)
    run(ours.save(tracker))

    latest = run(ours.retrieve("tg:42"))
    assert as_dicts(latest) == as_dicts(run(rasa.retrieve("tg:42")))
    assert [e.as_dict() for e in latest.events][3]["text"] == "hello again"
    assert len(latest.events) == 7
    assert as_dicts(run(ours.retrieve_full_tracker("tg:42"))) == as_dicts(run(rasa.retrieve_full_tracker("tg:42")))
    assert len(run(ours.retrieve_full_tracker("tg:42")).events) == 14


def test_a_tracker_without_a_session_start_is_read_whole(domain, db):
    ours = SQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    rasa = RasaSQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    tracker = DialogueStateTracker.from_events("web:old", session(1000.0, "hi")[2:], domain.slots)
    run(ours.save(tracker))
    assert as_dicts(run(ours.retrieve("web:old"))) == as_dicts(run(rasa.retrieve("web:old"))) == as_dicts(tracker)


def test_sqlite_runs_in_wal_mode(domain, db):
    ours = SQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    run(ours.save(DialogueStateTracker.from_events("web:abc", session(1000.0, "hi"), domain.slots)))
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
