"""What the server records about verification: every attempt, and every verified conversation."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, String

from bot.storage.base import Base


class VerificationAttempt(Base):
    """One try at verifying, kept for audit; the lock-outs are computed from these rows."""

    __tablename__ = "verification_attempts"
    id = Column(Integer, primary_key=True)
    # The reference as the borrower gave it (normalised); it may match no loan.
    loan_reference = Column(String(32), nullable=False, index=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    channel = Column(String(32), nullable=True)
    succeeded = Column(Boolean, nullable=False)
    attempted_at = Column(DateTime(), nullable=False, index=True)
    # verified | mismatch | locked: only mismatches count towards a lock, so trying while
    # locked is recorded without extending the lock.
    outcome = Column(String(16), nullable=False, server_default="mismatch")
    # Why, for the audit trail only (never told to the borrower): unknown_reference,
    # wrong_date_of_birth, or which limit refused the attempt.
    reason = Column(String(32), nullable=True)


class VerifiedSession(Base):
    """A conversation the server itself verified; disclosure is decided from this, not from slots."""

    __tablename__ = "verified_sessions"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    loan_reference = Column(String(32), nullable=False)
    channel = Column(String(32), nullable=True)
    verified_at = Column(DateTime(), nullable=False)
    last_seen_at = Column(DateTime(), nullable=False)
    ended_at = Column(DateTime(), nullable=True)
