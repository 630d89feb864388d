"""Fixtures for the Telegram channel: a fake Bot API, and the channel served by a real Sanic app.

The channel is mounted exactly as Rasa mounts it (``rasa.core.channels.channel.register``
under ``/webhooks/``); Rasa's agent is replaced by a recorder that answers with a
scripted reply through the message's output channel.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from channels.telegram.dedup import InMemoryUpdateLog
from channels.telegram.records import ChatRecords
from channels.telegram.input import TelegramInput
from channels.telegram.sender import TelegramSender
from tests.channel_server import serve_channel_app, stop_channel_app
from tests.telegram.fake_bot_api import FakeBotApi

UPDATES_DIR = Path(__file__).parent / "updates"
TOKEN = "123456789:AAH-test-token-not-real"
SECRET = "s3cret_Webhook-token"

# Several Sanic apps in one process (one per test) need test mode.
Sanic.test_mode = True


def load_update(name: str) -> Dict[str, Any]:
    """A fresh copy of a recorded Telegram update, e.g. ``load_update("sticker")``."""
    return copy.deepcopy(json.loads((UPDATES_DIR / f"{name}.json").read_text(encoding="utf-8")))


Reply = Callable[[UserMessage], List[Dict[str, Any]]]


def echo_reply(message: UserMessage) -> List[Dict[str, Any]]:
    return [{"text": f"You said: {message.text}"}]


@dataclass
class RecordingAgent:
    """Stands in for ``rasa.core.agent.Agent``: records messages, answers with ``reply``."""

    reply: Reply = echo_reply
    messages: List[UserMessage] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        for response in self.reply(message):
            await message.output_channel.send_response(message.sender_id, dict(response))


@dataclass
class ChannelServer:
    channel: TelegramInput
    agent: RecordingAgent
    base_url: str
    client: httpx.AsyncClient

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/webhooks/telegram/webhook"

    async def post_update(self, update: Dict[str, Any], secret: Optional[str] = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return await self.client.post(self.webhook_url, json=update, headers=headers)


@pytest.fixture
async def bot_api():
    api = await FakeBotApi().start()
    yield api
    await api.stop()


def make_sender(bot_api: FakeBotApi, **overrides: Any) -> TelegramSender:
    """A sender against the fake API, with short retry backoff to keep tests fast."""
    options = dict(api_base_url=bot_api.base_url, retry_backoff=0.01)
    options.update(overrides)
    return TelegramSender(TOKEN, **options)


@pytest.fixture
async def serve_channel(bot_api, database):
    """Start the channel in a real Sanic server: ``await serve_channel(secret=..., reply=...)``."""
    started = []

    async def start(secret: Optional[str] = SECRET, reply: Reply = echo_reply,
                    sender: Optional[TelegramSender] = None) -> ChannelServer:
        channel = TelegramInput(
            token=TOKEN,
            webhook_secret=secret,
            api_base_url=bot_api.base_url,
            sender=sender or make_sender(bot_api),
            update_log=InMemoryUpdateLog(),
            records=ChatRecords(database=database),  # the test's own database, never the project's
        )
        agent = RecordingAgent(reply=reply)
        server, url = await serve_channel_app(channel, agent, "telegram_test")
        client = httpx.AsyncClient(timeout=20.0)
        started.append((server, client))
        return ChannelServer(channel, agent, url, client)

    yield start
    for server, client in started:
        await client.aclose()
        await stop_channel_app(server)
