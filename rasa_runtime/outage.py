"""A turn that fails because the database is unreachable gets a clear answer, not silence.

While PostgreSQL is down (a restart, a fail-over) Rasa cannot read or save the conversation, so
`Agent.handle_message` raises: the REST channel then answered an empty list, the widget got no
answer at all, and Telegram nothing. Now the borrower is told what happened and what to do, in
both languages (the message's language is not known without the tracker), and the error is
raised on as `StorageUnavailable`, so each channel still treats the turn as failed (the Telegram
channel releases the update and Telegram redelivers it: that message is kept).

Nothing of the turn was saved (Rasa saves the tracker at the end of a turn), so asking the
borrower to send it again loses and duplicates nothing. Reconnecting is SQLAlchemy's
`pool_pre_ping` (rasa_runtime/tracker_store.py, bot/storage/session.py): no restart needed.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from sqlalchemy import exc as sa_exc

logger = logging.getLogger(__name__)

STORAGE_TROUBLE_REPLY = (
    "Sorry, we're having a technical problem and couldn't read your message just now. "
    "Everything you told us before is kept. Please send it again in a minute.\n"
    "抱歉，我们的系统暂时出现技术问题，刚才未能读取您的消息。您之前告诉我们的内容都已保存。请一分钟后再发送一次。"
)

_RASA_HANDLE_MESSAGE = Agent.handle_message


class StorageUnavailable(RuntimeError):
    """The conversation could not be read or saved: the database is unreachable."""


def is_storage_outage(error: BaseException) -> bool:
    """A lost or refused database connection (not a bug in a statement)."""
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return True
    return isinstance(error, sa_exc.DBAPIError) and bool(error.connection_invalidated)


async def handle_message(agent: Agent, message: UserMessage) -> Any:
    """`Agent.handle_message`; on a database outage the borrower is answered, then the error raised on."""
    try:
        return await _RASA_HANDLE_MESSAGE(agent, message)
    except Exception as error:
        if not is_storage_outage(error):
            raise
        logger.error("rasa.storage_unavailable error=%s", type(error).__name__)
        if message.output_channel is not None:
            try:
                await message.output_channel.send_text_message(message.sender_id, STORAGE_TROUBLE_REPLY)
            except Exception:  # noqa: BLE001 - the turn fails either way; say why below
                logger.exception("rasa.storage_unavailable.reply_failed")
        raise StorageUnavailable("the tracker store is unreachable") from error
