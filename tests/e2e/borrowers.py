"""One borrower, three channels: the REST channel, the widget's socket.io channel and Telegram.

Every end-to-end conversation test talks through `Borrower`, so the same conversation runs
over each channel exactly as a borrower's client speaks it:

- REST: `POST /webhooks/rest/webhook` (the reply is the response body);
- socket.io: a python-socketio client speaking the widget's protocol (`session_request`,
  `session_confirm {session_id, resume_token}`, `user_uttered {message, metadata}`,
  `bot_uttered`), resuming with its rotating token after a reconnect;
- Telegram: signed webhook updates (text messages, button presses as callback queries on
  the message that carried the keyboard), the bot's messages read from the fake Bot API.

A turn is over when the channel says so, never after a sleep: REST and the Telegram webhook
answer after Rasa has handled the message, and the socket.io message is sent with an
acknowledgement, which the server sends after Rasa's turn, behind every `bot_uttered` of that
turn on the same connection. Each turn is then checked against the tracker: its latest user
message is this one, and it ends in `action_listen` (or the conversation is paused).
"""
from __future__ import annotations

import asyncio
import copy
import itertools
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
import socketio

from channels.telegram.input import neutralise_intent_syntax
from tests.e2e.stack import Stack
from tests.telegram.conftest import load_update
from tests.telegram.fake_bot_api import FakeBotApi

CHANNELS = ("rest", "socketio", "telegram")
TELEGRAM_TOKEN = "123456:E2E"
TELEGRAM_SECRET = "e2e-telegram-secret"
TURN_TIMEOUT = 120
_HAN = re.compile(r"[\u4e00-\u9fff]")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass
class Reply:
    """One message the borrower's client shows."""

    text: str
    buttons: list[Button] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (title, url)


class FakeTelegram:
    """The fake Bot API on its own event loop in a thread, for synchronous tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.api: FakeBotApi = asyncio.run_coroutine_threadsafe(FakeBotApi().start(), self.loop).result(30)

    def env(self) -> dict[str, str]:
        return {"TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
                "TELEGRAM_API_BASE_URL": self.api.base_url}

    def sent_to(self, chat_id: int) -> list[Any]:
        """Messages delivered to a chat, in order (ApiCall objects of sendMessage)."""
        return [call for call in list(self.api.calls)
                if call.method == "sendMessage" and call.status == 200 and int(call.params["chat_id"]) == chat_id]

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.api.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Borrower:
    """A borrower talking to the running stack over one channel."""

    channel: str = ""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.last: list[Reply] = []
        self.sent: list[str] = []
        self.seen = 0  # how many delivered texts the test has been given

    # -- what every channel offers
    @property
    def conversation_id(self) -> str:
        raise NotImplementedError

    def say(self, text: str) -> list[str]:
        """Send a message; the texts of the bot's replies to it (empty while paused)."""
        self.last = self._send(text)
        self.sent.append(text)
        self._check_turn_over(text)
        self.seen = len(self._delivered())
        return [reply.text for reply in self.last]

    def buttons(self) -> list[str]:
        """Titles of the buttons the last turn offered."""
        return [button.title for reply in self.last for button in reply.buttons]

    def links(self) -> list[str]:
        return [url for reply in self.last for _, url in reply.links]

    def press(self, title: str) -> list[str]:
        """Tap a button of the last turn (by title or payload), as the channel's client does."""
        button = next((b for reply in self.last for b in reply.buttons if title in (b.title, b.payload)), None)
        assert button is not None, f"no button {title!r} in {self.buttons()}"
        self.last = self._press(button)
        self.sent.append(button.payload)
        self._check_turn_over(button.payload)
        self.seen = len(self._delivered())
        return [reply.text for reply in self.last]

    def pushed(self, count: int, timeout: float = 30) -> list[str]:
        """Texts that reached the borrower outside a turn (an agent's messages), waiting for `count`."""
        deadline = time.time() + timeout
        while len(self._delivered()) - self.seen < count and time.time() < deadline:
            time.sleep(0.1)  # polling a condition with a deadline, not a guess at timing
        texts = self._delivered()[self.seen:]
        self.seen += len(texts)
        return texts

    def _delivered(self) -> list[str]:
        """Every text the client has shown so far (REST shows only what answers a request)."""
        return []

    def tracker(self) -> dict:
        return self.stack.tracker(self.conversation_id)

    def paused(self) -> bool:
        return any(event.get("event") == "pause" for event in self.tracker()["events"])

    def close(self) -> None:
        """Let go of the channel's connection, if it has one."""

    # -- per channel
    def _send(self, text: str) -> list[Reply]:
        raise NotImplementedError

    def _press(self, button: Button) -> list[Reply]:
        return self._send(button.payload)  # what the widget and a REST client send

    def _as_tracked(self, text: str) -> str:
        """The text as Rasa stores it (Rasa strips whitespace)."""
        return text.strip()

    def _check_turn_over(self, text: str) -> None:
        """The tracker holds this message and ends the turn (action_listen, or paused)."""
        text = self._as_tracked(text)
        deadline = time.time() + 10
        while True:
            events = self.tracker()["events"]
            users = [i for i, event in enumerate(events) if event["event"] == "user"]
            if users and events[users[-1]].get("text") == text:
                actions = [event.get("name") for event in events[users[-1] + 1:] if event["event"] == "action"]
                switches = [event["event"] for event in events if event["event"] in ("pause", "resume")]
                paused_now = bool(switches) and switches[-1] == "pause"
                if (actions and actions[-1] == "action_listen") or paused_now:
                    return
            if time.time() > deadline:
                raise AssertionError(f"{self.channel}: the turn for {text!r} did not end in action_listen")
            time.sleep(0.1)  # only reached if the channel answered before Rasa saved (never seen)


