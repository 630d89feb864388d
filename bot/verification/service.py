"""Verifying a borrower: loan reference plus date of birth, guarded by persisted limits.

The answer never says whether a reference exists: an unknown reference and a
wrong date of birth are the same MISMATCH, and both count towards the limits.
Three limits (docs/DECISIONS.md, "Verification guard"):

- one conversation, any references: stops one chat from spraying a date of birth
  over many references (or many dates over many references);
- one conversation, one reference: the familiar "three tries, then wait";
- one reference, all conversations, slower: stops guessing spread over many fresh
  conversations. Conversations that have verified this reference before are exempt,
  so a stranger cannot lock the real borrower out of the chat they already use.

Every attempt is recorded, refused ones included, with the reason.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.accounts.models import ERASED_DATE_OF_BIRTH
from bot.accounts.repository import AccountRepository
from bot.accounts.source import AccountSource
from bot.verification.models import VerificationAttempt
from bot.verification.sessions import start_verified_session


class Outcome(str, enum.Enum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LOCKED = "locked"


class Lock(str, enum.Enum):
    """Which limit refused an attempt; the value is the audit reason."""

    CONVERSATION = "conversation_limit"
    CONVERSATION_REFERENCE = "conversation_reference_limit"
    REFERENCE = "reference_limit"


@dataclass(frozen=True)
class VerificationResult:
    outcome: Outcome
    loan_reference: str | None = None  # set only when verified
    borrower_name: str | None = None
    attempts_left: int = 0
    locked_until: datetime | None = None
    lock: Lock | None = None


@dataclass(frozen=True)
class LockoutRule:
    """The limits on failed attempts (mismatches); attempts refused by a lock never count."""

    max_attempts: int = 3  # on one reference in one conversation within lock_minutes...
    lock_minutes: int = 30  # ...pause that pair for this long after the last of them
    conversation_max_failures: int = 5  # in one conversation, any references, within the window...
    conversation_window_minutes: int = 30
    conversation_lock_minutes: int = 30  # ...pause the conversation for this long after the last of them
    reference_max_failures: int = 10  # on one reference from all conversations within the window:
    reference_window_hours: int = 24  # refused to conversations that never verified it, until fewer


def _lock_end(failures: Sequence[datetime], limit: int, window: timedelta, lock: timedelta) -> datetime | None:
    """When the latest lock ends: `limit` failures within `window` pause for `lock` after the last of them."""
    end = None
    for last in range(limit - 1, len(failures)):
        if failures[last] - failures[last - limit + 1] <= window:
            end = failures[last] + lock
    return end


def _failure_times(session: Session, *conditions) -> list[datetime]:
    return list(session.execute(
        select(VerificationAttempt.attempted_at)
        .where(VerificationAttempt.outcome == Outcome.MISMATCH.value, *conditions)
        .order_by(VerificationAttempt.attempted_at)
    ).scalars().all())


def _last_success(session: Session, conversation_id: str, loan_reference: str) -> datetime | None:
    return session.execute(
        select(func.max(VerificationAttempt.attempted_at)).where(
            VerificationAttempt.conversation_id == conversation_id,
            VerificationAttempt.loan_reference == loan_reference,
            VerificationAttempt.succeeded.is_(True),
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class _Standing:
    """Where a conversation stands against every limit for one reference, at one moment."""

    lock: Lock | None
    locked_until: datetime | None
    attempts_left: int


def _standing(session: Session, loan_reference: str, conversation_id: str, now: datetime,
              rule: LockoutRule) -> _Standing:
    locks: list[tuple[Lock, datetime]] = []

    window = timedelta(minutes=rule.conversation_window_minutes)
    pause = timedelta(minutes=rule.conversation_lock_minutes)
    in_conversation = _failure_times(session, VerificationAttempt.conversation_id == conversation_id,
                                     VerificationAttempt.attempted_at > now - window - pause)
    end = _lock_end(in_conversation, rule.conversation_max_failures, window, pause)
    if end is not None and end > now:
        locks.append((Lock.CONVERSATION, end))
    recent = [t for t in in_conversation if t > max(now - window, end or now - window)]
    conversation_left = rule.conversation_max_failures - len(recent)

    # A success on the pair starts its count afresh (the borrower got it right).
    pair_window = timedelta(minutes=rule.lock_minutes)
    last_success = _last_success(session, conversation_id, loan_reference)
    since = now - 2 * pair_window if last_success is None else max(now - 2 * pair_window, last_success)
    on_pair = _failure_times(session, VerificationAttempt.conversation_id == conversation_id,
                             VerificationAttempt.loan_reference == loan_reference,
                             VerificationAttempt.attempted_at > since)
    end = _lock_end(on_pair, rule.max_attempts, pair_window, pair_window)
    if end is not None and end > now:
        locks.append((Lock.CONVERSATION_REFERENCE, end))
    recent = [t for t in on_pair if t > max(now - pair_window, end or now - pair_window)]
    pair_left = rule.max_attempts - len(recent)

    if last_success is None:
        global_window = timedelta(hours=rule.reference_window_hours)
        everywhere = _failure_times(session, VerificationAttempt.loan_reference == loan_reference,
                                    VerificationAttempt.attempted_at > now - global_window)
        if len(everywhere) >= rule.reference_max_failures:
            # Rolling: refused until the oldest failure that keeps the count at the limit leaves the window.
            locks.append((Lock.REFERENCE, everywhere[-rule.reference_max_failures] + global_window))

    if locks:
        lock, until = max(locks, key=lambda pair: pair[1])
        return _Standing(lock, until, 0)
    return _Standing(None, None, max(min(conversation_left, pair_left), 0))


def _record(session: Session, *, loan_reference: str, conversation_id: str, channel: str | None,
            outcome: Outcome, reason: str | None, now: datetime) -> None:
    session.add(VerificationAttempt(
        loan_reference=loan_reference, conversation_id=conversation_id, channel=channel,
        succeeded=outcome is Outcome.VERIFIED, outcome=outcome.value, reason=reason, attempted_at=now,
    ))
    session.flush()


def lock_expiry(session: Session, loan_reference: str, conversation_id: str, now: datetime,
                rule: LockoutRule) -> datetime | None:
    """When this conversation may next try this reference, or None when it may try now."""
    return _standing(session, loan_reference, conversation_id[:200], now, rule).locked_until


def verify_identity(
    session: Session,
    *,
    loan_reference: str,
    date_of_birth: date,
    conversation_id: str,
    channel: str | None,
    now: datetime,
    rule: LockoutRule,
    accounts: AccountSource | None = None,
) -> VerificationResult:
    """Check the pair against the books within the limits, record the attempt, and on success
    record the conversation as verified (sessions.current_verification reads it back).

    The books are read through `accounts` (the local tables when None). When that source is
    unavailable its `AccountsUnavailable` propagates and no attempt is recorded: an outage is
    not a wrong answer, and must not bring the borrower closer to a lock.
    """
    conversation_id = conversation_id[:200]
    before = _standing(session, loan_reference, conversation_id, now, rule)
    if before.lock is not None:
        _record(session, loan_reference=loan_reference, conversation_id=conversation_id, channel=channel,
                outcome=Outcome.LOCKED, reason=before.lock.value, now=now)
        return VerificationResult(Outcome.LOCKED, locked_until=before.locked_until, lock=before.lock)
    identity = (accounts or AccountRepository(session)).identity(loan_reference)
    # An erased borrower (bot.privacy.forget) can never verify again.
    if identity is not None and identity.date_of_birth == date_of_birth != ERASED_DATE_OF_BIRTH:
        _record(session, loan_reference=loan_reference, conversation_id=conversation_id, channel=channel,
                outcome=Outcome.VERIFIED, reason=None, now=now)
        start_verified_session(session, conversation_id=conversation_id, loan_reference=identity.reference,
                               channel=channel, now=now)
        return VerificationResult(Outcome.VERIFIED, loan_reference=identity.reference,
                                  borrower_name=identity.full_name)
    _record(session, loan_reference=loan_reference, conversation_id=conversation_id, channel=channel,
            outcome=Outcome.MISMATCH, reason="unknown_reference" if identity is None else "wrong_date_of_birth",
            now=now)
    after = _standing(session, loan_reference, conversation_id, now, rule)
    if after.lock is not None:
        return VerificationResult(Outcome.LOCKED, locked_until=after.locked_until, lock=after.lock)
    return VerificationResult(Outcome.MISMATCH, attempts_left=after.attempts_left)
