"""A small desk, built by hand so every KPI can be worked out on paper in the tests.

Range: Monday 2026-11-02 to Sunday 2026-11-15 (ISO weeks 2026-W45 and 2026-W46), all times UTC.

Conversations (first event, language slot, channel of the first message, what happened):
  c1  Nov 2 10:00  en  telegram  verified, promise (kept Nov 4, partly kept Nov 12), no agent,
                                 back with a new session on Nov 5 (within 7 days)
  c2  Nov 2 11:00  zh  socketio  verified, escalated (request_human), agreement signed on offer o1
  c3  Nov 3 09:00  en  socketio  not verified, no agent
  c4  Nov 9 12:00  zh  telegram  verified, escalated (hardship), promise (broken Nov 10), one still open
  c5  Oct 30       en  telegram  started before the range (its Nov 2 message must not count)
  c6  Nov 16       en  telegram  started after the range
Loans A, B, C with days past due on Nov 1, Nov 8, Nov 15:  A 15/0/0,  B 40/47/62,  C 0/7/0.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy.engine import Connection

from bot.accounts.models import Borrower, ContactOptOut, Loan
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.analytics.sql import EVENTS
from bot.handoff.models import Escalation
from bot.lifecycle.models import LoanDayStatus
from bot.outreach.models import Contact, ContactAttempt
from bot.verification.models import VerifiedSession

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 15)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute)


def unix(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()


def _conversation(sender: str, start: datetime, language: str, channel: str) -> list[dict]:
    t = unix(start)
    return [
        {"sender_id": sender, "type_name": "action", "timestamp": t, "action_name": "action_session_start",
         "data": json.dumps({"event": "action", "name": "action_session_start", "timestamp": t})},
        {"sender_id": sender, "type_name": "session_started", "timestamp": t + 0.001,
         "data": json.dumps({"event": "session_started", "timestamp": t + 0.001})},
        {"sender_id": sender, "type_name": "user", "timestamp": t + 1, "intent_name": "greet",
         "data": json.dumps({"event": "user", "text": "你好" if language == "zh" else "hi", "timestamp": t + 1,
                             "parse_data": {"intent": {"name": "greet"}}, "input_channel": channel})},
        {"sender_id": sender, "type_name": "slot", "timestamp": t + 2, "action_name": "language",
         "data": json.dumps({"event": "slot", "name": "language", "value": language, "timestamp": t + 2})},
    ]


def tracker_rows() -> list[dict]:
    rows = [
        *_conversation("c1", at(11, 2, 10), "en", "telegram"),
        *_conversation("c2", at(11, 2, 11), "zh", "socketio"),
        *_conversation("c3", at(11, 3, 9), "en", "socketio"),
        *_conversation("c4", at(11, 9, 12), "zh", "telegram"),
        *_conversation("c5", at(10, 30, 8), "en", "telegram"),
        *_conversation("c6", at(11, 16, 8), "en", "telegram"),
    ]
    back = unix(at(11, 5, 18))
    rows.append({"sender_id": "c1", "type_name": "session_started", "timestamp": back,
                 "data": json.dumps({"event": "session_started", "timestamp": back})})
    late = unix(at(11, 2, 9))
    rows.append({"sender_id": "c5", "type_name": "user", "timestamp": late,
                 "data": json.dumps({"event": "user", "text": "again", "timestamp": late,
                                     "input_channel": "telegram"})})
    for row in rows:
        row.setdefault("intent_name", None)
        row.setdefault("action_name", None)
    return rows


def write_tracker(connection: Connection) -> None:
    EVENTS.create(connection, checkfirst=True)
    connection.execute(EVENTS.insert(), tracker_rows())


def _offer(conversation: str, authority: str, rule: str, fees: str, interest: str) -> OfferRecord:
    terms = {"waived_fees": fees, "waived_interest": interest, "authority": authority, "rule": rule,
             "policy_version": "2026.12-4"}
    return OfferRecord(conversation_id=conversation, loan_reference="HCF-1", concessions="fee_waiver",
                       monthly=Decimal("100.00"), months=6, total_paid=Decimal("600.00"), authority=authority,
                       rule=rule, policy_version="2026.12-4", terms_json=json.dumps(terms), shown_at=at(11, 2, 11),
                       status="shown")


def write_books(session) -> None:
    borrower = Borrower(full_name="Test Borrower", date_of_birth=date(1980, 1, 1))
    session.add(borrower)
    session.flush()
    loans = {}
    for name in "ABC":
        loans[name] = Loan(reference=f"HCF-{name}", borrower_id=borrower.id, currency="EUR",
                           principal=Decimal("1000.00"), annual_rate=Decimal("0.1"),
                           contractual_instalment=Decimal("100.00"), start_date=date(2026, 1, 1))
        session.add(loans[name])
    session.flush()
    for name, dpd in {"A": (15, 0, 0), "B": (40, 47, 62), "C": (0, 7, 0)}.items():
        for day, value in zip((date(2026, 11, 1), date(2026, 11, 8), date(2026, 11, 15)), dpd):
            session.add(LoanDayStatus(loan_id=loans[name].id, as_of=day, arrears=Decimal(value), days_past_due=value))

    for conversation, verified_at in (("c1", at(11, 2, 10, 5)), ("c2", at(11, 2, 11, 2)), ("c4", at(11, 9, 12, 3))):
        session.add(VerifiedSession(conversation_id=conversation, loan_reference="HCF-A", channel="telegram",
                                    verified_at=verified_at, last_seen_at=verified_at))
    for conversation, status, settled in (("c1", "kept", at(11, 4, 9)), ("c4", "broken", at(11, 10, 9)),
                                          ("c1", "partly_kept", at(11, 12, 9)), ("c4", "open", None),
                                          ("c9", "kept", at(10, 20, 9))):
        session.add(PromiseToPay(conversation_id=conversation, loan_reference="HCF-A", amount=Decimal("50.00"),
                                 due_on=date(2026, 11, 4), status=status, recorded_at=at(10, 15),
                                 settled_at=settled))

    o1 = _offer("c2", "bot", "R1", "12.50", "30.00")
    o2 = _offer("c9", "supervisor", "R2", "0.00", "100.05")
    o3 = _offer("c3", "bot", "R1", "99.00", "99.00")  # shown, never signed
    session.add_all([o1, o2, o3])
    session.flush()
    for reference, offer, conversation, accepted in (("AG-1", o1, "c2", at(11, 2, 11, 30)),
                                                     ("AG-2", o2, "c9", at(11, 10, 15))):
        session.add(Agreement(reference=reference, loan_reference="HCF-A", conversation_id=conversation,
                              offer_record_id=offer.id, borrower_name="Test Borrower", language="en",
                              policy_version="2026.12-4", terms_json=offer.terms_json, acceptance_text="yes",
                              accepted_at=accepted))

    session.add(Escalation(conversation_id="c2", channel="socketio", reason="request_human", priority=2,
                           status="closed", created_at=at(11, 2, 11, 5), claimed_at=at(11, 2, 11, 6),
                           first_agent_reply_at=at(11, 2, 11, 7), closed_at=at(11, 2, 11, 36), language="zh",
                           claimed_by="ada", outcome="resolved"))
    session.add(Escalation(conversation_id="c4", channel="telegram", reason="hardship", priority=1,
                           status="claimed", created_at=at(11, 9, 12, 10), claimed_at=at(11, 9, 12, 15),
                           first_agent_reply_at=at(11, 9, 12, 20), language="zh", claimed_by="ada"))

    for channel, recorded in (("telegram", at(11, 3, 8)), ("telegram", at(11, 12, 8)), (None, at(11, 12, 9))):
        session.add(ContactOptOut(conversation_id="c1", channel=channel, recorded_at=recorded))
    contact = Contact(key="promise:1:before:1", loan_reference="HCF-A", conversation_id="c1", channel="telegram",
                      reason="promise_reminder", subject="promise:1", jurisdiction="GB", due_at=at(11, 3),
                      created_at=at(11, 1))
    session.add(contact)
    session.flush()
    for attempted, outcome, rule in ((at(11, 3, 10), "sent", None), (at(11, 3, 22), "refused", "quiet_hours"),
                                     (at(11, 10, 10), "refused", "weekly_cap"), (at(11, 11, 10), "sent", None)):
        session.add(ContactAttempt(contact_id=contact.id, loan_reference="HCF-A", conversation_id="c1",
                                   channel="telegram", attempted_at=attempted, outcome=outcome, rule=rule))