class RestBorrower(Borrower):
    channel = "rest"

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack)
        self.sender = f"e2e-{next(_ids)}-{time.time_ns()}"

    @property
    def conversation_id(self) -> str:
        return f"rest:{self.sender}"

    def _send(self, text: str) -> list[Reply]:
        response = requests.post(f"{self.stack.url}/webhooks/rest/webhook",
                                 json={"sender": self.sender, "message": text}, timeout=TURN_TIMEOUT)
        response.raise_for_status()
        replies = []
        for message in response.json():
            custom = message.get("custom") if isinstance(message.get("custom"), dict) else {}
            buttons = message.get("buttons") or custom.get("buttons") or []
            replies.append(Reply(
                message.get("text") or custom.get("text") or "",
                [Button(b["title"], b["payload"]) for b in buttons],
                [(link["title"], link["url"]) for link in custom.get("links") or []],
            ))
        return replies


class SocketIOBorrower(Borrower):
    """The widget's protocol over long-polling (the websocket client is not installed)."""

    channel = "socketio"

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack)
        self.token: str | None = None
        self.session_id: str | None = None
        self.ready = threading.Event()
        self.inbox: list[dict] = []
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2)
        self.client.on("connect", self._on_connect)
        self.client.on("disconnect", self.ready.clear)
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_uttered", self.inbox.append)
        self.client.connect(stack.url, socketio_path="/socket.io", transports=["polling"], wait_timeout=30)
        assert self.ready.wait(30), "no session_confirm"

    def _on_connect(self) -> None:
        # After every (re)connect, as widget.js does: resume with the latest token.
        self.client.emit("session_request", {"resume_token": self.token} if self.token else {})

    def _on_confirm(self, confirmed: dict) -> None:
        assert self.session_id is None or confirmed["resumed"], "the session was not resumed"
        self.session_id, self.token = confirmed["session_id"], confirmed["resume_token"]
        self.ready.set()

    @property
    def conversation_id(self) -> str:
        return f"web:{self.session_id}"

    def _send(self, text: str) -> list[Reply]:
        # Each message has its own id, as widget.js gives it (resent with the same id if the socket is lost).
        return [Reply(str(event.get("text") or ""),
                      [Button(b["title"], b["payload"]) for b in event.get("quick_replies") or []],
                      [(link["title"], link["url"]) for link in event.get("links") or []])
                for event in self._emit(text, uuid.uuid4().hex[:16])]

    def _delivered(self) -> list[str]:
        return [str(event.get("text") or "") for event in list(self.inbox)]

    def deliver(self, text: str, message_id: str | None) -> list[str]:
        """One send as widget.js makes it (with `message_id`, unless None), whatever the turn does:
        the texts of the bot messages that came before its acknowledgement."""
        return [str(event.get("text") or "") for event in self._emit(text, message_id)]

    def _emit(self, text: str, message_id: str | None) -> list[dict]:
        """`user_uttered` on the socket; the bot_uttered events that came before its acknowledgement
        (the ack comes after Rasa's turn, behind every bot_uttered of the turn)."""
        assert self.ready.wait(TURN_TIMEOUT), "socket not connected"
        start = len(self.inbox)
        payload: dict[str, Any] = {"message": text, "metadata": {"language": "zh" if _HAN.search(text) else "en"}}
        if message_id is not None:
            payload["message_id"] = message_id
        self.client.call("user_uttered", payload, timeout=TURN_TIMEOUT)
        return self.inbox[start:]

    def close(self) -> None:
        self.client.disconnect()


