"""A borrower with a history: conversations in a real Rasa tracker store and records in the app database."""
from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text

from bot.accounts.models import ContactOptOut
from bot.agreements.models import PromiseToPay
from bot.agreements.service import record_offer, sign_agreement
from bot.handoff.queue import EscalationQueue
from bot.lifecycle.models import AccountEvent
from bot.privacy.tracker_events import TrackerEvents
from bot.storage import Database
from bot.verification.models import VerificationAttempt, VerifiedSession
from rasa_runtime.tracker_store import SQLTrackerStore
from tests.conftest import PROJECT_ROOT

NOW = datetime(2026, 11, 28, 12, 0)
ALEX_TELEGRAM = "telegram:5550001"
ALEX_WIDGET = "web:" + "a1" * 32
WANG_WIDGET = "web:" + "b2" * 32


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture(scope="session")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@dataclass
class Trackers:
    """A real tracker store on a temporary SQLite file, and the erasing view of the same table."""

    path: Path
    store: SQLTrackerStore
    events: TrackerEvents

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def save(self, sender_id: str, events: list) -> None:
        run(self.store.save(DialogueStateTracker.from_events(sender_id, events, self.store.domain.slots)))

    def retrieve(self, sender_id: str):
        return run(self.store.retrieve_full_tracker(sender_id))

    def raw(self, sql: str, *args) -> list[tuple]:
        connection = sqlite3.connect(self.path)
        try:
            return connection.execute(sql, args).fetchall()
        finally:
            connection.close()


@pytest.fixture
def trackers(tmp_path, domain) -> Trackers:
    path = tmp_path / "tracker.db"
    events = TrackerEvents(f"sqlite:///{path}")
    yield Trackers(path, SQLTrackerStore(domain=domain, dialect="sqlite", db=str(path)), events)
    events.dispose()


def conversation(start: float, user: str, bot: str, *, slots: dict | None = None) -> list:
    """One session: the borrower says `user`, the bot answers `bot`, slots set in between."""
    return [ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start),
            ActionExecuted("action_listen", timestamp=start),
            UserUttered(user, {"name": "provide_identity", "confidence": 0.9}, timestamp=start + 1),
            *[SlotSet(name, value, timestamp=start + 1) for name, value in (slots or {}).items()],
            BotUttered(bot, timestamp=start + 2),
            ActionExecuted("action_listen", timestamp=start + 2)]


def epoch(moment: datetime) -> float:
    return (moment - datetime(1970, 1, 1)).total_seconds()


def alex_record(conversation_id: str, text: str) -> dict:
    """What actions/negotiation.py freezes into an agreement (the parts that name the borrower)."""
    return {"loan_reference": "HCF-1001", "lender": "HCF", "borrower_name": "Alex Morgan", "currency": "CNY",
            "verification": {"method": "loan_reference_and_date_of_birth", "channel": "telegram",
                             "verified_at": "2026-11-20T09:00:00"},
            "acceptance_text": text, "accepted_at": "2026-11-20T09:10:00Z", "conversation_id": conversation_id}


TERMS = {"concessions": ["term_extension"], "monthly": "500.00", "months": 8, "total_paid": "4000.00",
         "authority": "bot", "rule": "ladder.term_extension", "policy_version": "2026-11",
         "first_payment": "2026-12-05", "schedule": []}


