"""The scheduled purge: apply the retention periods (docs/data-rules.md).

Conversation texts older than `conversation_text_days`: the tracker store's events (whole
conversations, or the sessions before a live conversation's latest one), opt-out message texts,
the borrower's words and figures in escalation summaries, agent notes, and widget sessions.

Records past `record_years`: verification attempts and verified sessions by their own time;
the offers, promises, agreements (with their plan standings) and state changes of a loan once
the newest of them is that old (retention runs from the loan's last activity, not from each
record, so a plan still being paid keeps its agreement); closed escalations by their closing time.

Risk scores (one per active loan per scoring run: 36 million rows a year at 100,000 loans scored daily)
go `record_years` after they were computed, by their own time; before that, past `RISK_SCORES_DAILY_DAYS`
only the last score of each loan and calendar month is kept, enough to say how a loan's risk was seen
at any time. Analytics facts (per conversation: start, channel, language; no text) go `record_years` after
the conversation started, with its language-slot history.

`purge(...)` takes the stores and a fixed `now`; `purge_from_settings()` is what a scheduler (or
cron, `python -m bot.cli purge`) calls. A dry run counts and changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, func, or_, select, union_all, update
from sqlalchemy import column as sql_column, table as sql_table
from sqlalchemy.orm import Session

from bot.accounts.models import ContactOptOut
from bot.agreements.models import Agreement, OfferRecord, PromiseToPay
from bot.config import Settings, load_settings
from bot.handoff.models import CLOSED, Escalation, EscalationNote
from bot.lifecycle.models import AccountEvent, PlanStanding
from bot.outreach.models import ChatLink, Contact, ContactAttempt, OutreachHold
from bot.privacy.minimal import ERASED_TEXT, SUMMARY_KEYS_KEPT, minimal_summary, summary_needs_scrub
from bot.privacy.report import Report
from bot.privacy.retention import RetentionPeriods, epoch_seconds, retention_from_settings, utc_now
from bot.privacy.tracker_events import TrackerEvents
from bot.risk.models import RiskScore
from bot.analytics.models import ConversationFacts, LanguageSlot
from bot.storage import Database
from bot.verification.models import VerificationAttempt, VerifiedSession

WIDGET_SESSIONS = sql_table("widget_sessions", sql_column("session_id"), sql_column("rotated_at"))
BATCH = 500
RISK_SCORES_DAILY_DAYS = 90  # every score of the last 90 days is kept; before that, one per loan and month


def _count(session: Session, model, *conditions) -> int:
    return session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()


def _delete(session: Session, model, apply: bool, *conditions) -> int:
    if not apply:
        return _count(session, model, *conditions)
    return session.execute(delete(model).where(*conditions).execution_options(synchronize_session=False)).rowcount


def _set(session: Session, model, values: dict, apply: bool, *conditions) -> int:
    if not apply:
        return _count(session, model, *conditions)
    return session.execute(update(model).where(*conditions).values(**values)
                           .execution_options(synchronize_session=False)).rowcount


def idle_loans(session: Session, cutoff: datetime) -> list[str]:
    """Loan references whose newest offer, promise, agreement, plan standing, state change or follow-up attempt
    is before `cutoff`."""
    activity = union_all(
        select(OfferRecord.loan_reference.label("loan_reference"), OfferRecord.shown_at.label("at")),
        select(PromiseToPay.loan_reference, func.coalesce(PromiseToPay.settled_at, PromiseToPay.recorded_at)),
        select(Agreement.loan_reference, Agreement.accepted_at),
        select(PlanStanding.loan_reference, PlanStanding.changed_at),
        select(AccountEvent.loan_reference, AccountEvent.recorded_at),
        select(ContactAttempt.loan_reference, ContactAttempt.attempted_at),
    ).subquery()
    return list(session.execute(
        select(activity.c.loan_reference).group_by(activity.c.loan_reference)
        .having(func.max(activity.c.at) < cutoff).order_by(activity.c.loan_reference)).scalars())


def _scrub_summaries(session: Session, cutoff: datetime, apply: bool) -> int:
    """Escalations opened before `cutoff` whose summary still holds the borrower's words or figures."""
    personal = [Escalation.summary.contains(f'"{key}"') for key in (
        "last_messages", "hardship_cause", "monthly_income", "monthly_costs")]
    scrubbed = 0
    rows = session.execute(select(Escalation.id, Escalation.summary)
                           .where(Escalation.created_at < cutoff, or_(*personal))).all()
    for escalation_id, summary in rows:
        if summary_needs_scrub(summary):
            scrubbed += 1
            if apply:
                session.execute(update(Escalation).where(Escalation.id == escalation_id)
                                .values(summary=minimal_summary(summary)))
    return scrubbed


def _thin_risk_scores(session: Session, before: datetime, apply: bool) -> int:
    """Scores older than `before`, but for the last of each loan and calendar month."""
    month = func.substr(cast(RiskScore.scored_at, String), 1, 7)  # '2026-12' on SQLite and PostgreSQL
    last = (select(RiskScore.loan_reference, func.max(RiskScore.scored_at).label("scored_at"))
            .where(RiskScore.scored_at < before).group_by(RiskScore.loan_reference, month).subquery())
    kept = select(RiskScore.id).join(last, (RiskScore.loan_reference == last.c.loan_reference)
                                     & (RiskScore.scored_at == last.c.scored_at))
    return _delete(session, RiskScore, apply, RiskScore.scored_at < before, RiskScore.id.not_in(kept))


