"""Every custom payload shape the actions send, through the real Telegram output, as it reaches
the (fake) Bot API; and the message-length cap before Rasa."""
from __future__ import annotations

import pytest

from bot.messages import MAX_MESSAGE_CHARS
from channels.message_limit import TOO_LONG_REPLY
from channels.telegram.input import TelegramOutput
from tests.payloads import domain_custom_payloads
from tests.telegram.conftest import load_update, make_sender

AGREEMENT = {"title": "Your agreement AGR-20261201-ABC123", "url": "https://hcf.example/agreements/AGR-1?sig=x"}
CASES = {
    "text only": ({"text": "Your plan is recorded."}, None),
    "buttons": ({"text": "Which option?", "buttons": [{"title": "Option 1", "payload": "Option 1"},
                                                      {"title": "方案2", "payload": "方案2"}]},
                [[{"text": "Option 1", "callback_data": "Option 1"}], [{"text": "方案2", "callback_data": "方案2"}]]),
    "links": ({"text": "Signed.", "links": [AGREEMENT]},
              [[{"text": AGREEMENT["title"], "url": AGREEMENT["url"]}]]),
    "buttons and links": ({"text": "Signed.", "buttons": [{"title": "Talk to a person", "payload": "Talk to a person"}],
                           "links": [AGREEMENT]},
                          [[{"text": "Talk to a person", "callback_data": "Talk to a person"}],
                           [{"text": AGREEMENT["title"], "url": AGREEMENT["url"]}]]),
}


@pytest.mark.parametrize("case", CASES)
async def test_each_payload_shape_arrives_as_text_with_an_inline_keyboard(bot_api, case):
    payload, keyboard = CASES[case]
    output = TelegramOutput(make_sender(bot_api))
    await output.send_response("telegram:5550001", {"custom": dict(payload)})
    [sent] = bot_api.calls_to("sendMessage")
    assert sent.params["chat_id"] == 5550001 and sent.params["text"] == payload["text"]
    assert sent.params.get("reply_markup", {}).get("inline_keyboard") == keyboard


@pytest.mark.parametrize("payload, delivered", [
    ({"text": "Signed.", "agreement_ref": "AGR-1"}, ["Signed."]),  # unknown key: the text still goes
    ({"text": "Open", "links": [{"title": "x", "url": "javascript:alert(1)"}]}, ["Open"]),
    ({"internal": "state"}, []),  # nothing a borrower could read
], ids=["unknown key", "non-http link", "no text"])
async def test_an_invalid_payload_sends_its_text_without_a_keyboard_and_never_raises(bot_api, payload, delivered):
    output = TelegramOutput(make_sender(bot_api))
    await output.send_custom_json("telegram:5550001", payload)
    assert bot_api.sent_texts(5550001) == delivered
    assert all("reply_markup" not in call.params for call in bot_api.calls_to("sendMessage"))


async def test_a_pressed_payload_button_reaches_rasa_as_its_plain_text(serve_channel, bot_api):
    server = await serve_channel(reply=lambda m: [{"custom": CASES["buttons"][0]}])
    await server.post_update(load_update("text_en"))
    [sent] = bot_api.calls_to("sendMessage")
    press = load_update("callback_query")
    press["callback_query"]["data"] = "方案2"
    press["callback_query"]["message"]["message_id"] = sent_id = 4242
    press["callback_query"]["message"]["reply_markup"] = sent.params["reply_markup"]
    await server.post_update(press)
    assert server.agent.messages[-1].text == "方案2"
    [removed] = bot_api.calls_to("editMessageReplyMarkup")
    assert removed.params["message_id"] == sent_id  # a genuine button: its keyboard goes


@pytest.mark.parametrize("length, reaches_rasa", [(MAX_MESSAGE_CHARS, True), (MAX_MESSAGE_CHARS + 1, False)])
async def test_a_message_over_the_limit_is_answered_and_never_reaches_rasa(serve_channel, bot_api, length, reaches_rasa):
    server = await serve_channel()
    update = load_update("text_en")
    update["message"]["text"] = "9" + " " * (length - 2) + "9"
    await server.post_update(update)
    assert bool(server.agent.messages) is reaches_rasa
    if not reaches_rasa:
        assert bot_api.sent_texts(5550001) == [TOO_LONG_REPLY]
        assert "2,000 characters" in TOO_LONG_REPLY and "2,000 个字符" in TOO_LONG_REPLY


@pytest.mark.parametrize("name", sorted(domain_custom_payloads()))
async def test_every_custom_payload_of_the_domain_reaches_telegram_with_its_links(bot_api, name):
    payload = domain_custom_payloads()[name]
    output = TelegramOutput(make_sender(bot_api))
    await output.send_response("telegram:5550001", {"custom": payload})
    [sent] = bot_api.calls_to("sendMessage")
    assert sent.params["text"] == payload["text"]
    rows = sent.params.get("reply_markup", {}).get("inline_keyboard", [])
    urls = [button.get("url") for row in rows for button in row if button.get("url")]
    assert urls == [link["url"] for link in payload.get("links", [])]
