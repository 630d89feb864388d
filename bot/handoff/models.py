"""Tables of the human handoff: escalations, the agents' notes on them, agent accounts."""
from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text, text

from bot.storage.base import Base

WAITING = "waiting"
CLAIMED = "claimed"
CLOSED = "closed"
STATUSES = (WAITING, CLAIMED, CLOSED)

AGENT = "agent"
SUPERVISOR = "supervisor"
ROLES = (AGENT, SUPERVISOR)


class Escalation(Base):
    """One conversation handed to a person; at most one open (waiting or claimed) per conversation."""

    __tablename__ = "escalations"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    channel = Column(String(32), nullable=True)
    reason = Column(String(40), nullable=False)
    priority = Column(Integer, nullable=False)  # 1 urgent .. 4 routine
    summary = Column(Text, nullable=False, default="{}")  # JSON, see bot.handoff.queue
    status = Column(String(16), nullable=False, default=WAITING, index=True)
    claimed_by = Column(String(64), nullable=True)
    created_at = Column(DateTime(), nullable=False)
    claimed_at = Column(DateTime(), nullable=True)
    closed_at = Column(DateTime(), nullable=True)
    outcome = Column(String(64), nullable=True)
    approved_offer = Column(Text, nullable=True)  # JSON of the offer an agent approved
    language = Column(String(5), nullable=False, default="en")
    # The desk's working state (0012): what the queue shows and what the borrower was offered while waiting.
    last_borrower_text = Column(Text, nullable=True)          # the borrower's latest message, for the queue row
    last_borrower_at = Column(DateTime(), nullable=True)
    first_agent_reply_at = Column(DateTime(), nullable=True)  # time to first reply (SLA, analytics)
    wait_notice_at = Column(DateTime(), nullable=True)        # the borrower was told nobody is free yet
    assistant_resumed_at = Column(DateTime(), nullable=True)  # the borrower chose to go on with the assistant
    callback_at = Column(DateTime(), nullable=True)           # UTC time the borrower asked to be called back
    reopened_at = Column(DateTime(), nullable=True)
    satisfaction = Column(Integer, nullable=True)             # 1..5 after hand-back or close
    satisfaction_at = Column(DateTime(), nullable=True)


class EscalationNote(Base):
    """An internal note by an agent; never shown to the borrower."""

    __tablename__ = "escalation_notes"
    id = Column(Integer, primary_key=True)
    escalation_id = Column(ForeignKey("escalations.id"), nullable=False, index=True)
    author = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime(), nullable=False)


class AgentAccount(Base):
    """A console user: a collection agent or a supervisor (argon2 password hash only)."""

    __tablename__ = "agent_accounts"
    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(100), nullable=False)
    role = Column(String(16), nullable=False, default=AGENT)
    password_hash = Column(String(200), nullable=False)
    created_at = Column(DateTime(), nullable=False)
    # Console sessions carry the generation they were issued in; signing out moves it on,
    # which ends every session of this account (cookies cannot be recalled from browsers).
    session_generation = Column(Integer, nullable=False, default=0, server_default="0")
    language = Column(String(5), nullable=False, default="en", server_default="en")  # console interface language


class CannedReply(Base):
    """A reply agents insert with a keystroke; `{name}`, `{arrears}`, `{next_due}` are filled from the account."""

    __tablename__ = "canned_replies"
    id = Column(Integer, primary_key=True)
    language = Column(String(5), nullable=False, index=True)
    shortcut = Column(String(32), nullable=False)   # typed after "/" in the reply box
    title = Column(String(100), nullable=False)
    body = Column(Text, nullable=False)
    created_by = Column(String(64), nullable=False)
    created_at = Column(DateTime(), nullable=False)
    updated_at = Column(DateTime(), nullable=False)
    archived_at = Column(DateTime(), nullable=True)


class ConsoleApiKey(Base):
    """A scoped key for a lender's integration (CRM); only a hash is kept, shown once when created."""

    __tablename__ = "console_api_keys"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    prefix = Column(String(16), nullable=False, unique=True)  # first characters of the key, to find its hash
    key_hash = Column(String(200), nullable=False)
    scopes = Column(String(200), nullable=False)             # space-separated, e.g. "escalations:read"
    created_by = Column(String(64), nullable=False)
    created_at = Column(DateTime(), nullable=False)
    revoked_at = Column(DateTime(), nullable=True)
    last_used_at = Column(DateTime(), nullable=True)


Index("uq_canned_replies_shortcut", CannedReply.language, CannedReply.shortcut, unique=True,
      sqlite_where=text("archived_at IS NULL"), postgresql_where=text("archived_at IS NULL"))

# At most one open escalation per conversation, enforced by the database as well as by the queue.
Index(
    "uq_escalations_open_conversation", Escalation.conversation_id, unique=True,
    sqlite_where=text("status != 'closed'"), postgresql_where=text("status != 'closed'"),
)
