"""Forgetting a borrower on request: erase what may be erased, keep the rest in minimal form.

`forget(database, tracker, reference, now=...)` acts on the borrower of loan `reference` and all
their loans. Conversations are found through the records that name one of those loans
(verification attempts, verified sessions, offers, promises, agreements, opt-outs, escalation
summaries) and in the tracker store by any event that holds one of the references (a borrower
who typed their reference and left before verifying). Order matters: the tracker store is erased first, then the application database in
one transaction (which replaces the conversation ids, the only link to the tracker), then the
tracker store once more for any turn that finished in between. A failure before the database
commits leaves everything findable, so running it again completes it.

Running it twice is safe: the second run finds nothing left to erase and records nothing.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy import column as sql_column, table as sql_table
from sqlalchemy.orm import Session

from bot.accounts.models import ERASED_DATE_OF_BIRTH, Borrower, ContactOptOut, Loan
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.handoff.models import CLOSED, Escalation, EscalationNote
from bot.language.references import parse_loan_ref
from bot.lifecycle.models import AccountEvent, PlanStanding
from bot.analytics.models import ConversationFacts, LanguageSlot
from bot.outreach.models import CLAIMED, DROPPED, SCHEDULED, ChatLink, Contact, ContactAttempt, OutreachHold
from bot.privacy.minimal import (
    ERASED_ON_REQUEST, ERASED_TEXT, erased_acceptance, erased_name, is_erased_name, is_pseudonym,
    minimal_agreement_terms, minimal_summary, new_pseudonym, summary_needs_scrub,
)
from bot.privacy.report import Report
from bot.privacy.retention import RetentionPeriods
from bot.privacy.tracker_events import TrackerEvents
from bot.storage import Database
from bot.verification.models import VerificationAttempt, VerifiedSession

# The widget's conversation id is this prefix + widget_sessions.session_id (channels/widget/socketio.py
# PREFIX; bot/ does not import channels, a test keeps the two equal).
WIDGET_PREFIX = "web:"
WIDGET_SESSIONS = sql_table("widget_sessions", sql_column("session_id"))

# Every table with a conversation_id that is kept (in minimal form) after a forget.
CONVERSATION_TABLES = (VerificationAttempt, VerifiedSession, OfferRecord, PromiseToPay, Agreement, ContactOptOut,
                       Escalation, Contact, ContactAttempt)
# Tables whose rows name one loan in `loan_reference`.
LOAN_TABLES = (VerificationAttempt, VerifiedSession, OfferRecord, PromiseToPay, Agreement, ContactOptOut, Contact,
               ContactAttempt, ChatLink)


class UnknownReference(LookupError):
    """No loan has this reference."""


def find_loans(session: Session, reference: str) -> tuple[Borrower, list[str]]:
    """The borrower of loan `reference` (as stored, or in canonical form) and all their loans' references."""
    loan = None
    for candidate in dict.fromkeys(filter(None, (reference.strip(), parse_loan_ref(reference)))):
        loan = session.execute(select(Loan).where(Loan.reference == candidate)).scalar_one_or_none()
        if loan is not None:
            break
    if loan is None:
        raise UnknownReference(f"no loan has the reference {reference!r}")
    borrower = session.get(Borrower, loan.borrower_id)
    references = list(session.execute(
        select(Loan.reference).where(Loan.borrower_id == borrower.id).order_by(Loan.reference)).scalars())
    return borrower, references


def _escalations_naming(session: Session, references: list[str]) -> list[Escalation]:
    """Escalations whose summary names one of the loans (the summary is JSON text)."""
    found = []
    for reference in references:
        candidates = session.execute(
            select(Escalation).where(Escalation.summary.contains(reference, autoescape=True))).scalars()
        for escalation in candidates:
            try:
                named = json.loads(escalation.summary or "{}").get("loan_ref")
            except (ValueError, AttributeError):
                named = None
            if named == reference:
                found.append(escalation)
    return found


def conversations_of(session: Session, references: list[str]) -> set[str]:
    """Every conversation id recorded against these loans, pseudonyms included."""
    ids: set[str] = set()
    for model in LOAN_TABLES:
        ids.update(session.execute(
            select(model.conversation_id).where(model.loan_reference.in_(references),
                                                model.conversation_id.isnot(None)).distinct()).scalars())
    ids.update(escalation.conversation_id for escalation in _escalations_naming(session, references))
    return ids


def _in(column, values: Iterable[str]):
    return column.in_(sorted(values))


def _count(session: Session, model, *conditions) -> int:
    return session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()


