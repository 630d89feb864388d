"""The REST channel served by a real Sanic app as Rasa mounts it, Rasa's agent replaced by a
recorder: conversation ids are always `rest:<sender>`, and over-long messages stop here."""
from __future__ import annotations

import socket
import uuid

import httpx
import pytest
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.messages import MAX_MESSAGE_CHARS
from bot.runtime_config import credentials
from channels.message_limit import TOO_LONG_REPLY
from channels.rest import NamespacedRestInput

Sanic.test_mode = True


class RecordingAgent:
    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"You said: {message.text}")


@pytest.fixture
async def rest_server():
    agent = RecordingAgent()
    app = Sanic(f"rest_test_{uuid.uuid4().hex[:8]}", configure_logging=False)
    app.config.MOTD = False
    app.ctx.agent = agent
    register([NamespacedRestInput()], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.after_start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=20) as client:
        yield client, agent
    await server.before_stop()
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("sender, conversation", [
    ("telegram:5550001", "rest:telegram:5550001"),
    ("web:" + "a" * 64, "rest:web:" + "a" * 64),
    ("rest:x", "rest:rest:x"),
    ("me", "rest:me"),
    (42, "rest:42"),
    (None, "rest:default"),
])
async def test_every_rest_sender_is_a_rest_conversation(rest_server, sender, conversation):
    client, agent = rest_server
    body = {"message": "hi", "input_channel": "telegram"}
    if sender is not None:
        body["sender"] = sender
    response = await client.post("/webhooks/rest/webhook", json=body)
    assert response.json() == [{"recipient_id": conversation, "text": "You said: hi"}]
    assert agent.messages[-1].sender_id == conversation
    assert agent.messages[-1].input_channel == "rest"  # the body cannot claim another channel


@pytest.mark.parametrize("length, reaches_rasa", [(MAX_MESSAGE_CHARS, True), (MAX_MESSAGE_CHARS + 1, False)])
async def test_a_message_over_the_limit_is_answered_and_never_reaches_rasa(rest_server, length, reaches_rasa):
    client, agent = rest_server
    text = "9" + " " * (length - 2) + "9"
    replies = (await client.post("/webhooks/rest/webhook", json={"sender": "me", "message": text})).json()
    assert bool(agent.messages) is reaches_rasa
    if not reaches_rasa:
        assert [reply["text"] for reply in replies] == [TOO_LONG_REPLY]


def test_development_credentials_register_the_namespaced_rest_channel_and_production_none(monkeypatch, tmp_path):
    from bot.config import load_settings

    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("APP_ENV", "development")
    development = credentials(load_settings())
    assert "channels.rest.NamespacedRestInput" in development and "rest" not in development
    monkeypatch.setenv("APP_ENV", "production")
    production = credentials(load_settings())
    assert not any("rest" in name.lower() for name in production)
