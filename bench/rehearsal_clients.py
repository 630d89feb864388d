"""Simulated borrowers of the rehearsal, one client per channel, all through nginx.

Each speaks its channel as the real client does (tests/e2e/borrowers.py has the synchronous
versions the conversation tests use; these are asyncio, so 30 of them run in one process):

- REST: `POST /webhooks/rest/webhook`, the reply is the answer;
- widget: python-socketio's AsyncClient speaking the widget's protocol: `session_request
  {resume_token}` after every (re)connect, `user_uttered` with the message's own id and an
  acknowledgement that the server sends after Rasa's turn; a message whose send was never
  acknowledged is sent again with the same id on the next socket, as widget.js does. Over long-polling (engine.io's websocket client needs a newer aiohttp
  than Rasa's), each borrower from its own loopback address (127.0.x.y) chosen so that nginx's
  sticky upstream puts half of them on each Rasa process, as it spreads borrowers' addresses;
- Telegram: signed webhook updates in the recorded shape (tests/telegram/updates), the bot's
  messages read from the fake Bot API. A delivery that is not answered 200 is redelivered with the
  same `update_id`, as Telegram does (after 1 s here, not Telegram's minutes).

Every attempt is recorded (`Attempt`): what was sent, when, what came back and whether the turn
counts as answered. A client retries a failed turn with the same text (a borrower sending it again).
"""
from __future__ import annotations

import asyncio
import copy
import itertools
import random
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
import socketio
import yaml

from bench.load import Turn
from bot.messages.agent_label import AGENT_LABELLED
from channels.outage_reply import TECHNICAL_TROUBLE_REPLY
from tests.conftest import PROJECT_ROOT
from tests.telegram.conftest import load_update
from tests.telegram.fake_bot_api import FakeBotApi

TELEGRAM_TOKEN = "777001:REHEARSAL"  # its own dedup namespace in a Redis other stacks may share
TELEGRAM_SECRET = "rehearsal-telegram-secret"
TURN_TIMEOUT = 60
RECONNECT_AFTER_S = 5
LATE_MESSAGE_WAIT_S = 2.0


