"""Rasa's socket.io channel with conversation ids that nobody can choose for someone else.

Rasa 3.6's own channel lets a client join any room by sending its name as
`session_id`, so a guessed or leaked id (or "telegram:123") joins that
conversation. Here a session id must be a long random hex string (the widget
makes 256 bits), and both the room and the tracker's conversation id are
namespaced `web:<id>`: the widget can only ever reach web conversations.

With more than one Rasa process (`SANIC_WORKERS` > 1, or several hosts), a borrower's socket
lives in one process while an agent's message (Rasa's HTTP API, `output_channel=latest`) may
arrive at another, which has no such socket. When `redis_url` is configured, every emit goes
through Redis (python-socketio's AsyncRedisManager) and the process that holds the socket
delivers it.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import socketio
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[0-9a-f]{32,128}$")
PREFIX = "web:"
REDIS_CHANNEL = "debtassistant-socketio"


def conversation_id(session_id: str) -> str:
    return PREFIX + session_id


def valid_session_id(value: Any) -> bool:
    return isinstance(value, str) and bool(SESSION_ID.match(value))


class WidgetSocketIOInput(SocketIOInput):
    """socket.io for the web widget: validated, namespaced session ids (always persistent)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    redis_url: Optional[str] = None

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = dict(credentials or {})
        redis_url = credentials.pop("redis_url", None)
        channel = super().from_credentials(credentials)
        channel.redis_url = redis_url
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        if self.redis_url:
            # Before any client connects: the manager opens its Redis connections lazily, in
            # each worker process (Sanic forks the workers after the app is built).
            manager = socketio.AsyncRedisManager(self.redis_url, channel=REDIS_CHANNEL)
            manager.set_server(sio)
            sio.manager = manager

        # Registering again replaces Rasa's handlers for these two events.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            requested = (data or {}).get("session_id")
            session_id = requested if valid_session_id(requested) else secrets.token_hex(32)
            sio.enter_room(sid, conversation_id(session_id), namespace=self.namespace)  # sync in python-socketio 5.9
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Dict) -> None:
            session_id = (data or {}).get("session_id")
            if not valid_session_id(session_id):
                logger.warning("socket.io message without a valid session id ignored")
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            message = UserMessage(
                str(data.get("message", "")),
                SocketIOOutput(sio, self.bot_message_evt),
                conversation_id(session_id),
                input_channel=self.name(),
                metadata=metadata,
            )
            await on_new_message(message)

        return blueprint
