"""Long replies, Telegram flood control and outages: nothing lost, nothing crashes."""
from __future__ import annotations

import logging
import time

from channels.telegram.sender import MESSAGE_LIMIT, SendThrottle, split_message, utf16_length
from tests.telegram.conftest import load_update, make_sender


def _paragraphs(total: int) -> str:
    sentence = "We can spread the remaining balance over twelve months. "
    text, paragraph = [], ""
    while sum(map(len, text)) + len(paragraph) < total:
        paragraph += sentence
        if len(paragraph) > 700:
            text.append(paragraph.strip())
            paragraph = ""
    return "\n\n".join(text + [paragraph.strip()])[:total].strip()


def _without_whitespace(text: str) -> str:
    return "".join(text.split())


async def test_6000_character_reply_arrives_as_two_messages_with_nothing_lost(serve_channel, bot_api):
    long_reply = _paragraphs(6000)
    assert len(long_reply) >= 5990
    server = await serve_channel(reply=lambda message: [{"text": long_reply}])
    await server.post_update(load_update("text_en"))

    sent = bot_api.sent_texts(5550001)
    assert len(sent) == 2
    assert all(utf16_length(part) <= MESSAGE_LIMIT for part in sent)
    assert _without_whitespace("".join(sent)) == _without_whitespace(long_reply)
    assert long_reply.startswith(sent[0]) and long_reply.endswith(sent[1])  # cut at a paragraph


def test_split_prefers_paragraph_then_line_then_space():
    text = "a" * 3000 + "\n\n" + "b" * 2000 + "\n" + "c" * 2000
    assert split_message(text) == ["a" * 3000, "b" * 2000 + "\n" + "c" * 2000]
    text = "a" * 3000 + "\n" + "b" * 2000
    assert split_message(text) == ["a" * 3000, "b" * 2000]
    words = " ".join(["word"] * 2000)
    parts = split_message(words)
    assert all(part.startswith("word") and part.endswith("word") for part in parts)
    assert " ".join(parts) == words


def test_split_chinese_text_without_spaces_at_sentence_ends():
    sentence = "我们可以把剩余的欠款分十二个月还清。"
    text = sentence * 400  # 7,200 characters, no spaces at all
    parts = split_message(text)
    assert all(len(part) <= MESSAGE_LIMIT and part.endswith("。") for part in parts)
    assert "".join(parts) == text


def test_split_counts_emoji_as_telegram_does_and_cuts_hard_when_it_must():
    text = "💷" * 3000  # 6,000 UTF-16 units, no boundary anywhere
    parts = split_message(text)
    assert [utf16_length(part) for part in parts] == [4096, 1904]
    assert "".join(parts) == text


def test_split_short_or_blank_text():
    assert split_message("  hello  ") == ["hello"]
    assert split_message(" \n ") == []


async def test_429_with_retry_after_is_respected_then_delivered_once(serve_channel, bot_api):
    server = await serve_channel()
    bot_api.fail_next(1, status=429, retry_after=1, method="sendMessage")
    started = time.monotonic()
    reply = await server.post_update(load_update("text_en"))

    assert reply.status_code == 200
    assert time.monotonic() - started >= 1.0
    assert [call.status for call in bot_api.calls_to("sendMessage")] == [429, 200]
    assert bot_api.sent_texts(5550001) == ["You said: I can't pay the full amount this month"]


async def test_three_500s_are_logged_the_webhook_still_answers_200_and_keeps_serving(
        serve_channel, bot_api, caplog):
    server = await serve_channel()
    bot_api.fail_next(3, status=500, method="sendMessage")
    with caplog.at_level(logging.WARNING, logger="channels.telegram.sender"):
        reply = await server.post_update(load_update("text_en"))

    assert reply.status_code == 200
    assert [call.status for call in bot_api.calls_to("sendMessage")] == [500, 500, 500]  # 3 attempts
    assert any("gave_up" in record.getMessage() for record in caplog.records)
    assert len(server.agent.messages) == 1  # the Rasa turn itself happened

    next_update = load_update("text_zh")
    reply = await server.post_update(next_update)
    assert reply.status_code == 200
    assert bot_api.sent_texts(5550002) == ["You said: 我这个月只能还五百块"]


async def test_a_rejected_message_is_not_retried(bot_api):
    sender = make_sender(bot_api)
    bot_api.fail_next(1, status=400)
    assert await sender.send_text(5550001, "hello") is False
    assert len(bot_api.calls) == 1
    await sender.close()


async def test_flood_wait_longer_than_the_cap_is_given_up_not_slept(bot_api):
    sender = make_sender(bot_api, max_retry_after=5)
    bot_api.fail_next(1, status=429, retry_after=600)
    started = time.monotonic()
    assert await sender.send_text(5550001, "hello") is False
    assert time.monotonic() - started < 2
    await sender.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_throttle_lets_a_short_burst_through_then_paces_a_chat_at_one_per_second():
    clock = FakeClock()
    throttle = SendThrottle(per_chat_rate=1.0, per_chat_burst=3, global_rate=30, clock=clock)
    delays = [throttle.reserve(42) for _ in range(5)]
    assert delays[:3] == [0, 0, 0]
    assert delays[3:] == [1.0, 2.0]
    assert throttle.reserve(43) == 0  # another chat is not held up by chat 42


def test_throttle_keeps_all_chats_together_under_30_per_second():
    clock = FakeClock()
    throttle = SendThrottle(global_rate=30, clock=clock)
    delays = [throttle.reserve(chat_id) for chat_id in range(60)]
    assert max(delays[:30]) == 0
    assert abs(delays[-1] - 1.0) < 1e-9  # the 60th message waits a full second