def _service_unavailable_text() -> str:
    """The action server's own answer when it cannot reach the database (domain.yml, English)."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    return domain["responses"]["utter_service_unavailable"][-1]["text"]


# The two answers that tell a borrower the turn did not go through and to send it again.
TROUBLE_MARKS = (TECHNICAL_TROUBLE_REPLY.split(".")[0], _service_unavailable_text().split(".")[0])


@dataclass
class Attempt:
    channel: str
    borrower: int
    conversation_id: str
    text: str
    started: float
    ended: float = 0.0
    replies: list[str] = field(default_factory=list)
    error: str | None = None
    message_id: str | None = None      # telegram:<update_id> / widget:<the widget's id>: the id Rasa stores
    trouble_reply: bool = False        # a "we're having trouble, send it again" answer (TROUBLE_MARKS)

    @property
    def ok(self) -> bool:
        return self.error is None


def judge(attempt: Attempt, turn: Turn) -> None:
    """Set the attempt's error from its replies (the same rule as bench/load.py's `judge`)."""
    joined = "\n".join(attempt.replies)
    attempt.trouble_reply = any(mark in joined for mark in TROUBLE_MARKS)
    if attempt.error is not None:
        return
    if attempt.trouble_reply:
        attempt.error = "trouble_reply"
    elif turn.expect_reply and not any(text.strip() for text in attempt.replies):
        attempt.error = "empty_reply"
    elif turn.expect_marker and turn.expect_marker not in joined:
        attempt.error = "unexpected_reply"


class Client:
    channel = ""

    def __init__(self, borrower: int) -> None:
        self.borrower = borrower
        self.conversation_id = ""

    async def new_conversation(self) -> None:
        raise NotImplementedError

    async def send(self, turn: Turn) -> Attempt:
        raise NotImplementedError

    async def close(self, keep_http: bool = False) -> None:
        pass

    def _attempt(self, text: str) -> Attempt:
        return Attempt(self.channel, self.borrower, self.conversation_id, text, time.time())


class RestClient(Client):
    channel = "rest"

    def __init__(self, borrower: int, url: str, session: aiohttp.ClientSession) -> None:
        super().__init__(borrower)
        self.url = url.rstrip("/") + "/webhooks/rest/webhook"
        self.session = session
        self.sender = ""

    async def new_conversation(self) -> None:
        self.sender = f"rehearsal-{self.borrower}-{uuid.uuid4().hex[:12]}"
        self.conversation_id = f"rest:{self.sender}"

    async def send(self, turn: Turn) -> Attempt:
        attempt = self._attempt(turn.text)
        try:
            async with self.session.post(self.url, json={"sender": self.sender, "message": turn.text},
                                         timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT)) as response:
                if response.status != 200:
                    attempt.error = f"http_{response.status}"
                else:
                    payload = await response.json(content_type=None)
                    attempt.replies = [m.get("text") or ((m.get("custom") or {}).get("text") or "")
                                       for m in payload if isinstance(m, dict)]
        except Exception as exc:  # noqa: BLE001 - every failure is a measured one
            attempt.error = f"exception_{type(exc).__name__}"
        attempt.ended = time.time()
        judge(attempt, turn)
        return attempt


class WidgetClient(Client):
    """The widget's protocol; `inbox` holds every bot_uttered, agent messages included."""

    channel = "socketio"

    def __init__(self, borrower: int, url: str) -> None:
        super().__init__(borrower)
        self.url = url
        self.sio: socketio.AsyncClient | None = None
        self.http: aiohttp.ClientSession | None = None
        self.token: str | None = None
        self.ready = asyncio.Event()
        self.connection_lost = asyncio.Event()
        self.inbox: list[dict] = []
        self.disconnects: list[float] = []
        self.seen = 0.0  # the newest stamp received
        self.states = 0  # conversation_state events received: one after each turn
        self.awaiting_agent = False  # set by the rehearsal while an agent's message is on its way
        # The message not yet acknowledged: (text, its id, inbox length and time when first sent).
        self.pending: tuple[str, str, int, float] | None = None

    _addresses = itertools.count(1)

    async def settle_on(self, port: int, tries: int = 64) -> None:
        """Take a loopback address that nginx's sticky upstream sends to the Rasa process on `port`
        (told by the rehearsal's X-Upstream header), so that both processes hold widget borrowers."""
        for _ in range(tries):
            number = next(self._addresses)
            address = f"127.0.{1 + number // 250}.{1 + number % 250}"
            http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))
            try:
                async with http.get(f"{self.url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                                    timeout=aiohttp.ClientTimeout(total=10)) as response:
                    if response.headers.get("X-Upstream", "").endswith(f":{port}"):
                        self.http = http
                        return
            except aiohttp.ClientError:
                pass
            await http.close()
        raise RuntimeError(f"no loopback address reaches the Rasa process on port {port}")

    async def new_conversation(self) -> None:
        while self.awaiting_agent:  # an agent's message is on its way to this conversation: stay in it
            await asyncio.sleep(0.1)
        await self.close(keep_http=True)
        self.token, self.seen, self.pending = None, 0.0, None
        await self._connect()

    async def _connect(self) -> None:
        """A new socket; `_on_connect` asks to resume the conversation when there is one."""
        await self.close(keep_http=True)
        self.ready.clear()
        if self.http is None:
            self.http = aiohttp.ClientSession()
        sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2,
                                   randomization_factor=0.5, http_session=self.http)
        # Each handler acts only for the current socket: a replaced one may still deliver an event.
        for event, handler in (("connect", self._on_connect), ("disconnect", self._on_disconnect),
                               ("session_confirm", self._on_confirm), ("bot_uttered", self._on_bot_uttered),
                               ("conversation_state", self._on_state)):
            sio.on(event, self._only_for(sio, handler))
        self.sio = sio
        await sio.connect(self.url, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)
        await asyncio.wait_for(self.ready.wait(), 10)  # no session while the database is down: try again

    async def _ensure_connected(self) -> None:
        """Wait for the socket; if it does not come back by itself within a few seconds (python-socketio's
        reconnection does not always recover from a 502 mid-poll), open a new one and resume, as a page
        reload of widget.js does."""
        deadline = time.time() + TURN_TIMEOUT
        while not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), RECONNECT_AFTER_S)
            except asyncio.TimeoutError:
                if time.time() > deadline:
                    raise
                try:
                    await self._connect()
                except Exception:  # noqa: BLE001 - nginx has no process for us yet: try again
                    await asyncio.sleep(1)

    def _only_for(self, sio: socketio.AsyncClient, handler):
        async def handle(*args):
            if sio is self.sio:
                await handler(*args)
        return handle

    async def _on_connect(self) -> None:
        # As widget.js: resume with the latest token and the newest stamp shown; the server replays
        # what came after it (an agent's message sent while the socket was moving between processes).
        request = {"resume_token": self.token, "last_seen": self.seen} if self.token else {}
        await self.sio.emit("session_request", request)

    async def _on_bot_uttered(self, event: dict) -> None:
        stamp = event.get("stamp") if isinstance(event, dict) else None
        if isinstance(stamp, (int, float)):
            self.seen = max(self.seen, float(stamp))
        self.inbox.append(event)

    async def _on_state(self, _state: dict) -> None:
        self.states += 1

    async def _on_disconnect(self) -> None:
        self.ready.clear()
        self.connection_lost.set()
        self.disconnects.append(time.time())

    async def _on_confirm(self, confirmed: dict) -> None:
        self.conversation_id = f"web:{confirmed['session_id']}"
        self.token = confirmed["resume_token"]
        self.ready.set()

    async def send(self, turn: Turn) -> Attempt:
        """One delivery, as widget.js makes it: a message keeps its id until a send of it is acknowledged,
        and a send on a new socket after an unacknowledged one is the same message again (the server
        handles it once). Its answers may then have come with the first send or on resuming: every
        answer since the message was first sent counts, as for Telegram's redelivery."""
        attempt = self._attempt(turn.text)
        try:
            await self._ensure_connected()
            attempt.conversation_id = self.conversation_id
            if self.pending is None or self.pending[0] != turn.text:
                self.pending = (turn.text, uuid.uuid4().hex[:16], len(self.inbox), attempt.started)
            _, message_id, since, first_sent = self.pending
            attempt.message_id = f"widget:{message_id}"
            states = self.states
            self.connection_lost.clear()
            acknowledged = asyncio.get_running_loop().create_future()
            await self.sio.emit("user_uttered", {"message": turn.text, "message_id": message_id,
                                                 "metadata": {"language": "en"}},
                                callback=lambda *_: acknowledged.done() or acknowledged.set_result(True))
            lost = asyncio.ensure_future(self.connection_lost.wait())
            done, _ = await asyncio.wait({acknowledged, lost}, timeout=TURN_TIMEOUT,
                                         return_when=asyncio.FIRST_COMPLETED)
            lost.cancel()
            if acknowledged not in done:
                attempt.error = "disconnected" if lost in done else "no_ack"
            else:
                self.pending = None   # acknowledged: widget.js never sends it again
                await self._turn_delivered(states)
            attempt.replies = self._answers_since(since, first_sent)
            if attempt.error is None and not attempt.replies:
                # A state that came late from an earlier turn or a resume ended the wait: give this
                # turn's messages (or its "send it again") the time Redis may take.
                await asyncio.sleep(LATE_MESSAGE_WAIT_S)
                attempt.replies = self._answers_since(since, first_sent)
        except Exception as exc:  # noqa: BLE001
            attempt.error = f"exception_{type(exc).__name__}"
        attempt.ended = time.time()
        judge(attempt, turn)
        return attempt

    def _answers_since(self, since: int, first_sent: float) -> list[str]:
        return [str(event.get("text") or "") for event in self.inbox[since:] if self._answers(event, first_sent)]

    async def _turn_delivered(self, states: int, limit_s: float = 10.0) -> None:
        """Wait for the turn's `conversation_state`. With the Redis manager a turn's bot messages travel
        through Redis while its acknowledgement does not, so they can arrive after it; the state is
        emitted after the turn's messages, through Redis too, and arrives behind them. (A failed turn
        sends no state: then this waits `limit_s`.)"""
        deadline = time.time() + limit_s
        while self.states == states and time.time() < deadline:
            await asyncio.sleep(0.05)

    @staticmethod
    def _answers(event: dict, first_sent: float) -> bool:
        """A bot message of this turn: stamped (its tracker event's time) after the message was first sent,
        and not an agent's. A late message of the previous turn is stamped before it."""
        text = str(event.get("text") or "").strip()
        stamp = event.get("stamp")
        return not AGENT_LABELLED.match(text) and (not isinstance(stamp, (int, float)) or stamp >= first_sent)

    def received(self, fragment: str) -> int:
        """How many bot messages carrying `fragment` reached this socket."""
        return sum(1 for event in list(self.inbox) if fragment in str(event.get("text") or ""))

    async def close(self, keep_http: bool = False) -> None:
        if self.sio is not None:
            sio, self.sio = self.sio, None
            try:
                await asyncio.wait_for(sio.disconnect(), 5)
            except Exception:  # noqa: BLE001 - a socket whose process died may not close cleanly
                pass
        if not keep_http and self.http is not None:
            await self.http.close()
            self.http = None


