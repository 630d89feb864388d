"""Live updates: the watcher reads borrower messages from a real Rasa tracker-store table (made by
rasa_runtime's SQLTrackerStore on a temporary SQLite file), and an SSE client of a real uvicorn
web app receives them; the conversation id never appears in the stream."""
from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rasa.shared.core.events import BotUttered, ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import load_settings
from bot.handoff.accounts import create_account
from bot.handoff.queue import EscalationQueue
from bot.storage import Database
from bot.storage.schema import migrate
from channels.console import console_router
from channels.console.live import LiveHub
from channels.console.rasa_api import RasaConversations
from channels.web.app import create_app
from rasa_runtime.tracker_store import SQLTrackerStore
from tests.handoff.test_console_api import PASSWORD, escalation, sign_in
from tests.handoff.test_console_browser import fake_rasa_app, serving

CONVERSATION = "web:" + "cd" * 32  # a widget session: the borrower's credential


class TrackerStore:
    """A real Rasa tracker store on a temporary SQLite file, written as Rasa writes it."""

    def __init__(self, path) -> None:
        self.url = f"sqlite:///{path}"
        self.store = SQLTrackerStore(dialect="sqlite", db=str(path))
        self.trackers: dict[str, DialogueStateTracker] = {}

    def append(self, sender_id: str, *events) -> None:
        tracker = self.trackers.setdefault(sender_id, DialogueStateTracker.from_events(sender_id, []))
        for event in events:
            tracker.update(event)
        asyncio.run(self.store.save(tracker))


@pytest.fixture
def tracker_store(tmp_path) -> TrackerStore:
    store = TrackerStore(tmp_path / "tracker.db")
    store.append(CONVERSATION, UserUttered("I want a person"), ConversationPaused())
    store.append("telegram:1", UserUttered("someone without an escalation"))
    yield store
    store.store.engine.dispose()


def test_the_watcher_picks_up_a_borrower_message_from_the_tracker_store(database, tracker_store):
    escalation_id = escalation(database, CONVERSATION)
    hub = LiveHub(lambda: database, tracker_store.url)
    assert hub.tick() == []  # the first look only takes note of where things stand
    words = "I lost my job 😀 <b>100%</b> ' OR 1=1 --"
    tracker_store.append(CONVERSATION, UserUttered(words))
    tracker_store.append("telegram:1", UserUttered("not escalated"))  # another conversation: not news here
    tracker_store.append(CONVERSATION, UserUttered("/EXTERNAL_agent_handed_back"))  # the console's own intent
    events = hub.tick()
    assert [name for name, _ in events] == ["message"]
    name, data = events[0]
    assert data["id"] == escalation_id and data["text_preview"] == words and data["at"].endswith("Z")
    with database.unit_of_work() as session:
        stored = EscalationQueue(session).get(escalation_id)
        assert stored.last_borrower_text == words and stored.last_borrower_at is not None
    assert hub.tick() == []  # each row once
    # Unread: the two messages since the pause; an agent's reply resets the count.
    assert hub.tracker.unread([CONVERSATION]) == {CONVERSATION: 1}
    tracker_store.append(CONVERSATION, BotUttered("Ada (agent): hello", metadata={"agent_name": "Ada"}))
    assert hub.tracker.unread([CONVERSATION]) == {}
    tracker_store.append(CONVERSATION, UserUttered("thanks"))
    assert hub.tracker.unread([CONVERSATION]) == {CONVERSATION: 1}


def test_the_watcher_reports_queue_changes(database, tracker_store):
    first = escalation(database, CONVERSATION)
    hub = LiveHub(lambda: database, tracker_store.url)
    hub.tick()
    second = escalation(database, "telegram:1")
    with database.unit_of_work() as session:
        EscalationQueue(session).claim(first, "ada", EscalationQueue(session).get(first).created_at)
    changes = {data["id"]: data for name, data in hub.tick() if name == "queue"}
    assert changes[second] == {"id": second, "status": "waiting", "claimed_by": None, "reason": "request_human",
                               "priority": 3}
    assert changes[first]["status"] == "claimed" and changes[first]["claimed_by"] == "ada"
    assert hub.tick() == []


def read_events(response: httpx.Response, wanted: str, found: list, done: threading.Event) -> None:
    name = None
    for line in response.iter_lines():
        found.append(line)
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == wanted:
            done.set()
            return


