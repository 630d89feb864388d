"""`forget REF`: the borrower's texts leave the tracker store and the app database; the records a
regulator may ask for stay, in minimal form; a second run finds nothing left."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import func, select

from bot.accounts.models import ERASED_DATE_OF_BIRTH, Borrower, ContactOptOut, Loan, Payment
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.cli import main as cli
from bot.handoff.models import CLOSED, WAITING, Escalation, EscalationNote
from bot.lifecycle.models import AccountEvent
from bot.privacy import UnknownReference, forget
from bot.privacy.forget import WIDGET_PREFIX
from bot.verification.models import VerificationAttempt, VerifiedSession
from bot.verification.service import LockoutRule, Outcome, verify_identity
from tests.conftest import PROJECT_ROOT
from tests.privacy.conftest import ALEX_TELEGRAM, ALEX_WIDGET, NOW, WANG_WIDGET, conversation, epoch


def rows(database, model, *conditions):
    with database.unit_of_work() as session:
        return session.execute(select(model).where(*conditions)).scalars().all()


def borrower_of(database, reference):
    with database.unit_of_work() as session:
        loan = session.execute(select(Loan).where(Loan.reference == reference)).scalar_one()
        return session.get(Borrower, loan.borrower_id)


def test_the_borrowers_conversations_leave_the_tracker_store_and_others_stay(alex_history):
    database, trackers = alex_history
    assert trackers.retrieve(ALEX_TELEGRAM) is not None

    forget(database, trackers.events, "HCF-1001", now=NOW)

    assert trackers.retrieve(ALEX_TELEGRAM) is None and trackers.retrieve(ALEX_WIDGET) is None
    assert trackers.raw("SELECT count(*) FROM events WHERE sender_id IN (?, ?)", ALEX_TELEGRAM, ALEX_WIDGET) == [(0,)]
    stored = " ".join(data for (data,) in trackers.raw("SELECT data FROM events"))
    assert "Alex" not in stored and "1988" not in stored and "HCF-1001" not in stored
    wang = trackers.retrieve(WANG_WIDGET)
    assert wang is not None and wang.latest_message.text == "HCF-2002 1992年11月3日 我是王芳"


def test_the_borrower_is_anonymised_and_can_never_verify_again(alex_history):
    database, trackers = alex_history
    forget(database, trackers.events, "HCF-1001", now=NOW)

    alex = borrower_of(database, "HCF-1001")
    assert alex.full_name.startswith("erased ") and "Alex" not in alex.full_name
    assert alex.date_of_birth == ERASED_DATE_OF_BIRTH == date(1900, 1, 1)
    assert borrower_of(database, "HCF-2002").full_name == "王芳 (Wang Fang)"
    with database.unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(Payment).join(Loan)
                               .where(Loan.reference == "HCF-1001")).scalar_one() == 7  # the books stay
        for date_of_birth in (date(1988, 4, 12), ERASED_DATE_OF_BIRTH):
            result = verify_identity(session, loan_reference="HCF-1001", date_of_birth=date_of_birth,
                                     conversation_id="web:someone", channel="socketio", now=NOW, rule=LockoutRule())
            assert result.outcome == Outcome.MISMATCH


def test_agreements_offers_promises_and_attempts_are_kept_in_minimal_form(alex_history):
    database, trackers = alex_history
    before = rows(database, Agreement, Agreement.loan_reference == "HCF-1001")[0]
    forget(database, trackers.events, "HCF-1001", now=NOW)

    agreement = rows(database, Agreement, Agreement.loan_reference == "HCF-1001")[0]
    assert (agreement.reference, agreement.accepted_at, agreement.policy_version, agreement.offer_record_id) == (
        before.reference, before.accepted_at, before.policy_version, before.offer_record_id)
    assert agreement.borrower_name == borrower_of(database, "HCF-1001").full_name
    assert agreement.acceptance_text == "[erased on request on 2026-11-28]"
    frozen = json.loads(agreement.terms_json)
    assert frozen["terms"] == json.loads(before.terms_json)["terms"]
    assert frozen["verification"] == json.loads(before.terms_json)["verification"]
    assert frozen["accepted_at"] == "2026-11-20T09:10:00Z"
    assert "Alex" not in agreement.terms_json and ALEX_TELEGRAM not in agreement.terms_json

    pseudonym = agreement.conversation_id
    assert pseudonym.startswith("erased:") and frozen["conversation_id"] == pseudonym
    assert [o.conversation_id for o in rows(database, OfferRecord, OfferRecord.loan_reference == "HCF-1001")] == [
        pseudonym]
    assert [p.conversation_id for p in rows(database, PromiseToPay, PromiseToPay.loan_reference == "HCF-1001")] == [
        pseudonym]
    attempts = rows(database, VerificationAttempt, VerificationAttempt.loan_reference == "HCF-1001")
    assert len(attempts) == 2 and {a.conversation_id for a in attempts} >= {pseudonym}
    assert all(a.conversation_id.startswith("erased:") for a in attempts)
    assert len({a.conversation_id for a in attempts}) == 2  # two conversations, two pseudonyms
    (verified,) = rows(database, VerifiedSession, VerifiedSession.loan_reference == "HCF-1001")
    assert verified.conversation_id == pseudonym and verified.ended_at == NOW

    wang = rows(database, Agreement, Agreement.loan_reference == "HCF-2002")[0]
    assert (wang.borrower_name, wang.acceptance_text, wang.conversation_id) == ("王芳", "同意", WANG_WIDGET)


def test_live_chat_and_opt_out_texts_are_erased_and_the_opt_out_itself_kept(alex_history):
    database, trackers = alex_history
    forget(database, trackers.events, "HCF-1001", now=NOW)

    (opt_out,) = rows(database, ContactOptOut, ContactOptOut.loan_reference == "HCF-1001")
    assert opt_out.message is None and opt_out.conversation_id.startswith("erased:")
    assert rows(database, ContactOptOut, ContactOptOut.loan_reference == "HCF-2002")[0].message == "别再联系我"

    (escalation,) = rows(database, Escalation, Escalation.conversation_id == opt_out.conversation_id)
    assert (escalation.status, escalation.outcome, escalation.closed_at) == (CLOSED, "erased_on_request", NOW)
    summary = json.loads(escalation.summary)
    assert summary["loan_ref"] == "HCF-1001" and summary["reasons"][0]["reason"] == "request_human"
    assert not {"last_messages", "hardship_cause", "monthly_income"} & summary.keys()
    assert [n.text for n in rows(database, EscalationNote, EscalationNote.escalation_id == escalation.id)] == [
        "[erased]"]

    (wang,) = rows(database, Escalation, Escalation.conversation_id == WANG_WIDGET)
    assert wang.status == WAITING and json.loads(wang.summary)["last_messages"] == ["我是王芳"]
    assert [n.text for n in rows(database, EscalationNote, EscalationNote.escalation_id == wang.id)] == [
        "王芳 asked for a call"]
    with database.engine.connect() as connection:
        sessions = connection.exec_driver_sql("SELECT session_id FROM widget_sessions").scalars().all()
    assert sessions == [WANG_WIDGET[len(WIDGET_PREFIX):]]


def test_the_report_says_what_was_erased_and_what_was_kept_and_why(alex_history):
    database, trackers = alex_history
    report = forget(database, trackers.events, "hcf 1001", now=NOW)  # as an operator might type it
    text = "\n".join(report.text_lines())

    assert report.count("borrower name and date of birth") == 1
    assert report.count("conversations in the tracker store") == 2
    assert report.count("agreement names and acceptance words") == 1
    assert report.count("contact opt-out message texts") == 1
    assert report.count("agent notes") == 1 and report.count("widget sessions") == 1
    assert report.count("conversation ids in kept records") == 2
    assert "forget hcf 1001: borrower #" in text and "loans HCF-1001" in text
    assert "events: messages, slots, actions" in text
    for kept in ("agreements", "offers shown", "promises to pay", "verification attempts and verified sessions",
                 "state changes (account events)", "contact opt-outs", "escalations"):
        line = next(line for line in report.lines if line.category == kept)
        assert line.action == "kept" and line.count >= 1 and line.detail, kept
    assert "nothing left to erase" not in text
    assert text.count("why: ") == 9


def test_the_erasure_is_recorded_as_a_state_change_of_the_borrower(alex_history):
    database, trackers = alex_history
    forget(database, trackers.events, "HCF-1001", now=NOW)
    (event,) = rows(database, AccountEvent, AccountEvent.subject == "borrower")
    assert (event.loan_reference, event.to_state, event.cause, event.occurred_on, event.recorded_at) == (
        "HCF-1001", "erased", "operator", NOW.date(), NOW)
    assert event.subject_id == str(borrower_of(database, "HCF-1001").id)
    assert json.loads(event.detail)["tracker_conversations"] == 2


def test_a_second_forget_finds_nothing_left_and_records_nothing(alex_history):
    database, trackers = alex_history
    forget(database, trackers.events, "HCF-1001", now=NOW)
    name = borrower_of(database, "HCF-1001").full_name
    events_before = trackers.raw("SELECT count(*) FROM events")

    again = forget(database, trackers.events, "HCF-1001", now=NOW)

    assert not again.erased_anything
    assert "  nothing left to erase" in again.text_lines()
    assert borrower_of(database, "HCF-1001").full_name == name
    assert len(rows(database, AccountEvent, AccountEvent.subject == "borrower")) == 1
    assert trackers.raw("SELECT count(*) FROM events") == events_before
    assert next(line for line in again.lines if line.category == "agreements").count == 1


def test_a_conversation_after_the_erasure_is_found_by_the_next_forget(alex_history):
    database, trackers = alex_history
    forget(database, trackers.events, "HCF-1001", now=NOW)
    trackers.save("telegram:777", conversation(epoch(NOW), "HCF-1001 12/04/1988", "That does not match"))
    with database.unit_of_work() as session:
        verify_identity(session, loan_reference="HCF-1001", date_of_birth=date(1988, 4, 12),
                        conversation_id="telegram:777", channel="telegram", now=NOW, rule=LockoutRule())

    report = forget(database, trackers.events, "HCF-1001", now=NOW)

    assert report.count("conversations in the tracker store") == 1
    assert report.count("borrower name and date of birth") == 0
    assert trackers.retrieve("telegram:777") is None
    assert len(rows(database, AccountEvent, AccountEvent.subject == "borrower")) == 2


def test_an_unknown_reference_is_an_error_and_changes_nothing(alex_history):
    database, trackers = alex_history
    events_before = trackers.raw("SELECT count(*) FROM events")
    with pytest.raises(UnknownReference, match="HCF-9999"):
        forget(database, trackers.events, "HCF-9999", now=NOW)
    assert trackers.raw("SELECT count(*) FROM events") == events_before
    assert borrower_of(database, "HCF-1001").full_name == "Alex Morgan"


@pytest.fixture
def settings_env(monkeypatch, tmp_path, alex_history):
    database, trackers = alex_history
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("TRACKER_STORE_URL", trackers.url)
    return alex_history


def test_the_cli_prints_the_report_and_exits_1_for_an_unknown_reference(settings_env, capsys):
    database, trackers = settings_env
    assert cli(["forget", "HCF-9999"]) == 1
    assert "ERROR: no loan has the reference 'HCF-9999'; nothing was changed" in capsys.readouterr().err

    assert cli(["forget", "HCF-1001"]) == 0
    out = capsys.readouterr().out
    assert "erased borrower name and date of birth" in out and "kept   agreements" in out
    assert trackers.retrieve(ALEX_TELEGRAM) is None

    assert cli(["forget", "HCF-1001"]) == 0
    assert "nothing left to erase" in capsys.readouterr().out


def test_python_m_bot_cli_forget_exits_1_for_an_unknown_reference(tmp_path, database):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "forget", "HCF-9999"], cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "APP_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": database.url,
             "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'no-tracker.db'}"}, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "no loan has the reference 'HCF-9999'" in result.stderr
    assert not (tmp_path / "no-tracker.db").exists()  # the tracker store file is Rasa's to create


def test_the_widget_prefix_is_the_widget_channels():
    from channels.widget.socketio import PREFIX

    assert WIDGET_PREFIX == PREFIX


def test_a_conversation_that_only_typed_the_reference_is_found_in_the_tracker_store(alex_history):
    database, trackers = alex_history
    trackers.save("telegram:left-early", conversation(epoch(NOW), "hi, my loan is HCF-1001, I'm Alex", "Your date?"))
    trackers.save("telegram:other-loan", conversation(epoch(NOW), "my loan is HCF-10010", "Your date?"))

    report = forget(database, trackers.events, "HCF-1001", now=NOW)

    assert report.count("conversations in the tracker store") == 3
    assert trackers.retrieve("telegram:left-early") is None
    assert trackers.retrieve("telegram:other-loan") is not None  # a longer reference is another loan


def test_follow_up_stops_and_its_records_lose_the_person(alex_history):
    """No reminder goes to an erased borrower; pause notes are erased; contact rows keep only pseudonyms."""
    from bot.outreach.holds import pause_outreach
    from bot.outreach.models import DROPPED, SCHEDULED, SENT, Contact, OutreachHold

    database, trackers = alex_history
    with database.unit_of_work() as session:
        for key, status in (("promise:1:before:1", SCHEDULED), ("promise:0:before:1", SENT)):
            session.add(Contact(key=key, loan_reference="HCF-1001", conversation_id=ALEX_TELEGRAM, channel="telegram",
                                reason="promise_reminder", subject="promise:1", language="en", jurisdiction="CN",
                                due_at=NOW, status=status, attempts=0, created_at=NOW))
        pause_outreach(session, "HCF-1001", by="kim", note="Alex Morgan is in hospital", now=NOW)

    report = forget(database, trackers.events, "HCF-1001", now=NOW)

    contacts = {c.key: c for c in rows(database, Contact)}
    assert contacts["promise:1:before:1"].status == DROPPED and contacts["promise:0:before:1"].status == SENT
    assert all(c.conversation_id != ALEX_TELEGRAM for c in contacts.values())  # pseudonymised
    assert [h.note for h in rows(database, OutreachHold)] == ["[erased]"]
    outreach_events = rows(database, AccountEvent, AccountEvent.subject == "outreach")
    assert outreach_events and all(e.detail is None for e in outreach_events)
    text = "\n".join(report.text_lines())
    assert "scheduled follow-up messages, dropped" in text and "outreach pause notes" in text


def test_a_chat_bound_by_a_deep_link_is_erased_and_no_longer_theirs(alex_history):
    """The bound chat's conversation leaves the tracker store and the link goes: nothing is written there again."""
    from datetime import timedelta

    from bot.outreach.links import bind_chat, issue_link
    from bot.outreach.models import ChatLink

    database, trackers = alex_history
    trackers.save("telegram:990099", conversation(epoch(NOW), "/greet", "Hello, I am the assistant"))
    with database.unit_of_work() as session:
        token = issue_link(session, "HCF-1001", by="cli", now=NOW - timedelta(days=1))
        bind_chat(session, token, conversation_id="telegram:990099", channel="telegram", now=NOW - timedelta(days=1))

    report = forget(database, trackers.events, "HCF-1001", now=NOW)

    assert rows(database, ChatLink) == []
    assert trackers.raw("SELECT count(*) FROM events WHERE sender_id = 'telegram:990099'") == [(0,)]
    assert "chat deep links" in "\n".join(report.text_lines())


def test_the_analytics_facts_of_the_borrowers_conversations_go_too(alex_history):
    from bot.analytics.models import ConversationFacts, LanguageSlot

    database, trackers = alex_history
    with database.unit_of_work() as session:
        for conversation_id in (ALEX_TELEGRAM, WANG_WIDGET):
            session.add(ConversationFacts(conversation_id=conversation_id, started_event_id=1, started_at=1.0,
                                          returned=False, language="en", last_event_id=1))
            session.add(LanguageSlot(event_id=len(conversation_id), conversation_id=conversation_id, set_at=1.0,
                                     value="en"))
    report = forget(database, trackers.events, "HCF-1001", now=NOW)
    assert [f.conversation_id for f in rows(database, ConversationFacts)] == [WANG_WIDGET]
    assert [s.conversation_id for s in rows(database, LanguageSlot)] == [WANG_WIDGET]
    assert "analytics facts of these conversations" in "\n".join(report.text_lines())