class TelegramBorrower(Borrower):
    channel = "telegram"
    _chats = itertools.count(int(time.time()) % 100000 * 1000 + 7_000_000_000)
    _updates = itertools.count(800_000_001)

    def __init__(self, stack: Stack, telegram: FakeTelegram) -> None:
        super().__init__(stack)
        self.telegram = telegram
        self.chat_id = next(self._chats)

    @property
    def conversation_id(self) -> str:
        return f"telegram:{self.chat_id}"

    def _post(self, update: dict) -> list[Reply]:
        status, replies = self.deliver(update)
        assert status == 200, status
        return replies

    def deliver(self, update: dict) -> tuple[int, list[Reply]]:
        """One delivery of an update, as Telegram makes it: the webhook's status and what the bot sent."""
        before = len(self.telegram.sent_to(self.chat_id))
        response = requests.post(f"{self.stack.url}/webhooks/telegram/webhook", json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, timeout=TURN_TIMEOUT)
        # The webhook answers after Rasa's turn, and every send of the turn has been answered by then.
        return response.status_code, [self._reply(call) for call in self.telegram.sent_to(self.chat_id)[before:]]

    def _delivered(self) -> list[str]:
        return [call.params["text"] for call in self.telegram.sent_to(self.chat_id)]

    def _as_tracked(self, text: str) -> str:
        return neutralise_intent_syntax(text)  # typed `/intent{...}` never reaches Rasa as such

    @staticmethod
    def _reply(call: Any) -> Reply:
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard") or []
        keys = [key for row in rows for key in row]
        return Reply(call.params["text"],
                     [Button(k["text"], k["callback_data"]) for k in keys if "callback_data" in k],
                     [(k["text"], k["url"]) for k in keys if "url" in k])

    def _from(self, text: str) -> dict:
        return {"id": self.chat_id, "is_bot": False, "first_name": "Borrower",
                "language_code": "zh-hans" if _HAN.search(text) else "en"}

    def _send(self, text: str) -> list[Reply]:
        return self._post(self.text_update(text))

    def text_update(self, text: str) -> dict:
        """A new update carrying a text message from this borrower (recorded shape, fresh update id)."""
        update = copy.deepcopy(load_update("text_en"))
        update["update_id"] = next(self._updates)
        message = update["message"]
        message.update(message_id=update["update_id"] % 1_000_000, text=text,
                       chat={"id": self.chat_id, "first_name": "Borrower", "type": "private"})
        message["from"] = self._from(text)
        return update

    def _press(self, button: Button) -> list[Reply]:
        """A callback query on the very message that carried the keyboard, as Telegram sends it."""
        carrier = next(call for call in reversed(self.telegram.sent_to(self.chat_id))
                       if any(k.get("callback_data") == button.payload
                              for row in (call.params.get("reply_markup") or {}).get("inline_keyboard") or []
                              for k in row))
        update = copy.deepcopy(load_update("callback_query"))
        update["update_id"] = next(self._updates)
        query = update["callback_query"]
        query["id"] = str(update["update_id"])
        query["from"] = self._from(button.title)
        query["data"] = button.payload
        query["message"].update(message_id=carrier.result["message_id"], text=carrier.params["text"],
                                chat={"id": self.chat_id, "first_name": "Borrower", "type": "private"},
                                reply_markup=carrier.params["reply_markup"])
        return self._post(update)


def borrower_on(channel: str, stack: Stack, telegram: FakeTelegram) -> Borrower:
    if channel == "rest":
        return RestBorrower(stack)
    if channel == "socketio":
        return SocketIOBorrower(stack)
    return TelegramBorrower(stack, telegram)