def test_an_sse_client_receives_a_borrower_message_and_the_stream_ends_when_it_leaves(database, tracker_store,
                                                                                      tmp_path, monkeypatch):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    escalation_id = escalation(database, CONVERSATION)
    with database.unit_of_work() as session:
        create_account(session, "ada", "Ada", "agent", PASSWORD)
    hub = LiveHub(lambda: database, tracker_store.url, tick_seconds=0.2)
    with serving(fake_rasa_app(CONVERSATION)) as rasa_url:
        app = FastAPI()
        app.include_router(console_router(load_settings(), db=database, rasa=RasaConversations(rasa_url, "t"),
                                          live=hub))
        with serving(app) as url, httpx.Client(base_url=url, timeout=20) as browser:
            sign_in(browser, "ada")
            assert httpx.get(f"{url}/console/api/events").status_code == 401  # no cookie, no stream
            found: list[str] = []
            done = threading.Event()
            with browser.stream("GET", "/console/api/events") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                reader = threading.Thread(target=read_events, args=(response, "message", found, done), daemon=True)
                reader.start()
                deadline = time.time() + 10
                while hub.subscriber_count == 0 and time.time() < deadline:
                    time.sleep(0.05)
                time.sleep(0.5)  # the watcher's first tick has taken note of the table
                tracker_store.append(CONVERSATION, UserUttered("是我，我失业了"))
                assert done.wait(15), f"no message event; stream so far: {found}"
            message = json.loads(next(line for line in reversed(found) if line.startswith("data: "))[6:])
            assert message["id"] == escalation_id and message["text_preview"] == "是我，我失业了"
            assert CONVERSATION not in "\n".join(found)
            deadline = time.time() + 10
            while hub.subscriber_count and time.time() < deadline:
                time.sleep(0.1)
            assert hub.subscriber_count == 0  # the server noticed the client left


def test_the_web_app_starts_its_watcher_with_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    monkeypatch.setenv("RECONCILE_INTERVAL_MINUTES", "0")
    monkeypatch.setenv("PURGE_INTERVAL_HOURS", "0")
    settings = load_settings()
    migrate(settings.database_url)
    database = Database(settings.database_url)
    store = TrackerStore(tmp_path / "tracker.db")
    store.append(CONVERSATION, UserUttered("I want a person"), ConversationPaused())
    escalation_id = escalation(database, CONVERSATION)
    with TestClient(create_app(settings)):  # runs the app's startup: no stream has been opened
        time.sleep(2.0)  # the watcher's first tick takes note of the table
        store.append(CONVERSATION, UserUttered("hello? 你好"))
        deadline = time.time() + 10
        seen = None
        while time.time() < deadline and seen is None:
            time.sleep(0.2)
            with database.unit_of_work() as session:
                seen = EscalationQueue(session).get(escalation_id).last_borrower_text
    assert seen == "hello? 你好"
    store.store.engine.dispose()
    database.dispose()


def test_queue_changes_go_out_even_before_rasa_created_its_tracker_store(database, tmp_path):
    # A fresh install: the web app is up, Rasa has not written its `events` table yet.
    hub = LiveHub(lambda: database, f"sqlite:///{tmp_path / 'no-tracker-yet.db'}")
    hub.tick()
    new = escalation(database, CONVERSATION)
    changes = [data for name, data in hub.tick() if name == "queue"]
    assert [change["id"] for change in changes] == [new]
    hub.tracker.dispose()


def test_a_message_committed_out_of_order_is_not_passed_over(database, tracker_store):
    """Two Rasa processes on one PostgreSQL store: the event with the next id is still in flight when a later
    one is visible. The watcher stops before the missing id and reads the message once it arrives."""
    escalation_id = escalation(database, CONVERSATION)
    hub = LiveHub(lambda: database, tracker_store.url)
    assert hub.tick() == []
    engine = sa.create_engine(tracker_store.url)
    with engine.connect() as connection:
        newest = connection.execute(sa.text("SELECT max(id) FROM events")).scalar_one()

    def write(event_id: int, text: str, at: float) -> None:
        data = json.dumps({"event": "user", "text": text, "timestamp": at})
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO events (id, sender_id, type_name, timestamp, data) "
                                       "VALUES (:id, :sender, 'user', :at, :data)"),
                               {"id": event_id, "sender": CONVERSATION, "at": at, "data": data})

    now = time.time()
    write(newest + 2, "the later process's message", now)
    assert hub.tick() == []  # newest + 1 is not visible yet: nothing is read past it
    write(newest + 1, "the slower process's message", now - 1)  # its id and its words came first
    previews = [data["text_preview"] for name, data in hub.tick() if name == "message"]
    assert previews == ["the slower process's message", "the later process's message"]
    assert hub.tick() == []  # each once
    with database.unit_of_work() as session:
        assert EscalationQueue(session).get(escalation_id).last_borrower_text == "the later process's message"
    engine.dispose()