def history(database: Database, trackers: Trackers) -> None:
    """Alex (HCF-1001) talked on Telegram and on the widget; 王芳 (HCF-2002) on the widget."""
    at = datetime(2026, 11, 20, 9, 0)
    trackers.save(ALEX_TELEGRAM, conversation(
        epoch(at), "HCF-1001 12 April 1988, this is Alex Morgan",
        "Thank you, Alex Morgan. You owe 3,930.00.",
        slots={"pending_dob": "1988-04-12", "verified_loan_ref": "HCF-1001"}))
    trackers.save(ALEX_WIDGET, conversation(epoch(at) + 600, "I lost my job, Alex Morgan here", "Sorry to hear that"))
    trackers.save(WANG_WIDGET, conversation(epoch(at) + 900, "HCF-2002 1992年11月3日 我是王芳", "谢谢，王芳。"))
    with database.unit_of_work() as session:
        for conversation_id, reference, ok in ((ALEX_TELEGRAM, "HCF-1001", True), (ALEX_WIDGET, "HCF-1001", False),
                                               (WANG_WIDGET, "HCF-2002", True)):
            session.add(VerificationAttempt(loan_reference=reference, conversation_id=conversation_id,
                                            channel="telegram", succeeded=ok, attempted_at=at,
                                            outcome="verified" if ok else "mismatch",
                                            reason=None if ok else "wrong_date_of_birth"))
            if ok:
                session.add(VerifiedSession(conversation_id=conversation_id, loan_reference=reference,
                                            channel="telegram", verified_at=at, last_seen_at=at))
        offer_id = record_offer(session, conversation_id=ALEX_TELEGRAM, loan_reference="HCF-1001", terms=TERMS,
                                now=at + timedelta(minutes=5))
        sign_agreement(session, conversation_id=ALEX_TELEGRAM, loan_reference="HCF-1001",
                       borrower_name="Alex Morgan", language="en", terms=TERMS, offer_record_id=offer_id,
                       record=alex_record(ALEX_TELEGRAM, "Yes I agree - Alex Morgan"),
                       acceptance_text="Yes I agree - Alex Morgan", now=at + timedelta(minutes=10))
        wang_offer = record_offer(session, conversation_id=WANG_WIDGET, loan_reference="HCF-2002", terms=TERMS,
                                  now=at + timedelta(minutes=15))
        sign_agreement(session, conversation_id=WANG_WIDGET, loan_reference="HCF-2002", borrower_name="王芳",
                       language="zh", terms=TERMS, offer_record_id=wang_offer,
                       record={**alex_record(WANG_WIDGET, "同意"), "borrower_name": "王芳"},
                       acceptance_text="同意", now=at + timedelta(minutes=16))
        session.add(PromiseToPay(conversation_id=ALEX_TELEGRAM, loan_reference="HCF-1001", amount=Decimal("300.00"),
                                 due_on=date(2026, 11, 25), status="open", recorded_at=at, paid=Decimal("0.00")))
        session.add(ContactOptOut(conversation_id=ALEX_WIDGET, loan_reference="HCF-1001", channel="socketio",
                                  message="Stop messaging me, Alex Morgan, 12/04/1988", recorded_at=at))
        session.add(ContactOptOut(conversation_id=WANG_WIDGET, loan_reference="HCF-2002", channel="socketio",
                                  message="别再联系我", recorded_at=at))
        queue = EscalationQueue(session)
        escalation, _ = queue.open(
            conversation_id=ALEX_WIDGET, channel="socketio", reason="request_human", priority=3,
            summary={"verified": False, "language": "en", "loan_ref": "HCF-1001", "hardship_cause": "job_loss",
                     "monthly_income": "9000.00", "last_messages": ["I lost my job, Alex Morgan here"]},
            language="en", now=at)
        queue.add_note(escalation.id, "agent1", "Alex Morgan sounded distressed", at)
        wang, _ = queue.open(conversation_id=WANG_WIDGET, channel="socketio", reason="request_human", priority=3,
                             summary={"verified": True, "language": "zh", "loan_ref": "HCF-2002",
                                      "last_messages": ["我是王芳"]}, language="zh", now=at)
        queue.add_note(wang.id, "agent1", "王芳 asked for a call", at)
        session.add(AccountEvent(loan_reference="HCF-1001", subject="promise", subject_id="1", from_state=None,
                                 to_state="open", cause="rule", cause_ref="promise.recorded", detail="{}",
                                 occurred_on=at.date(), recorded_at=at))
        for conversation_id in (ALEX_WIDGET, WANG_WIDGET):
            session.execute(text("INSERT INTO widget_sessions (session_id, token_hash, created_at, rotated_at) "
                                 "VALUES (:id, :hash, :at, :at)"),
                            {"id": conversation_id[4:], "hash": conversation_id[-8:] + "0" * 56, "at": at})


@pytest.fixture
def alex_history(demo_database, trackers) -> tuple[Database, Trackers]:
    history(demo_database, trackers)
    return demo_database, trackers


@pytest.fixture(autouse=True)
def restore_umask():
    """The CLI sets umask 077 for the files it writes; other tests get the process's own back."""
    mask = os.umask(0o022)
    os.umask(mask)
    yield
    os.umask(mask)