class TelegramClient(Client):
    channel = "telegram"
    _updates = itertools.count(random.randrange(10**8, 9 * 10**8) * 10)
    _chats = itertools.count(random.randrange(10**6, 9 * 10**6) * 1000)

    def __init__(self, borrower: int, url: str, session: aiohttp.ClientSession, bot_api: FakeBotApi) -> None:
        super().__init__(borrower)
        self.url = url.rstrip("/") + "/webhooks/telegram/webhook"
        self.session = session
        self.bot_api = bot_api
        self.chat_id = 0
        self.pending: dict | None = None  # an update not yet answered 200: redelivered as it is
        self.pending_since = 0  # messages the chat had when the pending update was first delivered

    async def new_conversation(self) -> None:
        self.chat_id = next(self._chats)
        self.conversation_id = f"telegram:{self.chat_id}"
        self.pending = None

    def update_for(self, text: str) -> dict:
        update = copy.deepcopy(load_update("text_en"))
        update["update_id"] = next(self._updates)
        message = update["message"]
        sender = {"id": self.chat_id, "is_bot": False, "first_name": "Borrower", "language_code": "en"}
        message.update(message_id=update["update_id"] % 1_000_000, text=text, date=int(time.time()),
                       chat={"id": self.chat_id, "first_name": "Borrower", "type": "private"}, **{"from": sender})
        return update

    def sent(self) -> list[str]:
        return self.bot_api.sent_texts(self.chat_id)

    async def deliver(self, update: dict, url: str | None = None) -> Attempt:
        """POST one update to the webhook (through nginx unless `url`)."""
        attempt = self._attempt(update["message"]["text"])
        attempt.message_id = f"telegram:{update['update_id']}"
        before = len(self.sent())
        try:
            async with self.session.post(url or self.url, json=update,
                                         headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                                         timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT)) as response:
                if response.status != 200:
                    attempt.error = f"http_{response.status}"
                await response.read()
        except Exception as exc:  # noqa: BLE001
            attempt.error = f"exception_{type(exc).__name__}"
        # The webhook answers after the turn; every send of the turn was answered by then.
        attempt.replies = self.sent()[before:]
        attempt.ended = time.time()
        return attempt

    async def send(self, turn: Turn) -> Attempt:
        if self.pending is None or self.pending["message"]["text"] != turn.text:
            self.pending = self.update_for(turn.text)
            self.pending_since = len(self.sent())
        attempt = await self.deliver(self.pending)
        if attempt.ok:
            # Answered 200: Telegram forgets it. Answered with nothing: an earlier delivery that failed
            # on the way back ran the turn (this one was dropped as a duplicate); its answers count.
            if not any(reply.strip() for reply in attempt.replies):
                attempt.replies = [reply for reply in self.sent()[self.pending_since:]
                                   if not any(mark in reply for mark in TROUBLE_MARKS)]
            self.pending = None
        judge(attempt, turn)
        return attempt
