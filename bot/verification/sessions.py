"""Which conversations the server itself has verified, for which loan, and whether that still holds.

Disclosure is decided from these records, never from the slots a caller sends: anything
that can reach the action server can claim any slot.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.verification.models import VerifiedSession


@dataclass(frozen=True)
class Verification:
    """A conversation verified for one loan."""

    conversation_id: str
    loan_reference: str
    channel: str | None
    verified_at: datetime
    last_seen_at: datetime


def _as_verification(row: VerifiedSession) -> Verification:
    return Verification(row.conversation_id, row.loan_reference, row.channel, row.verified_at, row.last_seen_at)


def end_verified_session(session: Session, conversation_id: str, *, now: datetime) -> None:
    """Forget any verification of this conversation (a new one replaces it, or the borrower left)."""
    session.execute(
        update(VerifiedSession)
        .where(VerifiedSession.conversation_id == conversation_id[:200], VerifiedSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def start_verified_session(
    session: Session, *, conversation_id: str, loan_reference: str, channel: str | None, now: datetime
) -> Verification:
    """Record that this conversation has just verified for `loan_reference`; it replaces any earlier one."""
    end_verified_session(session, conversation_id, now=now)
    row = VerifiedSession(conversation_id=conversation_id[:200], loan_reference=loan_reference,
                          channel=channel, verified_at=now, last_seen_at=now)
    session.add(row)
    session.flush()
    return _as_verification(row)


def current_verification(
    session: Session, conversation_id: str, *, now: datetime, idle: timedelta, renew: bool = True
) -> Verification | None:
    """The conversation's verification while it has been used within `idle`; None otherwise.

    With `renew`, using it now restarts the idle period (the borrower is active).
    """
    row = session.execute(
        select(VerifiedSession)
        .where(VerifiedSession.conversation_id == conversation_id[:200], VerifiedSession.ended_at.is_(None))
        .order_by(VerifiedSession.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    if now - row.last_seen_at >= idle:
        row.ended_at = row.last_seen_at + idle  # when it lapsed, for the audit trail
        return None
    if renew:
        row.last_seen_at = max(row.last_seen_at, now)
    return _as_verification(row)
