"""The widget's socket.io channel served by a real Sanic app (as Rasa mounts it) to real
python-socketio clients, with Rasa's agent replaced by a recorder: server-issued rotating
sessions, a socket bound to its own conversation, every payload shape, the length cap."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.messages import MAX_MESSAGE_CHARS
from bot.storage import Database
from channels.message_limit import TOO_LONG_REPLY
from channels.widget.sessions import WidgetSession, WidgetSessions
from channels.widget.socketio import WidgetSocketIOInput
from tests.channel_server import serve_channel_app, stop_channel_app
from tests.payloads import domain_custom_payloads

Sanic.test_mode = True
AGREEMENT = {"title": "Your agreement AGR-1", "url": "https://hcf.example/agreements/AGR-1?sig=x"}
BUTTONS = [{"title": "Yes", "payload": "Yes"}, {"title": "转人工", "payload": "转人工"}]


@dataclass
class RecordingAgent:
    """Stands in for Rasa's agent: records messages, answers through the message's output channel."""

    reply: Callable[[UserMessage], list[dict[str, Any]]] = lambda m: [{"text": f"You said: {m.text}"}]
    messages: list[UserMessage] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        for response in self.reply(message):
            await message.output_channel.send_response(message.sender_id, dict(response))


class Client:
    """A socket.io client speaking the widget's protocol (long-polling: engineio's async websocket
    client needs a newer aiohttp than Rasa pins)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: asyncio.Queue = asyncio.Queue()
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.sio.on("bot_uttered", self.received.put)
        self.sio.on("session_confirm", self.confirmed.put)

    async def connect(self, resume_token: str | None = None) -> dict:
        await self.sio.connect(self.url, transports=["polling"])
        await self.sio.emit("session_request", {"resume_token": resume_token} if resume_token else {})
        return await asyncio.wait_for(self.confirmed.get(), 10)

    async def connect_seen(self, resume_token: str, last_seen: float) -> dict:
        """Resume as the widget does after a message was shown: with the newest stamp it saw."""
        await self.sio.connect(self.url, transports=["polling"])
        await self.sio.emit("session_request", {"resume_token": resume_token, "last_seen": last_seen})
        return await asyncio.wait_for(self.confirmed.get(), 10)

    async def say(self, text: str, **extra: Any) -> None:
        await self.sio.emit("user_uttered", {"message": text, **extra})

    async def next(self, timeout: float = 5) -> dict:
        return await asyncio.wait_for(self.received.get(), timeout)

    async def nothing_arrives(self, wait: float = 0.7) -> bool:
        await asyncio.sleep(wait)
        return self.received.empty()


@pytest.fixture
async def widget_server(tmp_path):
    """`await widget_server(reply=...)` -> (base URL, recording agent)."""
    database = Database(f"sqlite:///{tmp_path / 'app.db'}")
    WidgetSession.__table__.create(database.engine)
    started, clients = [], []

    async def start(reply=None) -> tuple[str, RecordingAgent, Callable[[], Client]]:
        channel = WidgetSocketIOInput.from_credentials(
            {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True})
        channel.sessions = WidgetSessions(database)
        agent = RecordingAgent(**({"reply": reply} if reply else {}))
        server, url = await serve_channel_app(channel, agent, "widget_test")
        started.append(server)

        def client() -> Client:
            made = Client(url)
            clients.append(made)
            return made

        return url, agent, client

    yield start
    for made in clients:
        if made.sio.connected:
            await made.sio.disconnect()
    for server in started:
        await stop_channel_app(server)
    database.dispose()


async def test_the_server_issues_the_session_and_ignores_a_session_id_sent_by_the_client(widget_server):
    _, agent, client = await widget_server()
    borrower = client()
    confirm = await borrower.connect()
    assert len(confirm["session_id"]) == 64 and confirm["resume_token"]
    await borrower.say("hi", session_id="f" * 64)
    assert (await borrower.next())["text"] == "You said: hi"
    assert agent.messages[-1].sender_id == "web:" + confirm["session_id"]
    assert agent.messages[-1].input_channel == "socketio"


async def test_another_socket_cannot_join_or_speak_in_a_conversation_by_its_id(widget_server):
    _, agent, client = await widget_server()
    borrower, stranger = client(), client()
    mine = await borrower.connect()
    theirs = await stranger.connect()
    assert theirs["session_id"] != mine["session_id"]
    # The stranger names the borrower's conversation, both as Rasa's stock protocol does and as a token.
    await stranger.sio.emit("session_request", {"session_id": mine["session_id"]})
    assert (await asyncio.wait_for(stranger.confirmed.get(), 5))["session_id"] != mine["session_id"]
    await stranger.say("how much do I owe", session_id=mine["session_id"])
    await stranger.next()
    assert agent.messages[-1].sender_id != "web:" + mine["session_id"]
    await borrower.say("hello")
    await borrower.next()
    assert await stranger.nothing_arrives()  # the borrower's replies never reach the stranger


async def test_a_token_resumes_once_and_the_rotated_token_stops_working(widget_server):
    _, agent, client = await widget_server()
    first = client()
    issued = await first.connect()
    await first.sio.disconnect()

    reload = client()
    resumed = await reload.connect(resume_token=issued["resume_token"])
    assert resumed["session_id"] == issued["session_id"]
    assert resumed["resume_token"] != issued["resume_token"]
    assert resumed["resumed"] is True and issued["resumed"] is False

    thief = client()
    stolen = await thief.connect(resume_token=issued["resume_token"])  # the old, rotated token
    assert stolen["session_id"] != issued["session_id"] and stolen["resumed"] is False
    await thief.say("how much do I owe")
    await thief.next()
    assert agent.messages[-1].sender_id == "web:" + stolen["session_id"]
    await reload.say("still me")
    assert (await reload.next())["text"] == "You said: still me"
    assert agent.messages[-1].sender_id == "web:" + issued["session_id"]
    assert await thief.nothing_arrives()


