"""A chat that blocked the bot is an opt-out of Telegram: recorded in the application database.

Telegram tells only the sender (403 Forbidden on sendMessage); Rasa's trigger_intent answers 200 either
way, so the follow-up scheduler never sees it. The channel records it here, off the event loop.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Optional

from bot.outreach.opt_out import record_blocked
from bot.storage import Database

logger = logging.getLogger(__name__)


class BlockedChats:
    """`await blocked(chat_id)`: record the opt-out of `telegram:<chat_id>` (database opened on first use)."""

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
                                   now=datetime.now(timezone.utc).replace(tzinfo=None))
        if added:
            logger.warning("telegram.chat_blocked_bot opt_out_recorded chat_id=%s", chat_id)
        return added

    async def __call__(self, chat_id: int) -> None:
        await asyncio.to_thread(self.record, chat_id)
