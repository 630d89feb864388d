"""The verification-attempt log; it is also what the lock-out is computed from."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, String

from bot.storage.base import Base


class VerificationAttempt(Base):
    __tablename__ = "verification_attempts"
    id = Column(Integer, primary_key=True)
    # The reference as the borrower gave it (normalised); it may match no loan.
    loan_reference = Column(String(32), nullable=False, index=True)
    conversation_id = Column(String(200), nullable=False)
    channel = Column(String(32), nullable=True)
    succeeded = Column(Boolean, nullable=False)
    attempted_at = Column(DateTime(), nullable=False, index=True)
