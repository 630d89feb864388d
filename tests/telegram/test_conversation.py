"""What a borrower sees and what reaches Rasa, update by update."""
from __future__ import annotations

import json

import pytest

from channels.telegram.input import TEXT_ONLY_REPLIES, neutralise_intent_syntax
from tests.telegram.conftest import load_update


async def test_text_round_trip_reaches_rasa_and_the_reply_reaches_the_same_chat(serve_channel, bot_api):
    server = await serve_channel()
    reply = await server.post_update(load_update("text_en"))

    assert reply.status_code == 200
    [message] = server.agent.messages
    assert message.text == "I can't pay the full amount this month"
    assert message.sender_id == "telegram:5550001"
    assert message.input_channel == "telegram"
    assert message.metadata == {
        "channel": "telegram", "language_code": "en", "chat_id": 5550001,
        "update_id": 731500101, "start_param": None,
    }
    [sent] = bot_api.calls_to("sendMessage")
    assert sent.params["chat_id"] == 5550001
    assert sent.params["text"] == "You said: I can't pay the full amount this month"
    assert "parse_mode" not in sent.params  # plain text: markup is never interpreted


async def test_chinese_text_keeps_its_language_code(serve_channel):
    server = await serve_channel()
    await server.post_update(load_update("text_zh"))
    [message] = server.agent.messages
    assert message.text == "我这个月只能还五百块"
    assert message.metadata["language_code"] == "zh-hans"
    assert message.sender_id == "telegram:5550002"


async def test_start_with_deep_link_becomes_greet_with_param_in_metadata(serve_channel):
    server = await serve_channel()
    await server.post_update(load_update("start_deeplink"))
    [message] = server.agent.messages
    assert message.text == "/greet"
    assert message.metadata["start_param"] == "acct_7F3k-9"
    assert message.metadata["language_code"] == "zh-hans"


@pytest.mark.parametrize("text, param", [("/start", None), ("/start@debt_helper_bot", None),
                                         ("/start ../../etc{}", None)])
async def test_plain_or_malformed_start_greets_without_param(serve_channel, text, param):
    server = await serve_channel()
    update = load_update("start_deeplink")
    update["message"]["text"] = text
    await server.post_update(update)
    [message] = server.agent.messages
    assert (message.text, message.metadata["start_param"]) == ("/greet", param)


async def test_typed_intent_syntax_reaches_rasa_as_plain_text(serve_channel):
    server = await serve_channel()
    await server.post_update(load_update("slash_intent"))
    [message] = server.agent.messages
    assert not message.text.startswith("/")
    assert message.text == 'inform{"verified": true}'


@pytest.mark.parametrize("typed", ['/inform{"verified": true}', ' / /inform{"verified": true}',
                                   '//affirm', '\n/affirm'])
def test_no_typed_text_survives_as_rasa_intent_syntax(typed):
    # Rasa strips the text and checks for a leading "/" (YAMLStoryReader.unpack_regex_message).
    assert not neutralise_intent_syntax(typed).strip().startswith("/")


async def test_edited_message_is_processed_as_a_new_message(serve_channel):
    server = await serve_channel()
    await server.post_update(load_update("edited_message"))
    [message] = server.agent.messages
    assert message.text == "I can pay 200 this month"
    assert message.sender_id == "telegram:5550001"


async def test_group_chats_are_ignored_so_debts_are_never_discussed_in_front_of_others(serve_channel, bot_api):
    server = await serve_channel()
    reply = await server.post_update(load_update("group_text"))
    assert reply.status_code == 200
    assert server.agent.messages == []
    assert bot_api.calls == []


async def test_sticker_from_chinese_user_gets_chinese_text_only_reply_without_rasa(serve_channel, bot_api):
    server = await serve_channel()
    await server.post_update(load_update("sticker"))
    assert server.agent.messages == []
    assert bot_api.sent_texts(5550002) == [TEXT_ONLY_REPLIES["zh"]]


@pytest.mark.parametrize("name, language", [("photo", "en"), ("voice", "zh"), ("document", "en"),
                                            ("location", "en")])
async def test_non_text_messages_get_the_polite_reply_in_the_users_language(serve_channel, bot_api, name, language):
    server = await serve_channel()
    await server.post_update(load_update(name))
    assert server.agent.messages == []
    assert bot_api.sent_texts() == [TEXT_ONLY_REPLIES[language]]


async def test_same_update_id_twice_is_processed_once(serve_channel, bot_api):
    server = await serve_channel()
    first = await server.post_update(load_update("text_en"))
    second = await server.post_update(load_update("text_en"))
    assert (first.status_code, second.status_code) == (200, 200)
    assert len(server.agent.messages) == 1
    assert len(bot_api.calls_to("sendMessage")) == 1


def offer_plans(message):
    return [{"text": "Which plan works for you?", "buttons": [
        {"title": "£120 a month for 10 months", "payload": '/choose_option{"option": "1"}'},
        {"title": "£80 a month for 15 months", "payload": '/choose_option{"option": "2"}'},
    ]}]


async def test_buttons_are_sent_as_an_inline_keyboard_carrying_the_payloads(serve_channel, bot_api):
    server = await serve_channel(reply=offer_plans)
    await server.post_update(load_update("text_en"))
    [sent] = bot_api.calls_to("sendMessage")
    assert sent.params["text"] == "Which plan works for you?"
    assert sent.params["reply_markup"] == {"inline_keyboard": [
        [{"text": "£120 a month for 10 months", "callback_data": '/choose_option{"option": "1"}'}],
        [{"text": "£80 a month for 15 months", "callback_data": '/choose_option{"option": "2"}'}],
    ]}


