"""The analytics tables: per-conversation facts drawn from Rasa's tracker store, kept up to date incrementally.

`facts.catch_up` fills them from the tracker events added since the id in `analytics_cursor`, so the
conversation KPIs read one row per conversation instead of scanning Rasa's `events` table (which has no
timestamp index). Everything here can be rebuilt from the tracker store: empty the tables and reset the cursor.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, String

from bot.storage.base import Base

TRACKER_EVENTS = "tracker_events"  # the cursor's name: Rasa's `events` table


class ConversationFacts(Base):
    """What the tracker store says about one conversation (Rasa `sender_id`), as of the cursor."""

    __tablename__ = "conversation_facts"
    conversation_id = Column(String(255), primary_key=True)
    started_event_id = Column(BigInteger)      # its first `session_started` event (lowest id); NULL: none yet
    started_at = Column(Float)                 # that event's Unix time
    returned = Column(Boolean, nullable=False, default=False)  # another session started 60 s to 7 days later
    first_message_event_id = Column(BigInteger)  # its first borrower (`user`) event
    first_message_at = Column(Float)
    channel = Column(String(255))              # that event's input_channel
    language_event_id = Column(BigInteger)     # its latest `language` slot event
    language = Column(String(255))             # that slot's value
    language_at = Column(Float)                # that slot's Unix time
    last_event_id = Column(BigInteger, nullable=False)  # the newest event folded into this row


Index("ix_conversation_facts_started_at", ConversationFacts.started_at)


class LanguageSlot(Base):
    """Every `language` slot event: a range's language is the latest set up to 7 days after it (not later)."""

    __tablename__ = "conversation_language_slots"
    event_id = Column(BigInteger, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    set_at = Column(Float, nullable=False)
    value = Column(String(255))


Index("ix_conversation_language_slots_conversation", LanguageSlot.conversation_id, LanguageSlot.event_id)


class AnalyticsCursor(Base):
    """How far a source has been folded into the analytics tables: the last event id processed."""

    __tablename__ = "analytics_cursor"
    name = Column(String(64), primary_key=True)
    last_event_id = Column(BigInteger, nullable=False, default=0)
