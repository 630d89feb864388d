"""A 403 "bot was blocked by the user" on a send becomes an opt-out of Telegram for that chat."""
from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select
from telegram.error import Forbidden

from bot.accounts.models import ContactOptOut
from bot.verification.models import VerifiedSession
from channels.telegram.records import ChatRecords
from channels.telegram.sender import SendThrottle, TelegramSender


class _BlockedBot:
    def __init__(self) -> None:
        self.calls = 0

    async def send_message(self, **kwargs):
        self.calls += 1
        raise Forbidden("Forbidden: bot was blocked by the user")


def _sender(database) -> tuple[TelegramSender, _BlockedBot]:
    sender = TelegramSender("123:abc", throttle=SendThrottle(), on_blocked=ChatRecords(database=database))
    bot = _BlockedBot()
    sender._bot = bot  # the library's own error, raised where Bot.send_message would raise it
    return sender, bot


def test_a_chat_that_blocked_the_bot_is_recorded_once_as_a_telegram_opt_out(database):
    with database.unit_of_work() as session:
        session.add(VerifiedSession(conversation_id="telegram:4242", loan_reference="HCF-1001", channel="telegram",
                                    verified_at=datetime(2026, 11, 20), last_seen_at=datetime(2026, 11, 20)))
    sender, bot = _sender(database)
    assert asyncio.run(sender.send_text(4242, "Hello")) is False
    assert asyncio.run(sender.send_text(4242, "Hello again")) is False
    assert bot.calls == 2  # a 403 is not retried
    with database.unit_of_work() as session:
        rows = session.execute(select(ContactOptOut)).scalars().all()
    assert [(r.conversation_id, r.loan_reference, r.channel) for r in rows] == [
        ("telegram:4242", "HCF-1001", "telegram")]


def test_a_send_to_a_blocked_chat_never_raises_even_when_recording_fails():
    sender = TelegramSender("123:abc", on_blocked=ChatRecords(database_url="sqlite:////nonexistent/dir/x.db"))
    sender._bot = _BlockedBot()
    assert asyncio.run(sender.send_text(4242, "Hello")) is False