async def test_a_socket_that_asks_again_leaves_its_previous_conversation(widget_server):
    _, _, client = await widget_server()
    borrower, other = client(), client()
    old = await borrower.connect()
    await borrower.sio.emit("session_request", {})
    new = await asyncio.wait_for(borrower.confirmed.get(), 5)
    assert new["session_id"] != old["session_id"]
    resumed = await other.connect(resume_token=old["resume_token"])
    assert resumed["session_id"] == old["session_id"]
    await other.say("hi")
    await other.next()
    assert await borrower.nothing_arrives()  # only ever in one room


async def test_a_message_before_any_session_is_ignored(widget_server):
    _, agent, client = await widget_server()
    borrower = client()
    await borrower.sio.connect(borrower.url, transports=["polling"])
    await borrower.say("HCF-1001 1988-04-12", session_id="a" * 64)
    assert await borrower.nothing_arrives() and agent.messages == []


PAYLOADS = {
    "text only": ({"text": "Your plan is recorded."}, {"text": "Your plan is recorded."}),
    "buttons": ({"text": "Shall I?", "buttons": BUTTONS},
                {"text": "Shall I?", "quick_replies": [{"content_type": "text", **b} for b in BUTTONS]}),
    "links": ({"text": "Signed.", "links": [AGREEMENT]}, {"text": "Signed.", "links": [AGREEMENT]}),
    "buttons and links": ({"text": "Signed.", "buttons": BUTTONS[:1], "links": [AGREEMENT]},
                          {"text": "Signed.", "quick_replies": [{"content_type": "text", **BUTTONS[0]}],
                           "links": [AGREEMENT]}),
}


@pytest.mark.parametrize("case", PAYLOADS)
async def test_each_payload_shape_arrives_as_one_bot_uttered_event(widget_server, case):
    payload, expected = PAYLOADS[case]
    _, agent, client = await widget_server(reply=lambda m: [{"custom": dict(payload)}])
    borrower = client()
    await borrower.connect()
    await borrower.say("I agree")
    assert await borrower.next() == expected
    assert await borrower.nothing_arrives()


async def test_domain_buttons_arrive_as_quick_replies(widget_server):
    _, _, client = await widget_server(reply=lambda m: [{"text": "Which option?", "buttons": BUTTONS}])
    borrower = client()
    await borrower.connect()
    await borrower.say("hi")
    assert (await borrower.next())["quick_replies"] == [{"content_type": "text", **b} for b in BUTTONS]


@pytest.mark.parametrize("payload, delivered", [
    ({"text": "Signed.", "agreement_ref": "AGR-1", "agreement_url": "https://x"}, [{"text": "Signed."}]),
    ({"text": "Open", "links": [{"title": "x", "url": "javascript:alert(1)"}]}, [{"text": "Open"}]),
    ({"internal": "state"}, []),
], ids=["unknown keys", "non-http link", "no text"])
async def test_an_invalid_payload_sends_its_text_and_the_turn_goes_on(widget_server, payload, delivered):
    # The reply after the payload still arrives: the output never raised.
    _, _, client = await widget_server(reply=lambda m: [{"custom": dict(payload)}, {"text": "after"}])
    borrower = client()
    await borrower.connect()
    await borrower.say("I agree")
    arrived = [await borrower.next() for _ in range(len(delivered) + 1)]
    assert arrived == [*delivered, {"text": "after"}]


@pytest.mark.parametrize("length, reaches_rasa", [(MAX_MESSAGE_CHARS, True), (MAX_MESSAGE_CHARS + 1, False)])
async def test_a_message_over_the_limit_is_answered_and_never_reaches_rasa(widget_server, length, reaches_rasa):
    _, agent, client = await widget_server()
    borrower = client()
    await borrower.connect()
    await borrower.say("9" + " " * (length - 2) + "9")
    reply = await borrower.next()
    assert bool(agent.messages) is reaches_rasa
    if not reaches_rasa:
        assert reply == {"text": TOO_LONG_REPLY}


@pytest.mark.parametrize("name", sorted(domain_custom_payloads()))
async def test_every_custom_payload_of_the_domain_reaches_the_widget_as_one_event(widget_server, name):
    payload = domain_custom_payloads()[name]
    _, _, client = await widget_server(reply=lambda m: [{"custom": dict(payload)}])
    borrower = client()
    await borrower.connect()
    await borrower.say("I agree")
    arrived = await borrower.next()
    assert arrived["text"] == payload["text"] and arrived.get("links", []) == payload.get("links", [])
    assert await borrower.nothing_arrives()


# A bot message sent while the borrower's page was closed (a reminder, an agent's message) is shown the
# next time they open it: on resuming, the server replays the tracker's bot messages after the newest one
# the widget saw (`last_seen`, the `stamp` of each bot message). Here, not in a file of its own: the
# widget's browser tests hold Playwright's loop for the session, and an async test after them cannot run.
async def test_a_message_sent_while_the_page_was_closed_is_shown_on_reopening(widget_server):
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