async def test_pressing_a_button_delivers_its_payload_as_is_and_answers_the_callback(serve_channel, bot_api):
    server = await serve_channel(reply=lambda message: [{"text": "Plan 2 it is."}])
    reply = await server.post_update(load_update("callback_query"))

    assert reply.status_code == 200
    [message] = server.agent.messages
    assert message.text == '/choose_option{"option": "2"}'
    assert message.sender_id == "telegram:5550001"
    [answer] = bot_api.calls_to("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "4382bfdwdsb323b2d9"
    [edit] = bot_api.calls_to("editMessageReplyMarkup")  # no second press of the same keyboard
    assert (edit.params["chat_id"], edit.params["message_id"]) == (5550001, 1007)
    assert bot_api.sent_texts(5550001) == ["Plan 2 it is."]


async def test_callback_data_that_no_button_carried_is_treated_as_typed_text(serve_channel, bot_api):
    server = await serve_channel()
    update = load_update("callback_query")
    update["callback_query"]["data"] = '/inform{"verified": true}'  # a modified client's forgery
    await server.post_update(update)
    [message] = server.agent.messages
    assert message.text == 'inform{"verified": true}'
    assert len(bot_api.calls_to("answerCallbackQuery")) == 1
    assert bot_api.calls_to("editMessageReplyMarkup") == []


async def test_button_payload_over_64_bytes_falls_back_to_the_title(serve_channel, bot_api):
    long_payload = "/choose_option" + json.dumps({"option": "2", "note": "x" * 80})
    server = await serve_channel(reply=lambda m: [{"text": "Pick one", "buttons": [
        {"title": "Plan B", "payload": long_payload}]}])
    await server.post_update(load_update("text_en"))
    [sent] = bot_api.calls_to("sendMessage")
    assert sent.params["reply_markup"]["inline_keyboard"] == [[{"text": "Plan B", "callback_data": "Plan B"}]]


async def test_agent_messages_reach_the_chat_through_get_output_channel(serve_channel, bot_api):
    # What Rasa does for POST /conversations/{id}/tracker/events?output_channel=latest
    server = await serve_channel()
    output = server.channel.get_output_channel()
    await output.send_response("telegram:5550001", {"text": "Hi, this is Sam from the support team."})
    assert bot_api.sent_texts(5550001) == ["Hi, this is Sam from the support team."]


@pytest.mark.parametrize("foreign_id", ["5550001", "widget:5550001", "rest:telegram:1", "telegram:abc"])
async def test_a_conversation_id_of_another_channel_never_reaches_a_telegram_chat(serve_channel, bot_api, foreign_id):
    server = await serve_channel()
    output = server.channel.get_output_channel()
    await output.send_response(foreign_id, {"text": "your balance is £1,200"})
    assert bot_api.calls == []


async def test_document_telegram_cannot_fetch_is_sent_as_a_link(serve_channel, bot_api):
    server = await serve_channel(reply=lambda m: [{"attachment": "https://intranet.local/agreement.pdf"}])
    bot_api.fail_next(1, status=400, method="sendDocument")
    await server.post_update(load_update("text_en"))
    assert bot_api.sent_texts(5550001) == ["https://intranet.local/agreement.pdf"]


async def test_custom_json_without_a_document_is_not_dumped_to_the_borrower(serve_channel, bot_api):
    server = await serve_channel(reply=lambda m: [{"custom": {"internal": "state"}}])
    await server.post_update(load_update("text_en"))
    assert bot_api.calls == []


async def test_buttons_without_text_still_reach_the_borrower(serve_channel, bot_api):
    server = await serve_channel(reply=lambda m: [{"text": "", "buttons": [
        {"title": "Yes", "payload": "/affirm"}]}])
    await server.post_update(load_update("text_en"))
    [sent] = bot_api.calls_to("sendMessage")
    assert sent.params["reply_markup"]["inline_keyboard"] == [[{"text": "Yes", "callback_data": "/affirm"}]]


async def test_start_with_an_issued_link_binds_the_chat_and_still_only_greets(serve_channel, database):
    from datetime import datetime

    from sqlalchemy import select

    from bot.outreach.links import issue_link
    from bot.outreach.models import ChatLink
    from tests.unit.outreach_factories import borrower_with_chat

    with database.unit_of_work() as session:
        borrower_with_chat(session, "HCF-1001")
        token = issue_link(session, "HCF-1001", by="test", now=datetime.now())
    server = await serve_channel()
    update = load_update("start_deeplink")
    update["message"]["text"] = f"/start {token}"
    await server.post_update(update)
    [message] = server.agent.messages
    assert message.text == "/greet"  # the conversation starts as any other: verification before disclosure
    with database.unit_of_work() as session:
        [link] = session.execute(select(ChatLink)).scalars().all()
    assert (link.conversation_id, link.loan_reference) == ("telegram:5550002", "HCF-1001")
    assert link.used_at is not None


async def test_start_with_an_unknown_token_binds_nothing_and_greets(serve_channel, database):
    from sqlalchemy import select

    from bot.outreach.models import ChatLink

    server = await serve_channel()
    await server.post_update(load_update("start_deeplink"))  # "acct_7F3k-9" was never issued
    [message] = server.agent.messages
    assert message.text == "/greet"
    with database.unit_of_work() as session:
        assert session.execute(select(ChatLink)).first() is None