def purge(database: Database, tracker: TrackerEvents, periods: RetentionPeriods, *, now: datetime,
          dry_run: bool = False) -> Report:
    """Apply the retention periods as of `now` (naive UTC); returns what went (or would go)."""
    apply = not dry_run
    texts, records = periods.text_cutoff(now), periods.record_cutoff(now)
    report = Report(f"purge as of {now.isoformat(timespec='seconds')}Z: conversation texts before "
                    f"{texts.date().isoformat()} ({periods.conversation_text_days} days), records of loans idle "
                    f"since before {records.date().isoformat()} ({periods.record_years} years)", dry_run=dry_run)

    erased = tracker.purge_before(epoch_seconds(texts), apply=apply)
    report.erased("tracker store events", erased.events,
                  f"whole conversations: {erased.conversations}" if erased.conversations else "")
    with database.unit_of_work() as session:
        report.erased("contact opt-out message texts", _set(
            session, ContactOptOut, {"message": None}, apply,
            ContactOptOut.recorded_at < texts, ContactOptOut.message.isnot(None)))
        report.erased("escalation summaries (messages, hardship, figures)", _scrub_summaries(session, texts, apply))
        report.erased("agent notes", _set(session, EscalationNote, {"text": ERASED_TEXT}, apply,
                                          EscalationNote.created_at < texts, EscalationNote.text != ERASED_TEXT))
        report.erased("widget sessions", _delete(session, WIDGET_SESSIONS, apply, WIDGET_SESSIONS.c.rotated_at < texts))
        report.erased("chat deep links never used", _delete(session, ChatLink, apply, ChatLink.used_at.is_(None),
                                                              ChatLink.expires_at < texts))

        report.erased("verification attempts", _delete(session, VerificationAttempt, apply,
                                                        VerificationAttempt.attempted_at < records))
        report.erased("verified sessions", _delete(
            session, VerifiedSession, apply,
            func.coalesce(VerifiedSession.ended_at, VerifiedSession.last_seen_at) < records))
        loans = idle_loans(session, records)
        counts = dict.fromkeys(("plan standings", "agreements", "offers shown", "promises to pay",
                                "state changes (account events)", "follow-up attempts (send log)",
                                "follow-up contacts", "outreach holds", "chat deep links"), 0)
        for start in range(0, len(loans), BATCH):
            batch = loans[start:start + BATCH]
            agreements = select(Agreement.id).where(Agreement.loan_reference.in_(batch))
            # Plan standings and agreements first: they refer to agreements and offers.
            counts["plan standings"] += _delete(session, PlanStanding, apply, PlanStanding.agreement_id.in_(agreements))
            counts["agreements"] += _delete(session, Agreement, apply, Agreement.loan_reference.in_(batch))
            counts["offers shown"] += _delete(session, OfferRecord, apply, OfferRecord.loan_reference.in_(batch))
            counts["promises to pay"] += _delete(session, PromiseToPay, apply, PromiseToPay.loan_reference.in_(batch))
            counts["state changes (account events)"] += _delete(session, AccountEvent, apply,
                                                                AccountEvent.loan_reference.in_(batch))
            # Follow-up: attempts refer to contacts, so they go first.
            counts["follow-up attempts (send log)"] += _delete(session, ContactAttempt, apply,
                                                               ContactAttempt.loan_reference.in_(batch))
            counts["follow-up contacts"] += _delete(session, Contact, apply, Contact.loan_reference.in_(batch))
            counts["outreach holds"] += _delete(session, OutreachHold, apply, OutreachHold.loan_reference.in_(batch))
            counts["chat deep links"] += _delete(session, ChatLink, apply, ChatLink.loan_reference.in_(batch))
        for category, count in counts.items():
            report.erased(category, count, f"idle loans: {len(loans)}" if count else "")
        report.erased("risk scores", _delete(session, RiskScore, apply, RiskScore.scored_at < records))
        report.erased(f"risk scores older than {RISK_SCORES_DAILY_DAYS} days (one per loan and month kept)",
                      _thin_risk_scores(session, now - timedelta(days=RISK_SCORES_DAILY_DAYS), apply))
        started_before = epoch_seconds(records)
        report.erased("analytics conversation facts", _delete(session, ConversationFacts, apply,
                                                              ConversationFacts.started_at < started_before))
        report.erased("analytics language-slot history", _delete(session, LanguageSlot, apply,
                                                                 LanguageSlot.set_at < started_before))
        closed = select(Escalation.id).where(Escalation.status == CLOSED, Escalation.closed_at < records)
        notes = _delete(session, EscalationNote, apply, EscalationNote.escalation_id.in_(closed))
        escalations = _delete(session, Escalation, apply, Escalation.id.in_(closed))
        report.erased("closed escalations", escalations, f"with notes: {notes}" if notes else "")
        report.kept("contact opt-outs", _count(session, ContactOptOut),
                    "standing requests not to be contacted: never purged by age (their message texts are)")
    report.notes.append("the lender's books (borrowers, loans, schedule, payments, charges) follow the lender's "
                        "system of record and are not purged here; escalation summaries keep only "
                        + ", ".join(sorted(SUMMARY_KEYS_KEPT)))
    return report


def purge_from_settings(now: datetime | None = None, *, dry_run: bool = False, settings: Settings | None = None,
                        database: Database | None = None) -> Report:
    """Purge the databases the settings name (DATABASE_URL, TRACKER_STORE_URL): the scheduler's entry point.
    A caller that holds the application database already (the web app) passes it and its settings.

    Blocking (SQL); run it in a worker thread from async code."""
    settings = settings or load_settings()
    owned = database is None
    database = database or Database(settings.database_url)
    tracker = TrackerEvents(settings.tracker_store_url)
    try:
        return purge(database, tracker, retention_from_settings(settings), now=now or utc_now(), dry_run=dry_run)
    finally:
        tracker.dispose()
        if owned:
            database.dispose()
