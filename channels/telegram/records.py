"""What the Telegram channel itself records in the application database, off the event loop:

- a chat that blocked the bot is an opt-out of Telegram. Telegram tells only the sender (403 Forbidden on
  sendMessage); Rasa's trigger_intent answers 200 either way, so the follow-up scheduler never sees it.
- a chat opened from a deep link (`/start <token>`) is bound to the token's borrower for follow-up
  (bot.outreach.links): only the channel sees the token, and only as Telegram delivered it.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Optional

from bot.outreach.links import bind_chat
from bot.outreach.opt_out import record_blocked
from bot.storage import Database

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class ChatRecords:
    """`await records(chat_id)` records a block; `await records.bind(chat_id, token)` a deep link.

    The database is opened on first use (the channel is built before settings matter)."""

    def __init__(self, database_url: Optional[str] = None, database: Optional[Database] = None) -> None:
        self._database_url = database_url
        self._database = database

    @property
    def database(self) -> Database:
        if self._database is None:
            if self._database_url is None:
                from bot.config import load_settings
                self._database_url = load_settings().database_url
            self._database = Database(self._database_url)
        return self._database

    def record(self, chat_id: int) -> bool:
        from channels.telegram.input import CHANNEL_NAME, sender_id_for

        with self.database.unit_of_work() as session:
            added = record_blocked(session, conversation_id=sender_id_for(chat_id), channel=CHANNEL_NAME,
                                   now=_now())
        if added:
            logger.warning("telegram.chat_blocked_bot opt_out_recorded chat_id=%s", chat_id)
        return added

    async def __call__(self, chat_id: int) -> None:
        await asyncio.to_thread(self.record, chat_id)

    def bind_now(self, chat_id: int, token: str) -> str:
        from channels.telegram.input import CHANNEL_NAME, sender_id_for

        with self.database.unit_of_work() as session:
            binding = bind_chat(session, token, conversation_id=sender_id_for(chat_id), channel=CHANNEL_NAME,
                                now=_now())
        logger.info("telegram.deep_link outcome=%s chat_id=%s", binding.outcome, chat_id)
        return binding.outcome

    async def bind(self, chat_id: int, token: str) -> Optional[str]:
        """Bind the chat; a database that is down costs the binding, never the borrower's /start."""
        try:
            return await asyncio.to_thread(self.bind_now, chat_id, token)
        except Exception:  # noqa: BLE001 - the greeting goes on; the link can be opened again
            logger.exception("telegram.deep_link.not_recorded chat_id=%s", chat_id)
            return None
