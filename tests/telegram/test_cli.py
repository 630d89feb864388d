"""The two command-line tools: explicit webhook management and the polling relay."""
from __future__ import annotations

import httpx
import pytest

from channels.telegram import polling, webhook
from tests.telegram.conftest import SECRET, TOKEN, load_update


def env_for(bot_api, **extra):
    env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": bot_api.base_url,
           "TELEGRAM_WEBHOOK_SECRET": SECRET, "PUBLIC_BASE_URL": "https://bot.example.org/"}
    env.update(extra)
    return env


async def test_webhook_set_registers_url_secret_and_only_handled_update_kinds(bot_api):
    await webhook._run("set", env_for(bot_api), drop_pending_updates=False)
    [call] = bot_api.calls_to("setWebhook")
    assert call.params["url"] == "https://bot.example.org/webhooks/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert call.token == TOKEN


async def test_telegram_public_url_wins_and_a_full_webhook_url_is_kept(bot_api):
    env = env_for(bot_api, TELEGRAM_PUBLIC_URL="https://tg.example.org/webhooks/telegram/webhook")
    await webhook._run("set", env, drop_pending_updates=False)
    assert bot_api.calls_to("setWebhook")[0].params["url"] == "https://tg.example.org/webhooks/telegram/webhook"


async def test_webhook_delete_and_info_never_print_the_secret(bot_api):
    assert "deleted" in await webhook._run("delete", env_for(bot_api), drop_pending_updates=True)
    assert bot_api.calls_to("deleteWebhook")[0].params["drop_pending_updates"] is True
    info = await webhook._run("info", env_for(bot_api), drop_pending_updates=False)
    assert "pending_update_count: 0" in info
    assert SECRET not in info and TOKEN not in info


@pytest.mark.parametrize("override, message", [
    ({"PUBLIC_BASE_URL": "http://bot.example.org"}, "https"),
    ({"PUBLIC_BASE_URL": ""}, "PUBLIC"),
    ({"TELEGRAM_WEBHOOK_SECRET": "has spaces!"}, "TELEGRAM_WEBHOOK_SECRET"),
    ({"TELEGRAM_TOKEN": ""}, "TELEGRAM_TOKEN"),
])
def test_webhook_set_with_bad_settings_exits_2_naming_the_variable(bot_api, override, message, capsys):
    # main() runs its own event loop, so it must run outside the test's loop: a sync test.
    env = env_for(bot_api, **override)
    env["TELEGRAM_API_BASE_URL"] = "http://127.0.0.1:9/bot"  # never reached
    assert webhook.main(["set"], env=env) == 2
    assert message in capsys.readouterr().err


async def test_polling_relays_updates_through_the_webhook_and_confirms_them(serve_channel, bot_api):
    server = await serve_channel()
    bot_api.updates = [load_update("text_en"), load_update("callback_query")]
    sender = polling.TelegramSender(TOKEN, api_base_url=bot_api.base_url)
    async with httpx.AsyncClient() as client:
        offset = await polling.relay_pending(sender.bot, client, server.webhook_url, SECRET, None, 0)
        assert offset == 731500106
        assert [m.text for m in server.agent.messages] == [
            "I can't pay the full amount this month", '/choose_option{"option": "2"}']
        # The next poll confirms the relayed updates, so Telegram drops them.
        assert await polling.relay_pending(sender.bot, client, server.webhook_url, SECRET, offset, 0) == offset
    assert bot_api.updates == []
    assert bot_api.calls_to("getUpdates")[0].params["allowed_updates"] == webhook.ALLOWED_UPDATES
    await sender.close()


async def test_polling_with_a_wrong_secret_stops_without_confirming(serve_channel, bot_api):
    server = await serve_channel()
    bot_api.updates = [load_update("text_en")]
    sender = polling.TelegramSender(TOKEN, api_base_url=bot_api.base_url)
    async with httpx.AsyncClient() as client:
        with pytest.raises(polling.RasaRefused):
            await polling.relay_pending(sender.bot, client, server.webhook_url, "wrong", None, 0)
    assert server.agent.messages == []
    assert len(bot_api.updates) == 1
    await sender.close()


async def test_polling_while_a_webhook_is_set_exits_and_points_to_webhook_delete(bot_api, caplog):
    bot_api.fail_next(1, status=409, method="getUpdates")
    code = await polling.run(TOKEN, SECRET, "http://127.0.0.1:9", api_base_url=bot_api.base_url, poll_timeout=0)
    assert code == 2
    assert "channels.telegram.webhook delete" in caplog.text
    assert bot_api.calls_to("deleteWebhook") == []  # polling deletes nothing on its own
