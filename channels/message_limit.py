"""The message-length cap every input channel applies before Rasa sees a message.

`bot.messages.MAX_MESSAGE_CHARS` is the limit; this module is the channel side of it:
the borrower gets one clear answer in both languages, and the message never reaches NLU
or any parser (no tracker event is written for it either).
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage

from bot.messages import MAX_MESSAGE_CHARS, too_long

logger = logging.getLogger(__name__)

# Both languages in one answer: the message was not read, so its language is not known either.
TOO_LONG_REPLY = (
    f"Your message is longer than {MAX_MESSAGE_CHARS:,} characters; please send it in shorter parts.\n"
    f"您的消息超过 {MAX_MESSAGE_CHARS:,} 个字符，请分成几条较短的消息发送。"
)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def refusing_long_messages(on_new_message: OnNewMessage, channel: str) -> OnNewMessage:
    """`on_new_message` that answers an over-long message itself instead of passing it on."""

    async def guarded(message: UserMessage) -> Any:
        if too_long(message.text):
            logger.warning("%s.message.too_long chars=%s", channel, len(message.text or ""))
            await message.output_channel.send_text_message(message.sender_id, TOO_LONG_REPLY)
            return None
        return await on_new_message(message)

    return guarded
