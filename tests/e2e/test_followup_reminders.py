"""Issue 13 end to end: a promise made in a real conversation over Telegram (fake Bot API) produces a
reminder at the right local time through the real scheduler, Rasa and action server, and the borrower's
reply to it continues the conversation: verification again, then the amount and the date."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.agreements.models import PromiseToPay
from bot.negotiation import load_policy
from bot.outreach.models import Contact, ContactAttempt
from bot.outreach.scheduler import OutreachScheduler
from bot.outreach.sender import RasaSender
from tests.conftest import PROJECT_ROOT
from tests.e2e.borrowers import borrower_on

pytestmark = pytest.mark.slow
POLICY = load_policy(PROJECT_ROOT / "policy.yml")
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo borrowers have no time zone: the first served zone applies


def joined(replies: list[str]) -> str:
    return "\n".join(replies)


def test_a_promise_made_on_telegram_is_reminded_at_ten_local_and_the_reply_continues(fresh_stack, telegram):
    borrower = borrower_on("telegram", fresh_stack, telegram)
    try:
        due = date.today() + timedelta(days=5)
        borrower.say("HCF-1001 12 April 1988")
        promised = joined(borrower.say(f"I will pay 3930 on {due.day} {due:%B}"))
        assert "recorded your promise to pay CNY 3,930.00" in promised, promised
        with fresh_stack.database() as database, database.unit_of_work() as session:
            promise = session.execute(select(PromiseToPay).where(PromiseToPay.loan_reference == "HCF-1001")
                                      ).scalar_one()
        assert promise.due_on == due

        reminder_at = datetime.combine(due - timedelta(days=1), time(10, 0), SHANGHAI).astimezone(
            ZoneInfo("UTC")).replace(tzinfo=None)
        sender = RasaSender(fresh_stack.url, fresh_stack.env["RASA_API_TOKEN"])
        with fresh_stack.database() as database:
            now = datetime.utcnow()
            assert OutreachScheduler(database, POLICY, sender, clock=lambda: now).tick().sent == 0  # plans only
            with database.unit_of_work() as session:
                contact = session.execute(select(Contact).where(Contact.reason == "promise_reminder")).scalar_one()
            assert (contact.due_at, contact.conversation_id, contact.channel) == (
                reminder_at, borrower.conversation_id, "telegram")
            before = len(borrower._delivered())
            early = OutreachScheduler(database, POLICY, sender, clock=lambda: reminder_at - timedelta(minutes=1))
            assert early.tick().sent == 0 and len(borrower._delivered()) == before  # not a minute early
            report = OutreachScheduler(database, POLICY, sender, clock=lambda: reminder_at).tick()
            assert report.sent == 1, report
            with database.unit_of_work() as session:
                attempt = session.execute(select(ContactAttempt)).scalar_one()
            assert attempt.local_time.startswith(f"{due - timedelta(days=1)}T10:00:00+08:00")
            # What a restarted scheduler asks Rasa before re-sending an interrupted contact.
            assert sender.delivered(contact) is True
            other = Contact(id=contact.id + 1000, conversation_id=contact.conversation_id, channel="telegram")
            assert sender.delivered(other) is False
        sender.close()

        notice = joined(borrower._delivered()[before:])
        assert "HCF Consumer Finance" in notice and "STOP" in notice, notice
        assert "3,930" not in notice and str(due.day) not in notice.split("STOP")[0], notice  # nothing disclosed
        asked = joined(borrower.say("ok, what is it?"))
        assert "loan reference" in asked, asked  # verify again before anything is said
        told = joined(borrower.say("HCF-1001 12 April 1988"))
        assert "3,930.00" in told and f"{due.day}" in told, told
    finally:
        borrower.close()