def forget(database: Database, tracker: TrackerEvents, reference: str, *, now: datetime,
           periods: RetentionPeriods = RetentionPeriods()) -> Report:
    """Erase the personal data of the borrower of loan `reference`; returns what was erased and kept.

    Raises UnknownReference (and changes nothing) when no loan has that reference."""
    with database.unit_of_work() as session:
        borrower, references = find_loans(session, reference)
        linked = {c for c in conversations_of(session, references) if not is_pseudonym(c)}
    linked |= tracker.conversations_mentioning(references)
    first = tracker.delete_conversations(linked)

    report = Report(f"forget {reference}: borrower #{borrower.id}, loans {', '.join(references)}")
    with database.unit_of_work() as session:
        borrower = session.get(Borrower, borrower.id)
        linked |= {c for c in conversations_of(session, references) if not is_pseudonym(c)}
        counts = _erase_in_app_database(session, borrower, references, linked, now)
    second = tracker.delete_conversations(linked)  # turns that were saved while the database step ran

    conversations, events = first.conversations + second.conversations, first.events + second.events
    report.erased("borrower name and date of birth", counts["borrower"])
    report.erased("conversations in the tracker store", conversations,
                  f"{events} events: messages, slots, actions" if events else "")
    report.erased("agreement names and acceptance words", counts["agreements"])
    report.erased("contact opt-out message texts", counts["opt_out_texts"])
    report.erased("escalation summaries (messages, hardship, figures)", counts["summaries"])
    report.erased("agent notes", counts["notes"])
    report.erased("widget sessions", counts["widget_sessions"])
    report.erased("conversation ids in kept records", counts["pseudonymised"], "replaced by pseudonyms")
    report.erased("open escalations, closed", counts["closed"], f"outcome {ERASED_ON_REQUEST}")
    report.erased("scheduled follow-up messages, dropped", counts["contacts_dropped"])
    report.erased("outreach pause notes", counts["outreach_notes"])
    report.erased("chat deep links (the chat is no longer theirs for follow-up)", counts["chat_links"])
    report.erased("analytics facts of these conversations", counts["analytics_rows"])

    erased_anything = report.erased_anything
    with database.unit_of_work() as session:
        if erased_anything:
            detail = json.dumps({"tracker_conversations": conversations, "tracker_events": events, **counts})
            for loan_reference in references:
                session.add(AccountEvent(
                    loan_reference=loan_reference, subject="borrower", subject_id=str(borrower.id), from_state=None,
                    to_state="erased", cause="operator", cause_ref="forget (python -m bot.cli forget)",
                    detail=detail, occurred_on=now.date(), recorded_at=now))
            session.flush()
        _report_kept(session, report, references, periods)
    if counts["shared"]:
        report.notes.append(f"{counts['shared']} of these conversations also named other borrowers' loans; "
                            "their texts were erased as well (they held this borrower's messages)")
    return report


