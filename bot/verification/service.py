"""Verifying a borrower: loan reference plus date of birth, with a persisted lock-out.

The answer never says whether a reference exists: an unknown reference and a
wrong date of birth are the same MISMATCH, and both count towards the lock.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.accounts.models import Borrower, Loan
from bot.verification.models import VerificationAttempt


class Outcome(str, enum.Enum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LOCKED = "locked"


@dataclass(frozen=True)
class VerificationResult:
    outcome: Outcome
    loan_reference: str | None = None  # set only when verified
    borrower_name: str | None = None
    attempts_left: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True)
class LockoutRule:
    max_attempts: int = 3
    lock_minutes: int = 30


def _recent_failures(session: Session, loan_reference: str, now: datetime, rule: LockoutRule) -> list[datetime]:
    """Failed attempts inside the lock window and after the last success, oldest first."""
    window_start = now - timedelta(minutes=rule.lock_minutes)
    last_success = session.execute(
        select(func.max(VerificationAttempt.attempted_at)).where(
            VerificationAttempt.loan_reference == loan_reference, VerificationAttempt.succeeded.is_(True)
        )
    ).scalar_one_or_none()
    since = max(window_start, last_success) if last_success else window_start
    failures = session.execute(
        select(VerificationAttempt.attempted_at)
        .where(
            VerificationAttempt.loan_reference == loan_reference,
            VerificationAttempt.succeeded.is_(False),
            VerificationAttempt.attempted_at > since,
        )
        .order_by(VerificationAttempt.attempted_at)
    ).scalars().all()
    return list(failures)


def lock_expiry(session: Session, loan_reference: str, now: datetime, rule: LockoutRule) -> datetime | None:
    """When the lock on this reference ends, or None when it is not locked."""
    failures = _recent_failures(session, loan_reference, now, rule)
    if len(failures) < rule.max_attempts:
        return None
    return failures[-rule.max_attempts] + timedelta(minutes=rule.lock_minutes)


def verify_identity(
    session: Session,
    *,
    loan_reference: str,
    date_of_birth: date,
    conversation_id: str,
    channel: str | None,
    now: datetime,
    rule: LockoutRule,
) -> VerificationResult:
    """Check the pair against the books, log the attempt, and apply the lock-out."""
    locked_until = lock_expiry(session, loan_reference, now, rule)
    if locked_until is not None:
        return VerificationResult(Outcome.LOCKED, locked_until=locked_until)
    row = session.execute(
        select(Loan.reference, Borrower.full_name, Borrower.date_of_birth)
        .join(Borrower, Loan.borrower_id == Borrower.id)
        .where(Loan.reference == loan_reference)
    ).one_or_none()
    matched = row is not None and row.date_of_birth == date_of_birth
    session.add(VerificationAttempt(
        loan_reference=loan_reference, conversation_id=conversation_id[:200], channel=channel,
        succeeded=matched, attempted_at=now,
    ))
    session.flush()
    if matched:
        return VerificationResult(Outcome.VERIFIED, loan_reference=row.reference, borrower_name=row.full_name)
    locked_until = lock_expiry(session, loan_reference, now, rule)
    if locked_until is not None:
        return VerificationResult(Outcome.LOCKED, locked_until=locked_until)
    failures = _recent_failures(session, loan_reference, now, rule)
    return VerificationResult(Outcome.MISMATCH, attempts_left=max(rule.max_attempts - len(failures), 0))
