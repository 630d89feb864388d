"""The purge applies the retention periods as of a fixed `now`; a dry run counts and changes nothing."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from bot.accounts.models import ContactOptOut
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.agreements.service import record_offer, sign_agreement
from bot.cli import main as cli
from bot.handoff.models import CLOSED, Escalation, EscalationNote
from bot.lifecycle.models import AccountEvent, PlanStanding
from bot.privacy import RetentionPeriods, purge, purge_from_settings
from bot.privacy.retention import years_before
from bot.verification.models import VerificationAttempt, VerifiedSession
from tests.privacy.conftest import NOW, TERMS, conversation, epoch, run

PERIODS = RetentionPeriods(conversation_text_days=730, record_years=6)
LONG_AGO = datetime(2019, 3, 1, 10, 0)     # past both periods
THREE_YEARS = datetime(2023, 11, 1, 10, 0)  # past the text period only
YESTERDAY = datetime(2026, 11, 27, 10, 0)


def negotiation(session, reference: str, conversation_id: str, at: datetime) -> int:
    offer = record_offer(session, conversation_id=conversation_id, loan_reference=reference, terms=TERMS, now=at)
    signed = sign_agreement(session, conversation_id=conversation_id, loan_reference=reference, borrower_name="B",
                            language="en", terms=TERMS, offer_record_id=offer, record={}, acceptance_text="ok",
                            now=at)
    session.add(PromiseToPay(conversation_id=conversation_id, loan_reference=reference, amount=Decimal("100.00"),
                             due_on=at.date(), status="kept", recorded_at=at, paid=Decimal("100.00"),
                             settled_at=at))
    session.add(PlanStanding(agreement_id=signed.agreement.id, loan_reference=reference, state="completed",
                             paid=Decimal("4000.00"), due=Decimal("4000.00"), changed_at=at))
    return signed.agreement.id


def state_change(reference: str, at: datetime) -> AccountEvent:
    return AccountEvent(loan_reference=reference, subject="loan", subject_id=reference, from_state="in_arrears",
                        to_state="current", cause="payment", cause_ref="PAY-1", detail="{}", occurred_on=at.date(),
                        recorded_at=at)


@pytest.fixture
def aged(demo_database, trackers):
    """Texts and records of three ages, in the app database and the tracker store."""
    trackers.save("telegram:old", conversation(epoch(THREE_YEARS), "HCF-3003 1979-06-25", "Thank you"))
    trackers.save("telegram:mixed", conversation(epoch(THREE_YEARS), "my old words", "old answer")
                  + conversation(epoch(YESTERDAY), "my new words", "new answer"))
    trackers.save("web:recent", conversation(epoch(YESTERDAY), "hello", "hi"))
    trackers.save("rest:one-session", conversation(epoch(THREE_YEARS), "first", "answer")[2:]
                  + conversation(epoch(YESTERDAY), "still here", "answer")[2:])
    with demo_database.unit_of_work() as session:
        negotiation(session, "HCF-3003", "telegram:old", LONG_AGO)
        session.add(state_change("HCF-3003", LONG_AGO))
        negotiation(session, "HCF-1001", "telegram:mixed", LONG_AGO)
        session.add(state_change("HCF-1001", datetime(2025, 6, 1)))  # the loan was active since
        for at in (LONG_AGO, YESTERDAY):
            session.add(VerificationAttempt(loan_reference="HCF-3003", conversation_id="telegram:old", channel="t",
                                            succeeded=True, attempted_at=at, outcome="verified"))
            session.add(VerifiedSession(conversation_id="telegram:old", loan_reference="HCF-3003", channel="t",
                                        verified_at=at, last_seen_at=at, ended_at=at))
        for at, words in ((THREE_YEARS, "stop, this is Chen Wei"), (YESTERDAY, "stop it")):
            session.add(ContactOptOut(conversation_id="telegram:old", loan_reference="HCF-3003", channel="t",
                                      message=words, recorded_at=at))
        for conversation_id, at, closed_at in (("telegram:ancient", LONG_AGO, LONG_AGO),
                                               ("telegram:old", THREE_YEARS, THREE_YEARS),
                                               ("web:recent", YESTERDAY, None)):
            escalation = Escalation(conversation_id=conversation_id, reason="request_human", priority=3,
                                    summary=json.dumps({"verified": True, "language": "en", "loan_ref": "HCF-3003",
                                                        "hardship_cause": "illness", "last_messages": ["help"]}),
                                    status=CLOSED if closed_at else "waiting", created_at=at, closed_at=closed_at)
            session.add(escalation)
            session.flush()
            session.add(EscalationNote(escalation_id=escalation.id, author="agent1", text="called Chen Wei",
                                       created_at=at))
        for session_id, at in (("old" + "0" * 61, THREE_YEARS), ("new" + "0" * 61, YESTERDAY)):
            session.execute(text("INSERT INTO widget_sessions VALUES (:id, :hash, :at, :at)"),
                            {"id": session_id, "hash": session_id, "at": at})
    return demo_database, trackers


def snapshot(database, trackers) -> tuple:
    connection = sqlite3.connect(database.url.removeprefix("sqlite:///"))
    try:
        app = list(connection.iterdump())
    finally:
        connection.close()
    return app, trackers.raw("SELECT * FROM events ORDER BY id")


def test_old_conversations_go_whole_and_a_live_one_keeps_its_latest_session(aged):
    database, trackers = aged
    mixed_latest = [e.as_dict() for e in run(trackers.store.retrieve("telegram:mixed")).events]  # what Rasa loads

    report = purge(database, trackers.events, PERIODS, now=NOW)

    assert trackers.retrieve("telegram:old") is None
    mixed = trackers.retrieve("telegram:mixed")
    assert [e.get("text") for e in (event.as_dict() for event in mixed.events) if e.get("text")] == [
        "my new words", "new answer"]
    assert [e.as_dict() for e in mixed.events] == mixed_latest  # what Rasa works with is unchanged
    assert trackers.retrieve("web:recent") is not None
    one_session = trackers.retrieve("rest:one-session")  # no session start: Rasa loads all of it, so all stays
    assert [e.text for e in one_session.events if getattr(e, "text", None)][:2] == ["first", "answer"]
    assert report.count("tracker store events") == 2 * len(conversation(0, "", ""))  # 2 sessions of 6
    assert "(whole conversations: 1)" in "\n".join(report.text_lines())


def test_old_texts_in_the_app_database_are_erased_and_recent_ones_stay(aged):
    database, trackers = aged
    purge(database, trackers.events, PERIODS, now=NOW)
    with database.unit_of_work() as session:
        messages = session.execute(select(ContactOptOut.recorded_at, ContactOptOut.message)
                                   .order_by(ContactOptOut.recorded_at)).all()
        assert [m for _, m in messages] == [None, "stop it"]  # both opt-outs are still honoured
        summaries = dict(session.execute(select(Escalation.conversation_id, Escalation.summary)).all())
        notes = session.execute(select(EscalationNote.text).order_by(EscalationNote.created_at)).scalars().all()
        sessions = session.execute(text("SELECT session_id FROM widget_sessions")).scalars().all()
    assert "telegram:ancient" not in summaries  # closed more than six years ago: gone with its note
    assert json.loads(summaries["telegram:old"]) == {"verified": True, "language": "en", "loan_ref": "HCF-3003"}
    assert json.loads(summaries["web:recent"])["last_messages"] == ["help"]
    assert notes == ["[erased]", "called Chen Wei"]
    assert sessions == ["new" + "0" * 61]


def test_records_go_six_years_after_their_loans_last_activity(aged):
    database, trackers = aged
    report = purge(database, trackers.events, PERIODS, now=NOW)
    with database.unit_of_work() as session:
        def references(model):
            return sorted(session.execute(select(model.loan_reference)).scalars())
        assert references(Agreement) == references(OfferRecord) == references(PromiseToPay) == ["HCF-1001"]
        assert references(PlanStanding) == ["HCF-1001"]
        assert references(AccountEvent) == ["HCF-1001"]
        assert session.execute(select(VerificationAttempt.attempted_at)).scalars().all() == [YESTERDAY]
        assert session.execute(select(VerifiedSession.verified_at)).scalars().all() == [YESTERDAY]
    for category in ("agreements", "offers shown", "promises to pay", "plan standings",
                     "state changes (account events)", "verification attempts", "verified sessions",
                     "closed escalations"):
        assert report.count(category) == 1, category


def test_a_dry_run_writes_nothing_and_counts_what_the_real_run_then_does(aged):
    database, trackers = aged
    before = snapshot(database, trackers)
    dry = purge(database, trackers.events, PERIODS, now=NOW, dry_run=True)
    assert snapshot(database, trackers) == before
    assert "  dry run: nothing was changed" in dry.text_lines()
    assert any(line.startswith("  would erase tracker store events") for line in dry.text_lines())

    real = purge(database, trackers.events, PERIODS, now=NOW)
    assert [(line.category, line.count) for line in dry.lines] == [(line.category, line.count) for line in real.lines]
    assert real.erased_anything
    assert not purge(database, trackers.events, PERIODS, now=NOW).erased_anything  # nothing left the second time


def test_a_shorter_text_period_reaches_yesterdays_texts():
    periods = RetentionPeriods(conversation_text_days=1, record_years=6)
    assert periods.text_cutoff(NOW) == datetime(2026, 11, 27, 12, 0)
    assert periods.record_cutoff(NOW) == datetime(2020, 11, 28, 12, 0)
    assert years_before(datetime(2028, 2, 29, 8, 0), 6) == datetime(2022, 2, 28, 8, 0)


def test_the_cli_and_the_scheduler_entry_point_read_the_periods_from_the_settings(aged, monkeypatch, tmp_path,
                                                                                  capsys):
    database, trackers = aged
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("TRACKER_STORE_URL", trackers.url)
    monkeypatch.setenv("RECORD_RETENTION_YEARS", "0")
    assert cli(["purge"]) == 2
    assert "RECORD_RETENTION_YEARS=0: must be at least 1" in capsys.readouterr().err

    monkeypatch.setenv("RECORD_RETENTION_YEARS", "10")
    assert cli(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "(10 years)" in out and "dry run: nothing was changed" in out  # the CLI runs as of now

    report = purge_from_settings(NOW)
    assert report.count("agreements") == 0  # ten years: the 2019 records stay
    assert report.count("tracker store events") == 12
    assert trackers.retrieve("telegram:old") is None


def test_an_absent_tracker_store_is_nothing_to_purge_and_is_not_created(demo_database, tmp_path):
    from bot.privacy import TrackerEvents

    missing = tmp_path / "tracker.db"
    report = purge(demo_database, TrackerEvents(f"sqlite:///{missing}"), PERIODS, now=NOW)
    assert report.count("tracker store events") == 0 and not missing.exists()


def test_follow_up_records_go_with_their_idle_loans_and_unused_links_with_old_texts(aged):
    from datetime import timedelta

    from bot.outreach.models import ATTEMPT_SENT, SENT, ChatLink, Contact, ContactAttempt, OutreachHold

    database, trackers = aged
    with database.unit_of_work() as session:
        for reference, at in (("HCF-3003", LONG_AGO), ("HCF-1001", YESTERDAY)):
            contact = Contact(key=f"promise:{reference}", loan_reference=reference, conversation_id="telegram:old",
                              channel="telegram", reason="promise_reminder", subject="promise:1", language="en",
                              jurisdiction="CN", due_at=at, status=SENT, attempts=1, sent_at=at, created_at=at)
            session.add(contact)
            session.flush()
            session.add(ContactAttempt(contact_id=contact.id, loan_reference=reference, conversation_id="telegram:old",
                                       channel="telegram", attempted_at=at, outcome=ATTEMPT_SENT))
            session.add(OutreachHold(loan_reference=reference, kind="agent_pause", starts_at=at, created_by="kim",
                                     note="asked for a pause"))
            session.add(ChatLink(token_hash=f"{reference:0>64}", loan_reference=reference, channel="telegram",
                                 created_by="cli", created_at=at, expires_at=at + timedelta(days=30), used_at=at,
                                 conversation_id="telegram:old"))
        for name, at in (("unused-old", THREE_YEARS), ("unused-new", YESTERDAY)):  # never opened
            session.add(ChatLink(token_hash=f"{name:0>64}", loan_reference="HCF-1001", channel="telegram",
                                 created_by="cli", created_at=at, expires_at=at + timedelta(days=30)))
    report = purge(database, trackers.events, PERIODS, now=NOW)
    with database.unit_of_work() as session:
        def references(model):
            return sorted(session.execute(select(model.loan_reference)).scalars())
        # HCF-1001 has a contact attempt yesterday, so it is not idle; HCF-3003 has been idle six years.
        assert references(Contact) == references(ContactAttempt) == references(OutreachHold) == ["HCF-1001"]
        links = sorted(session.execute(select(ChatLink.token_hash)).scalars())
    assert links == [f"{'HCF-1001':0>64}", f"{'unused-new':0>64}"]
    for category in ("follow-up attempts (send log)", "follow-up contacts", "outreach holds", "chat deep links",
                     "chat deep links never used"):
        assert report.count(category) == 1, category


def test_risk_scores_thin_to_one_a_month_after_90_days_and_go_after_the_record_period(demo_database, trackers):
    from datetime import timedelta

    from bot.risk.models import RiskScore

    def score(reference: str, at: datetime) -> RiskScore:
        return RiskScore(loan_reference=reference, scored_at=at, model_version="lr-test", probability=0.1,
                         band="low", reasons="[]")

    daily = [NOW - timedelta(days=n) for n in range(0, 200)]  # every day of the last 200
    with demo_database.unit_of_work() as session:
        session.add_all(score("HCF-1001", at) for at in daily)
        session.add(score("HCF-3003", LONG_AGO))
    before = NOW - timedelta(days=90)
    expected_months = {at.strftime("%Y-%m") for at in daily if at < before}
    dry = purge(demo_database, trackers.events, PERIODS, now=NOW, dry_run=True)
    report = purge(demo_database, trackers.events, PERIODS, now=NOW)
    with demo_database.unit_of_work() as session:
        kept = sorted(session.execute(select(RiskScore.scored_at).where(RiskScore.loan_reference == "HCF-1001"))
                      .scalars())
        assert session.execute(select(RiskScore).where(RiskScore.loan_reference == "HCF-3003")).first() is None
    recent = [at for at in kept if at >= before]
    older = [at for at in kept if at < before]
    assert len(recent) == 91  # NOW - 0 .. NOW - 90 days: the cut itself is not older than the cut
    # One per month before that: the month's last score (the one nearest the cut for the cut's own month).
    assert sorted(at.strftime("%Y-%m") for at in older) == sorted(expected_months)
    for at in older:
        same_month = [d for d in daily if d < before and d.strftime("%Y-%m") == at.strftime("%Y-%m")]
        assert at == max(same_month)
    assert report.count("risk scores") == 1
    thinned = 200 - 91 - len(expected_months)
    assert report.count("risk scores older than 90 days (one per loan and month kept)") == thinned
    # The dry run counts the same (HCF-3003's 2019 score is its month's only one: the record rule takes it).
    assert dry.count("risk scores older than 90 days (one per loan and month kept)") == thinned
    assert dry.count("risk scores") == 1


def test_analytics_facts_go_when_their_conversation_started_before_the_record_period(demo_database, trackers):
    from bot.analytics.models import ConversationFacts, LanguageSlot

    with demo_database.unit_of_work() as session:
        for conversation_id, at, event in (("web:2019", LONG_AGO, 1), ("web:2023", THREE_YEARS, 2)):
            session.add(ConversationFacts(conversation_id=conversation_id, started_event_id=event,
                                          started_at=epoch(at), returned=False, last_event_id=event))
            session.add(LanguageSlot(event_id=event, conversation_id=conversation_id, set_at=epoch(at), value="en"))
    report = purge(demo_database, trackers.events, PERIODS, now=NOW)
    with demo_database.unit_of_work() as session:
        assert session.execute(select(ConversationFacts.conversation_id)).scalars().all() == ["web:2023"]
        assert session.execute(select(LanguageSlot.conversation_id)).scalars().all() == ["web:2023"]
    assert report.count("analytics conversation facts") == report.count("analytics language-slot history") == 1
