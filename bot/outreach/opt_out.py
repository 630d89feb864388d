"""Opt-outs the channel learns of without a word from the borrower (a Telegram chat that blocked the bot)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.models import ContactOptOut
from bot.verification.models import VerifiedSession

BLOCKED_NOTE = "[channel: the bot was blocked by the user]"


def record_blocked(session: Session, *, conversation_id: str, channel: str, now: datetime) -> bool:
    """Record that `conversation_id` can no longer be written to on `channel`, as an opt-out of that channel
    (once: a second failure adds nothing). Returns whether a row was added."""
    existing = session.execute(
        select(ContactOptOut.id).where(ContactOptOut.conversation_id == conversation_id,
                                       ContactOptOut.channel == channel).limit(1)).first()
    if existing is not None:
        return False
    loan_reference = session.execute(
        select(VerifiedSession.loan_reference).where(VerifiedSession.conversation_id == conversation_id)
        .order_by(VerifiedSession.verified_at.desc()).limit(1)).scalar_one_or_none()
    session.add(ContactOptOut(conversation_id=conversation_id, loan_reference=loan_reference, channel=channel,
                              message=BLOCKED_NOTE, recorded_at=now))
    return True
