"""Telegram end to end: the real Rasa and action servers behind the Telegram channel,
with a local fake Bot API server recording what the bot sends (Telegram is not reachable)."""
from __future__ import annotations

import asyncio
import copy
import itertools

import httpx
import pytest

from channels.console.rasa_api import RasaConversations
from tests.e2e.stack import Stack
from tests.telegram.conftest import load_update
from tests.telegram.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.slow

SECRET = "e2e-telegram-secret"
update_ids = itertools.count(900000001)


def text_update(chat_id: int, text: str, language_code: str) -> dict:
    update = copy.deepcopy(load_update("text_en"))
    update["update_id"] = next(update_ids)
    update["message"]["message_id"] = update["update_id"] % 100000
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    update["message"]["from"]["language_code"] = language_code
    update["message"]["text"] = text
    return update


async def test_the_foundation_conversation_over_telegram_in_both_languages(tmp_path):
    bot_api = await FakeBotApi().start()
    stack = Stack(tmp_path, extra_env={
        "TELEGRAM_TOKEN": "123456:TEST", "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE_URL": bot_api.base_url,
    })
    try:
        await asyncio.to_thread(stack.setup)
        await asyncio.to_thread(stack.start)
        webhook = f"{stack.url}/webhooks/telegram/webhook"
        async with httpx.AsyncClient(timeout=120) as client:
            async def send(chat_id: int, text: str, language_code: str, secret: str = SECRET) -> int:
                response = await client.post(webhook, json=text_update(chat_id, text, language_code),
                                             headers={"X-Telegram-Bot-Api-Secret-Token": secret})
                return response.status_code

            assert await send(5550001, "hi", "en", secret="wrong") == 403
            assert bot_api.sent_texts() == []
            assert await send(5550001, "hi", "en") == 200
            assert "automated assistant" in "\n".join(bot_api.sent_texts(5550001))
            assert await send(5550001, "HCF-1001 1988-04-12", "en") == 200
            assert "3,930.00" in "\n".join(bot_api.sent_texts(5550001))
            assert await send(5550002, "HCF-2002 1992年11月3日", "zh-hans") == 200
            chinese = "\n".join(bot_api.sent_texts(5550002))
            assert "2,400.00" in chinese and "核验成功" in chinese
            assert "2,400.00" not in "\n".join(bot_api.sent_texts(5550001))  # each chat hears only its own

            # Handoff over Telegram, driven as the agent console drives it (Rasa's HTTP API).
            assert await send(5550001, "I want to talk to a person", "en") == 200
            assert "passed this conversation to a person" in bot_api.sent_texts(5550001)[-1]
            before = len(bot_api.sent_texts(5550001))
            assert await send(5550001, "hello? anyone there", "en") == 200
            assert len(bot_api.sent_texts(5550001)) == before  # the bot is paused
            console = RasaConversations(stack.url, "e2e-token")
            try:
                await asyncio.to_thread(console.send_as_agent, "telegram:5550001", "Ada", "Hi, Ada here.", "en")
                assert bot_api.sent_texts(5550001)[-1] == "Ada (agent): Hi, Ada here."
                await asyncio.to_thread(console.resume, "telegram:5550001")
                await asyncio.to_thread(console.hand_back_intent, "telegram:5550001")
            finally:
                console.close()
            assert "back with the automated assistant" in "\n".join(bot_api.sent_texts(5550001)[before + 1:])
            after_hand_back = len(bot_api.sent_texts(5550001))
            assert await send(5550001, "how much do I owe", "en") == 200
            assert "3,930.00" in "\n".join(bot_api.sent_texts(5550001)[after_hand_back:])  # verified state kept
        tracker = await asyncio.to_thread(stack.tracker, "telegram:5550001")
        assert tracker["slots"]["verified"] is True
    finally:
        await asyncio.to_thread(stack.stop)
        await bot_api.stop()
