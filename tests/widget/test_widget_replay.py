"""A bot message sent while the borrower's page was closed (a reminder, an agent's message) is shown
the next time they open it: on resuming, the server replays the tracker's bot messages after the
newest one the widget saw (`last_seen`, the `stamp` of each bot message)."""
from __future__ import annotations

import time

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from tests.widget.test_socketio_channel import widget_server  # noqa: F401  (the fixture)


async def test_a_message_sent_while_the_page_was_closed_is_shown_on_reopening(widget_server):  # noqa: F811
    store = InMemoryTrackerStore(Domain.empty())

    def answer(message):
        return [{"text": f"You said: {message.text}", "timestamp": time.time()}]

    _, agent, client = await widget_server(reply=answer)
    agent.tracker_store = store
    page = client()
    issued = await page.connect()
    room = "web:" + issued["session_id"]
    await page.say("hi")
    seen = await page.next()
    assert seen["text"] == "You said: hi" and isinstance(seen["stamp"], float)
    await page.sio.disconnect()

    # What the tracker holds: the turn the page saw, then a reminder sent while it was closed.
    tracker = DialogueStateTracker(room, slots=[])
    tracker.update(UserUttered("hi", timestamp=seen["stamp"] - 1))
    tracker.update(BotUttered("You said: hi", timestamp=seen["stamp"]))
    tracker.update(BotUttered("Hello, this is the automated assistant. Reply here to continue.",
                              timestamp=seen["stamp"] + 60))
    await store.save(tracker)

    reopened = client()
    resumed = await reopened.connect_seen(issued["resume_token"], seen["stamp"])
    assert resumed["resumed"] is True
    replayed = await reopened.next()
    assert replayed["text"].startswith("Hello, this is the automated assistant")
    assert replayed["stamp"] == seen["stamp"] + 60
    assert await reopened.nothing_arrives()  # what the page had shown is not sent again

    # Without `last_seen` (an older widget) nothing is replayed: the page shows what it stored.
    again = client()
    await again.connect(resume_token=resumed["resume_token"])
    assert await again.nothing_arrives()
