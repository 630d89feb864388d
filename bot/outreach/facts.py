"""The facts the contact policy reads, gathered from the database for one loan, channel and chat.

A conversation belongs to a loan when the borrower verified in it (`verified_sessions`) or when an
escalation's summary names the loan (`loan_ref`); opt-outs and escalations of any such conversation
count, as do opt-outs recorded against the loan itself. Times are naive UTC, as stored.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.accounts.models import ContactOptOut
from bot.handoff.models import CLOSED, Escalation
from bot.negotiation.policy import OutreachRules
from bot.outreach.holds import holds_in_force
from bot.outreach.links import bound_chats
from bot.outreach.models import ATTEMPT_FAILED, ATTEMPT_SENT, BREATHING_SPACE, ContactAttempt, OutreachHold
from bot.outreach.rules import ContactFacts
from bot.verification.models import VerifiedSession

DISPUTE_REASONS = frozenset({"dispute_debt", "complain"})
VULNERABLE_REASONS = frozenset({"vulnerable", "self_harm"})
VULNERABLE_LOOKBACK = timedelta(days=365)
ATTEMPT_LOOKBACK = timedelta(days=7)


def contact_facts(session: Session, *, loan_reference: str, channel: str, conversation_id: str,
                  now: datetime) -> ContactFacts:
    """Everything `bot.outreach.rules.decide` needs about this loan at `now`."""
    now = _naive_utc(now)
    verified = session.execute(
        select(VerifiedSession.conversation_id).where(VerifiedSession.loan_reference == loan_reference)
    ).scalars().all()
    bound = {link.conversation_id for link in bound_chats(session, [loan_reference])}
    escalations = _escalations_of_loan(session, loan_reference, set(verified))
    conversations = set(verified) | {e.conversation_id for e, _ in escalations}

    attempts = session.execute(
        select(ContactAttempt.attempted_at).where(
            ContactAttempt.loan_reference == loan_reference,
            ContactAttempt.channel == channel,
            ContactAttempt.outcome.in_((ATTEMPT_SENT, ATTEMPT_FAILED)),  # refusals sent nothing
            ContactAttempt.attempted_at > now - ATTEMPT_LOOKBACK,
            ContactAttempt.attempted_at <= now,
        ).order_by(ContactAttempt.attempted_at)
    ).scalars().all()

    opted_out = session.execute(
        select(ContactOptOut.id).where(
            or_(ContactOptOut.loan_reference == loan_reference,
                ContactOptOut.conversation_id.in_(conversations | {conversation_id})),
            or_(ContactOptOut.channel.is_(None), ContactOptOut.channel == channel),
            ContactOptOut.recorded_at <= now,
        ).limit(1)
    ).first() is not None

    open_reasons = {reason for e, reasons in escalations if e.status != CLOSED for reason, _ in reasons}
    vulnerable = any(reason in VULNERABLE_REASONS and at > now - VULNERABLE_LOOKBACK
                     for _, reasons in escalations for reason, at in reasons)
    return ContactFacts(
        attempts=tuple(attempts),
        opted_out=opted_out,
        handoff_open=any(e.status != CLOSED for e, _ in escalations),
        dispute_or_complaint_open=bool(open_reasons & DISPUTE_REASONS),
        vulnerable=vulnerable,
        hold=_hold_in_force(session, loan_reference, now),
        own_verified_chat=conversation_id in verified or conversation_id in bound,
    )


def breathing_space_hold(session: Session, loan_reference: str, jurisdiction: str | None, rules: OutreachRules,
                         now: datetime, created_by: str) -> OutreachHold:
    """Record a breathing space for the loan, as long as its jurisdiction's `breathing_space_days`.

    Raises ValueError when the jurisdiction has none (0 days): an agent who wants contact to stop there
    records an agent pause instead, which names no law.
    """
    code = jurisdiction if jurisdiction in rules.jurisdictions else rules.default_jurisdiction
    days = rules.jurisdictions[code].breathing_space_days
    if days <= 0:
        raise ValueError(f"jurisdiction {code} has no breathing space (outreach.jurisdictions.{code}."
                         f"breathing_space_days is 0)")
    start = _naive_utc(now)
    hold = OutreachHold(loan_reference=loan_reference, kind=BREATHING_SPACE, starts_at=start,
                        ends_at=start + timedelta(days=days), created_by=created_by,
                        note=f"breathing space, {days} days ({code})")
    session.add(hold)
    session.flush()
    return hold


def _escalations_of_loan(session: Session, loan_reference: str,
                         conversations: set[str]) -> list[tuple[Escalation, list[tuple[str, datetime]]]]:
    """Escalations of the loan's conversations or naming it, each with every reason it was raised for."""
    rows = session.execute(
        select(Escalation).where(or_(Escalation.conversation_id.in_(conversations),
                                     Escalation.summary.contains(loan_reference)))
    ).scalars().all()
    found = []
    for escalation in rows:
        summary = _summary(escalation)
        if escalation.conversation_id not in conversations and summary.get("loan_ref") != loan_reference:
            continue  # the reference appeared elsewhere in the summary text
        found.append((escalation, _reasons(escalation, summary)))
    return found


def _summary(escalation: Escalation) -> dict:
    try:
        summary = json.loads(escalation.summary or "{}")
    except ValueError:
        return {}
    return summary if isinstance(summary, dict) else {}


def _reasons(escalation: Escalation, summary: dict) -> list[tuple[str, datetime]]:
    """The escalation's current reason and every earlier trigger recorded in its summary, with when."""
    reasons = [(escalation.reason, escalation.created_at)]
    for entry in summary.get("reasons") or []:
        if isinstance(entry, dict) and entry.get("reason"):
            reasons.append((str(entry["reason"]), _parsed(entry.get("at")) or escalation.created_at))
    return reasons


def _parsed(value: object) -> datetime | None:
    try:
        return _naive_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def _hold_in_force(session: Session, loan_reference: str, now: datetime) -> str | None:
    holds = holds_in_force(session, loan_reference, now)
    return holds[0].kind if holds else None


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(timezone.utc).replace(tzinfo=None)
