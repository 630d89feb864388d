"""Rasa's socket.io channel for the web widget: server-issued sessions, one payload shape.

Rasa 3.6's own channel lets a client join any room by sending its name as `session_id`,
so whoever learns a session id (an agent's screen, a log, a shared device) can read and
write that conversation for ever. Here the server issues the session:

- `session_request {}` (or with a token that is not valid) starts a new conversation: the
  server makes a random session id and a resume token and answers `session_confirm
  {session_id, resume_token, resumed: false}`;
- `session_request {resume_token}` resumes that conversation (`resumed: true`) and rotates
  the token: the old one stops working (only the current token's hash is stored, `sessions.py`);
- the socket's conversation is bound server-side to its sid (`sio.save_session`), and
  `user_uttered` always speaks for that conversation: a `session_id` sent by the client is
  ignored. A socket is only ever in the room of its own conversation.

Every bot message carries `stamp`, the timestamp of its event in the tracker. The widget keeps the
newest stamp it has shown and sends it as `last_seen` with its resume token; on resuming, the server
sends the conversation's bot messages recorded after it (a proactive reminder or an agent's message
sent while the page was closed) before anything else.

A message carries the widget's own id for it (`message_id`) and is acknowledged once Rasa has handled
it; the widget sends a message again, with the same id, on its next socket when the acknowledgement
never came (the socket was lost mid-turn), and Rasa handles a message id once (rasa_runtime/once.py).

Conversation ids are namespaced `web:<session id>`: the widget can only reach web
conversations. Messages longer than `bot.messages.MAX_MESSAGE_CHARS` are answered here and
never reach Rasa.

With more than one Rasa process (`SANIC_WORKERS` > 1, or several hosts), a borrower's socket
lives in one process while an agent's message (Rasa's HTTP API, `output_channel=latest`) may
arrive at another, which has no such socket. When `redis_url` is configured, every emit goes
through Redis (python-socketio's AsyncRedisManager) and the process that holds the socket
delivers it; a borrower's typing is kept in Redis too (channels/widget/typing.py), so the console's
question "is the borrower typing?" has the same answer in every process.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import socketio
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request

from bot.config import load_settings

from bot.messages import PayloadError, RichMessage, parse_payload, too_long
from bot.messages.agent_label import AGENT_LABELLED
from channels.message_limit import TOO_LONG_REPLY
from channels.widget.sessions import WidgetSessions, sessions_from_settings
from channels.widget.typing import BorrowerTyping, borrower_typing

logger = logging.getLogger(__name__)

PREFIX = "web:"
REDIS_CHANNEL = "debtassistant-socketio"
# An agent's message as the console labels it (AGENT_LABELLED) is sent as one message, paragraphs and
# all. Rasa's output splits text at blank lines, which made the second paragraph arrive without the
# label, shown as the assistant's.
BORROWER_TYPING_SECONDS = 8.0  # a "typing" from the widget counts this long unless renewed or stopped
MAX_AGENT_NAME = 80
# The widget's own id for a message (widget.js `newLocalId`: 16 hex digits), sent with it every time it
# is sent: the id Rasa stores, so a second delivery is not handled again (rasa_runtime/once.py).
WIDGET_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def conversation_id(session_id: str) -> str:
    return PREFIX + session_id


def bot_uttered(message: RichMessage) -> Dict[str, Any]:
    """One `bot_uttered` event for a custom payload: buttons in Rasa's own quick-reply shape."""
    event: Dict[str, Any] = {"text": message.text}
    if message.buttons:
        event["quick_replies"] = [
            {"content_type": "text", "title": button.title, "payload": button.payload}
            for button in message.buttons
        ]
    if message.links:
        event["links"] = [{"title": link.title, "url": link.url} for link in message.links]
    return event


class WidgetSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, except that a custom payload is read as the one shape.

    Rasa's own `send_custom_json` passes the payload's keys to `emit()` as keyword
    arguments, which raises after the reply went out and loses the turn.
    """

    stamp: Optional[float] = None

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Send one bot event's message, each part stamped with the event's time (for replay)."""
        stamp = message.pop("timestamp", None)
        self.stamp = float(stamp) if isinstance(stamp, (int, float)) else None
        try:
            await super().send_response(recipient_id, message)
        finally:
            self.stamp = None

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        if self.stamp is not None and isinstance(response, dict):
            response = {**response, "stamp": self.stamp}
        await super()._send_message(socket_id, response)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        if AGENT_LABELLED.match(text.strip()):
            await self._send_message(recipient_id, {"text": text.strip()})
            return
        await super().send_text_message(recipient_id, text, **kwargs)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        try:
            message = parse_payload(json_message)
        except PayloadError as error:
            # Never crash the turn: say what can be said, and log what was wrong.
            logger.error("socketio.custom_payload.invalid error=%s", error)
            text = json_message.get("text") if isinstance(json_message, dict) else None
            if isinstance(text, str) and text.strip():
                await self._send_message(recipient_id, {"text": text})
            return
        await self._send_message(recipient_id, bot_uttered(message))


def message_id(data: Dict[str, Any]) -> Optional[str]:
    """`widget:<id>` for the id the widget gave this message, None (Rasa makes one) without a valid id."""
    given = data.get("message_id")
    if isinstance(given, str) and WIDGET_MESSAGE_ID.fullmatch(given):
        return f"widget:{given}"
    return None


def _metadata(data: Dict[str, Any], key: str) -> Dict[str, Any]:
    metadata = data.get(key) or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = {}
    return metadata if isinstance(metadata, dict) else {}


