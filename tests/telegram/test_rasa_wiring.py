"""The channel as Rasa itself loads and uses it (credentials file, agent handoff path)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from rasa.core.run import configure_app, create_http_input_channels
from rasa.server import _get_output_channel
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.telegram.input import TelegramInput, TelegramOutput
from tests.telegram.conftest import SECRET, TOKEN


@pytest.mark.parametrize("quote", ['"', ""])
def test_rasa_builds_the_channel_from_the_credentials_file_offline(tmp_path, monkeypatch, quote):
    # Rasa expands ${VAR} only when unquoted; the channel expands the quoted form itself.
    monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        "channels.telegram.input.TelegramInput:\n"
        f"  token: {quote}${{TELEGRAM_TOKEN}}{quote}\n"
        f"  webhook_secret: {quote}${{TELEGRAM_WEBHOOK_SECRET}}{quote}\n"
        '  api_base_url: "http://127.0.0.1:9/bot"\n',
        encoding="utf-8",
    )
    [channel] = create_http_input_channels(None, str(credentials))
    assert isinstance(channel, TelegramInput)
    assert channel.webhook_secret == SECRET
    assert channel.sender._token == TOKEN

    app = configure_app([channel], enable_api=False)  # port 9 is closed: any call would fail
    paths = {route.path for route in app.router.routes}
    assert "webhooks/telegram/webhook" in paths
    assert "webhooks/telegram/" in paths or "webhooks/telegram" in paths


async def test_agent_message_to_latest_channel_is_sent_to_the_borrowers_chat(bot_api):
    # POST /conversations/telegram:5550001/tracker/events?output_channel=latest&execute_side_effects=true
    channel = TelegramInput(token=TOKEN, webhook_secret=SECRET, api_base_url=bot_api.base_url)
    tracker = DialogueStateTracker.from_events(
        "telegram:5550001", [UserUttered("I want to talk to a person", input_channel="telegram")]
    )
    request = SimpleNamespace(
        args={"output_channel": "latest"},
        app=SimpleNamespace(ctx=SimpleNamespace(input_channels=[channel])),
    )
    output = _get_output_channel(request, tracker)
    assert isinstance(output, TelegramOutput)

    agent_message = BotUttered("Hello, I'm Sam. I can approve a lower payment.")
    await output.send_response(tracker.sender_id, agent_message.message())  # as the processor does
    assert bot_api.sent_texts(5550001) == ["Hello, I'm Sam. I can approve a lower payment."]
    await channel.sender.close()