def _erase_in_app_database(session: Session, borrower: Borrower, references: list[str], linked: set[str],
                           now: datetime) -> dict[str, int]:
    counts = dict.fromkeys(("borrower", "agreements", "opt_out_texts", "summaries", "notes", "widget_sessions",
                            "pseudonymised", "closed", "shared", "contacts_dropped", "outreach_notes",
                            "chat_links", "analytics_rows"), 0)
    if not (is_erased_name(borrower.full_name) and borrower.date_of_birth == ERASED_DATE_OF_BIRTH):
        borrower.full_name = borrower.full_name if is_erased_name(borrower.full_name) else erased_name()
        borrower.date_of_birth = ERASED_DATE_OF_BIRTH
        counts["borrower"] = 1
    pseudonyms = {conversation_id: new_pseudonym() for conversation_id in linked}

    others = select(Loan.reference).where(Loan.borrower_id != borrower.id)
    counts["shared"] = len({c for model in LOAN_TABLES for c in session.execute(
        select(model.conversation_id).where(_in(model.conversation_id, linked),
                                            model.loan_reference.in_(others))).scalars()})

    escalations = session.execute(select(Escalation).where(_in(Escalation.conversation_id, linked))).scalars().all()
    for escalation in {e.id: e for e in [*escalations, *_escalations_naming(session, references)]}.values():
        if escalation.status != CLOSED:
            escalation.status, escalation.closed_at, escalation.outcome = CLOSED, now, ERASED_ON_REQUEST
            counts["closed"] += 1
        if summary_needs_scrub(escalation.summary):
            escalation.summary = minimal_summary(escalation.summary)
            counts["summaries"] += 1
        counts["notes"] += session.execute(
            update(EscalationNote).where(EscalationNote.escalation_id == escalation.id,
                                         EscalationNote.text != ERASED_TEXT)
            .values(text=ERASED_TEXT).execution_options(synchronize_session=False)).rowcount
    session.flush()

    counts["opt_out_texts"] = session.execute(
        update(ContactOptOut)
        .where(or_(ContactOptOut.loan_reference.in_(references), _in(ContactOptOut.conversation_id, linked)),
               ContactOptOut.message.isnot(None))
        .values(message=None).execution_options(synchronize_session=False)).rowcount

    for agreement in session.execute(select(Agreement).where(Agreement.loan_reference.in_(references))).scalars():
        conversation_id = pseudonyms.get(agreement.conversation_id, agreement.conversation_id)
        acceptance = (agreement.acceptance_text if agreement.acceptance_text.startswith("[erased")
                      else erased_acceptance(now.date()))
        terms_json = minimal_agreement_terms(agreement.terms_json, borrower_name=borrower.full_name,
                                             acceptance_text=acceptance, conversation_id=conversation_id)
        if (agreement.borrower_name, agreement.acceptance_text, agreement.terms_json) != (
                borrower.full_name, acceptance, terms_json):
            agreement.borrower_name, agreement.acceptance_text, agreement.terms_json = (
                borrower.full_name, acceptance, terms_json)
            counts["agreements"] += 1
    session.flush()

    # Follow-up: nothing more is sent to an erased borrower; agents' pause notes may name them.
    counts["contacts_dropped"] = session.execute(
        update(Contact).where(Contact.loan_reference.in_(references), Contact.status.in_((SCHEDULED, CLAIMED)))
        .values(status=DROPPED, outcome="borrower erased on request")
        .execution_options(synchronize_session=False)).rowcount
    counts["outreach_notes"] = session.execute(
        update(OutreachHold).where(OutreachHold.loan_reference.in_(references), OutreachHold.note.isnot(None),
                                   OutreachHold.note != ERASED_TEXT)
        .values(note=ERASED_TEXT).execution_options(synchronize_session=False)).rowcount
    counts["outreach_notes"] += session.execute(
        update(AccountEvent).where(AccountEvent.loan_reference.in_(references), AccountEvent.subject == "outreach",
                                   AccountEvent.detail.isnot(None))
        .values(detail=None).execution_options(synchronize_session=False)).rowcount

    # A chat bound by a deep link is no longer theirs to be written to; the link itself goes.
    counts["chat_links"] = session.execute(
        delete(ChatLink).where(ChatLink.loan_reference.in_(references))
        .execution_options(synchronize_session=False)).rowcount

    # Analytics keep per-conversation facts (start, language, channel) under the conversation id.
    for model in (ConversationFacts, LanguageSlot):
        counts["analytics_rows"] += session.execute(
            delete(model).where(_in(model.conversation_id, linked)).execution_options(synchronize_session=False)
        ).rowcount

    widget_ids = [c[len(WIDGET_PREFIX):] for c in linked if c.startswith(WIDGET_PREFIX)]
    if widget_ids:
        counts["widget_sessions"] = session.execute(
            delete(WIDGET_SESSIONS).where(WIDGET_SESSIONS.c.session_id.in_(widget_ids))).rowcount

    session.execute(update(VerifiedSession)
                    .where(_in(VerifiedSession.conversation_id, linked), VerifiedSession.ended_at.is_(None))
                    .values(ended_at=now).execution_options(synchronize_session=False))
    for conversation_id, pseudonym in pseudonyms.items():
        for model in CONVERSATION_TABLES:
            session.execute(update(model).where(model.conversation_id == conversation_id)
                            .values(conversation_id=pseudonym).execution_options(synchronize_session=False))
    counts["pseudonymised"] = len(pseudonyms)
    session.flush()
    return counts


def _report_kept(session: Session, report: Report, references: list[str], periods: RetentionPeriods) -> None:
    until = f"{periods.record_years} years after the loan's last activity"
    conversations = conversations_of(session, references)
    agreement_ids = select(Agreement.id).where(Agreement.loan_reference.in_(references))
    escalation_ids = {e.id for e in _escalations_naming(session, references)} | set(session.execute(
        select(Escalation.id).where(_in(Escalation.conversation_id, conversations))).scalars())
    report.kept("loans (schedule, payments, charges)", len(references),
                "the lender's books: the debt is still owed and accounted for; the lender's own "
                "system of record says who the borrower is")
    report.kept("agreements", _count(session, Agreement, Agreement.loan_reference.in_(references)),
                f"signed contract: reference, terms, amounts, policy version and time of acceptance; {until}")
    report.kept("offers shown", _count(session, OfferRecord, OfferRecord.loan_reference.in_(references)),
                f"what was offered under which policy rule (fair-treatment evidence); {until}")
    report.kept("promises to pay", _count(session, PromiseToPay, PromiseToPay.loan_reference.in_(references)),
                f"amounts, dates and whether they were kept; {until}")
    report.kept("plan standings", _count(session, PlanStanding, PlanStanding.agreement_id.in_(agreement_ids)),
                f"where each agreement stands; {until}")
    report.kept("verification attempts and verified sessions",
                _count(session, VerificationAttempt, VerificationAttempt.loan_reference.in_(references))
                + _count(session, VerifiedSession, VerifiedSession.loan_reference.in_(references)),
                f"security audit of who tried to reach the account, when and on which channel (no date of "
                f"birth is stored); {until}")
    report.kept("state changes (account events)",
                _count(session, AccountEvent, AccountEvent.loan_reference.in_(references)),
                f"audit trail of promises, plans and the loan, this erasure included; {until}")
    report.kept("contact opt-outs", _count(session, ContactOptOut, ContactOptOut.loan_reference.in_(references)),
                "so the borrower is not contacted against their request; the message text is erased")
    report.kept("escalations", len(escalation_ids),
                f"handling record: reason, priority, agent, outcome and times, without the borrower's "
                f"messages or figures; agent notes erased; {until}")