class WidgetSocketIOInput(SocketIOInput):
    """socket.io for the web widget: server-issued, rotating sessions bound to the socket."""

    redis_url: Optional[str] = None
    sessions: Optional[WidgetSessions] = None
    app: Any = None  # the Sanic app, for Rasa's agent (its tracker store) when replaying
    api_token: Optional[str] = None  # Rasa's API token: the console's relay (typing) presents it
    typing_store: Optional[BorrowerTyping] = None  # borrowers typing now (shared through Redis when configured)

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = dict(credentials or {})
        redis_url = credentials.pop("redis_url", None)
        channel = super().from_credentials(credentials)
        channel.redis_url = redis_url
        return channel

    def get_output_channel(self) -> Optional[SocketIOOutput]:
        """What agents' messages (`output_channel=latest`) go through: the validating output."""
        sio = getattr(self, "sio", None)
        return WidgetSocketIOOutput(sio, self.bot_message_evt) if sio is not None else None

    def _sessions(self) -> WidgetSessions:
        # Built on first use, not at import or start-up: the database is only needed by a borrower.
        if self.sessions is None:
            self.sessions = sessions_from_settings()
        return self.sessions

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        namespace = self.namespace
        if self.redis_url:
            # Before any client connects: the manager opens its Redis connections lazily, in
            # each worker process (Sanic forks the workers after the app is built).
            manager = socketio.AsyncRedisManager(self.redis_url, channel=REDIS_CHANNEL)
            manager.set_server(sio)
            sio.manager = manager

        @blueprint.listener("after_server_start")
        async def keep_app(app: Any, _loop: Any) -> None:
            self.app = app

        # Registering again replaces Rasa's handlers for these two events.
        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            token = (data or {}).get("resume_token") if isinstance(data, dict) else None
            sessions = self._sessions()
            issued = await asyncio.to_thread(sessions.resume, token) if isinstance(token, str) else None
            resumed = issued is not None
            if issued is None:
                issued = await asyncio.to_thread(sessions.start)
            bound = await sio.get_session(sid, namespace=namespace)
            if bound.get("conversation_id"):
                # One socket, one conversation: leave the room of the one it had.
                sio.leave_room(sid, bound["conversation_id"], namespace=namespace)
            room = conversation_id(issued.session_id)
            await sio.save_session(sid, {"conversation_id": room}, namespace=namespace)
            sio.enter_room(sid, room, namespace=namespace)  # sync in python-socketio 5.9
            confirm = {"session_id": issued.session_id, "resume_token": issued.token, "resumed": resumed}
            await sio.emit("session_confirm", confirm, room=sid, namespace=namespace)
            last_seen = (data or {}).get("last_seen") if isinstance(data, dict) else None
            if resumed and isinstance(last_seen, (int, float)) and not isinstance(last_seen, bool):
                await self._replay(sid, room, float(last_seen))
            if resumed:
                await self._send_state(sid, room)

        @sio.on("user_typing", namespace=namespace)
        async def user_typing(sid: Text, data: Any) -> None:
            room = (await sio.get_session(sid, namespace=namespace)).get("conversation_id")
            if not room:
                return
            await self._typing().set(room, isinstance(data, dict) and data.get("typing") is True)

        @blueprint.route("/typing", methods=["POST"])
        async def agent_typing(request: Request) -> Any:
            """The console relays an agent's typing to the borrower's room (any process, via Redis)."""
            if not self._token_ok(request):
                return response.json({"detail": "wrong or missing token"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            room, typing = body.get("conversation_id"), body.get("typing")
            if not isinstance(room, str) or not room.startswith(PREFIX) or not isinstance(typing, bool):
                return response.json({"detail": "conversation_id (web:...) and typing (bool) are required"},
                                     status=400)
            name = str(body.get("name") or "")[:MAX_AGENT_NAME]
            await sio.emit("agent_typing", {"typing": typing, "name": name}, room=room, namespace=namespace)
            return response.json({"ok": True})

        @blueprint.route("/typing", methods=["GET"])
        async def borrower_typing(request: Request) -> Any:
            """Whether the borrower of a web conversation is typing now (heard by any process when Redis is set)."""
            if not self._token_ok(request):
                return response.json({"detail": "wrong or missing token"}, status=401)
            room = request.args.get("conversation_id") or ""
            return response.json({"typing": await self._typing().is_typing(room)})

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            room = (await sio.get_session(sid, namespace=namespace)).get("conversation_id")
            if not room:
                logger.warning("socketio.message.without_session ignored")
                return
            data = data if isinstance(data, dict) else {}
            text = str(data.get("message", ""))
            output = WidgetSocketIOOutput(sio, self.bot_message_evt)
            if too_long(text):
                logger.warning("socketio.message.too_long chars=%s", len(text))
                await output.send_text_message(room, TOO_LONG_REPLY)
                return
            message = UserMessage(text, output, room, input_channel=self.name(),
                                  message_id=message_id(data), metadata=_metadata(data, self.metadata_key))
            await self._typing().set(room, False)
            try:
                await on_new_message(message)
            except Exception:  # noqa: BLE001 - the turn failed (what the borrower was told: rasa_runtime/outage.py)
                logger.exception("socketio.message.processing_failed")
                return  # the acknowledgement still goes out: the widget is not left waiting
            await self._send_state(sid, room)

        return blueprint

    def _typing(self) -> BorrowerTyping:
        if self.typing_store is None:
            self.typing_store = borrower_typing(self.redis_url, BORROWER_TYPING_SECONDS)
        return self.typing_store

    def _token_ok(self, request: Request) -> bool:
        if self.api_token is None:
            self.api_token = load_settings().rasa_api_token
        given = request.args.get("token") or ""
        return bool(self.api_token) and hmac.compare_digest(given.encode(), self.api_token.encode())

    async def _send_state(self, sid: Text, room: Text) -> None:
        """Tell the widget whether the assistant is paused for a person (then it shows no typing dots)."""
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return
        tracker = await store.retrieve(room)
        paused = bool(tracker is not None and tracker.is_paused())
        await self.sio.emit("conversation_state", {"paused": paused}, room=sid, namespace=self.namespace)

    async def _replay(self, sid: Text, room: Text, last_seen: float) -> None:
        """Send this socket the conversation's bot messages recorded after `last_seen`, in order."""
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return
        tracker = await store.retrieve(room)
        if tracker is None:
            return
        output = WidgetSocketIOOutput(self.sio, self.bot_message_evt)
        for event in tracker.events:
            if isinstance(event, BotUttered) and event.timestamp > last_seen:
                await output.send_response(sid, event.message())
