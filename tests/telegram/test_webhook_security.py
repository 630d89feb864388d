"""Only Telegram (holding the webhook secret) can inject messages into a conversation."""
from __future__ import annotations

import pytest

from channels.telegram.input import TelegramInput
from tests.telegram.conftest import SECRET, TOKEN, load_update


async def test_request_without_secret_header_is_refused_and_never_reaches_rasa(serve_channel, bot_api):
    server = await serve_channel()
    reply = await server.post_update(load_update("text_en"), secret=None)
    assert reply.status_code == 403
    assert server.agent.messages == []
    assert bot_api.calls == []


async def test_request_with_wrong_secret_is_refused(serve_channel):
    server = await serve_channel()
    reply = await server.post_update(load_update("text_en"), secret=SECRET + "x")
    assert reply.status_code == 403
    assert server.agent.messages == []


async def test_request_with_right_secret_is_accepted(serve_channel):
    server = await serve_channel()
    reply = await server.post_update(load_update("text_en"), secret=SECRET)
    assert reply.status_code == 200
    assert len(server.agent.messages) == 1


async def test_without_configured_secret_every_request_is_refused(serve_channel, monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    server = await serve_channel(secret="")
    for offered in (None, "", "anything"):
        reply = await server.post_update(load_update("text_en"), secret=offered)
        assert reply.status_code == 403
    assert server.agent.messages == []


async def test_without_secret_unsigned_requests_pass_only_in_development(serve_channel, monkeypatch):
    monkeypatch.setenv("APP_ENV", "development")
    server = await serve_channel(secret="")
    reply = await server.post_update(load_update("text_en"), secret=None)
    assert reply.status_code == 200
    assert len(server.agent.messages) == 1


async def test_a_body_that_is_not_an_update_is_rejected_with_400(serve_channel):
    server = await serve_channel()
    reply = await server.client.post(
        server.webhook_url, content=b"not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert reply.status_code == 400
    assert server.agent.messages == []


async def test_health_route_answers_without_calling_telegram(serve_channel, bot_api):
    server = await serve_channel()
    reply = await server.client.get(f"{server.base_url}/webhooks/telegram/")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}
    assert bot_api.calls == []


def test_credentials_contract_is_read_and_nothing_is_called(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    channel = TelegramInput.from_credentials(
        {"token": TOKEN, "webhook_secret": SECRET, "api_base_url": "http://127.0.0.1:9/bot"}
    )
    assert channel.name() == "telegram"
    assert channel.url_prefix() == "telegram"
    assert channel.webhook_secret == SECRET
    assert channel.get_output_channel().name() == "telegram"


def test_credentials_fall_back_to_environment(monkeypatch):
    monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    channel = TelegramInput.from_credentials(None)
    assert channel.webhook_secret == SECRET


def test_missing_token_fails_fast_naming_the_key(monkeypatch):
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    with pytest.raises(Exception, match="token"):
        TelegramInput.from_credentials({"webhook_secret": SECRET})
