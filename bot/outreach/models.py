"""Tables of follow-up: the persistent contact schedule, every attempt (the send log the caps and the
independent checker read), and holds on outreach (an agent's pause, a breathing space)."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text

from bot.storage.base import Base

# Contact.status
SCHEDULED, CLAIMED, SENT, DROPPED, FAILED = "scheduled", "claimed", "sent", "dropped", "failed"
SENDING = "sending"  # handed to the sender, not yet recorded: a scheduler that dies here must not send twice
# Contact.reason
PROMISE_REMINDER = "promise_reminder"
INSTALMENT_REMINDER = "instalment_reminder"
MISSED_PROMISE = "missed_promise"
MISSED_INSTALMENT = "missed_instalment"
REENGAGEMENT = "reengagement"
RISK_CHECKIN = "risk_checkin"
REASONS = (PROMISE_REMINDER, INSTALMENT_REMINDER, MISSED_PROMISE, MISSED_INSTALMENT, REENGAGEMENT, RISK_CHECKIN)
# ContactAttempt.outcome
ATTEMPT_SENT, ATTEMPT_REFUSED, ATTEMPT_FAILED = "sent", "refused", "failed"
# OutreachHold.kind
AGENT_PAUSE, BREATHING_SPACE = "agent_pause", "breathing_space"


class Contact(Base):
    """One message the assistant means to send first, once: `key` makes scheduling it idempotent."""

    __tablename__ = "contacts"
    id = Column(Integer, primary_key=True)
    key = Column(String(160), nullable=False, unique=True)   # e.g. promise:12:before:1
    loan_reference = Column(String(32), nullable=False, index=True)
    conversation_id = Column(String(200), nullable=False)    # the verified borrower's own chat/session
    channel = Column(String(32), nullable=False)             # telegram | socketio
    reason = Column(String(32), nullable=False)
    subject = Column(String(80), nullable=False)             # promise:<id> | agreement:<ref>:<number> | conversation
    language = Column(String(5), nullable=False, default="en")
    time_zone = Column(String(64), nullable=True)            # the borrower's, when known
    jurisdiction = Column(String(8), nullable=False)
    due_at = Column(DateTime(), nullable=False, index=True)  # UTC; moved on when the policy refuses a time
    status = Column(String(16), nullable=False, default=SCHEDULED, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    claimed_by = Column(String(64), nullable=True)
    claimed_at = Column(DateTime(), nullable=True)
    sent_at = Column(DateTime(), nullable=True)
    outcome = Column(String(200), nullable=True)             # why it was dropped or failed
    created_at = Column(DateTime(), nullable=False)


class ContactAttempt(Base):
    """Each time the scheduler took up a contact: sent, refused by a rule (nothing sent) or failed."""

    __tablename__ = "contact_attempts"
    id = Column(Integer, primary_key=True)
    contact_id = Column(ForeignKey("contacts.id"), nullable=False, index=True)
    loan_reference = Column(String(32), nullable=False, index=True)
    conversation_id = Column(String(200), nullable=False)
    channel = Column(String(32), nullable=False)
    attempted_at = Column(DateTime(), nullable=False, index=True)  # UTC
    local_time = Column(String(40), nullable=True)                 # ISO with offset, in the borrower's zone
    outcome = Column(String(16), nullable=False)
    rule = Column(String(80), nullable=True)                       # the rule that refused, if any
    detail = Column(Text, nullable=True)


class OutreachHold(Base):
    """No proactive contact for a loan while a hold is in force (an agent's pause, a breathing space)."""

    __tablename__ = "outreach_holds"
    id = Column(Integer, primary_key=True)
    loan_reference = Column(String(32), nullable=False, index=True)
    kind = Column(String(20), nullable=False)
    starts_at = Column(DateTime(), nullable=False)
    ends_at = Column(DateTime(), nullable=True)  # open-ended until lifted
    lifted_at = Column(DateTime(), nullable=True)
    created_by = Column(String(64), nullable=False)
    note = Column(String(500), nullable=True)


class ChatLink(Base):
    """A one-use deep link (Telegram `/start <token>`) that binds a chat to a borrower for follow-up.

    Only the token's SHA-256 is kept. Once used, the row records the chat it bound; that chat becomes the
    borrower's own chat for reminders, but what it is told still waits for verification in that chat.
    """

    __tablename__ = "chat_links"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    loan_reference = Column(String(32), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    created_by = Column(String(64), nullable=False)
    created_at = Column(DateTime(), nullable=False)
    expires_at = Column(DateTime(), nullable=False)
    used_at = Column(DateTime(), nullable=True)
    conversation_id = Column(String(200), nullable=True, index=True)  # the bound chat, once used
