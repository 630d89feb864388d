"""Rasa's tracker store, seen as the table it is: erasing whole conversations and old events.

Rasa's `SQLTrackerStore` (and `rasa_runtime.tracker_store`, which keeps its schema) writes one
row per event to a table named `events` (id, sender_id, type_name, timestamp as Unix seconds,
intent_name, action_name, data as JSON text). Every text a borrower typed, every bot message and
every slot value lives in `data`. This module works on that table with plain SQL, so `bot/`
needs no Rasa import, and it reads the same URL Rasa is configured with (`TRACKER_STORE_URL`).

Rasa loads a conversation from its newest `session_started` event on (or all of it when there is
none); `purge_before` therefore never deletes an event of a conversation's latest session unless
the whole conversation is past the cutoff, so what Rasa loads for a live conversation is unchanged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer), sa.column("sender_id", sa.String), sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float), sa.column("data", sa.Text),
)
SESSION_STARTED = "session_started"
BATCH = 500


@dataclass(frozen=True)
class Erased:
    """What a deletion removed (or, in a dry run, would remove)."""

    conversations: int
    events: int


def _batches(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), BATCH):
        yield values[start:start + BATCH]


class TrackerEvents:
    """The `events` table of the tracker store at `url`; absent (nothing to erase) until Rasa made it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None

    def _connectable(self) -> Engine | None:
        if self._engine is None:
            parsed = make_url(self.url)
            if parsed.get_backend_name() == "sqlite":
                if parsed.database in (None, "", ":memory:") or not Path(parsed.database).exists():
                    return None  # never create the file Rasa owns
                # Waits for Rasa's writers instead of failing on a locked file.
                self._engine = sa.create_engine(self.url, future=True, connect_args={"timeout": 30})
            else:
                self._engine = sa.create_engine(self.url, future=True, pool_pre_ping=True)
        if not sa.inspect(self._engine).has_table(EVENTS.name):
            return None
        return self._engine

    def conversations(self) -> list[str]:
        """Every conversation id in the store."""
        engine = self._connectable()
        if engine is None:
            return []
        with engine.connect() as connection:
            return list(connection.execute(sa.select(EVENTS.c.sender_id).distinct()).scalars())

    def conversations_mentioning(self, references: Iterable[str]) -> set[str]:
        """Conversations any of whose events holds one of `references` (typed, or in a slot) as a whole word.

        A scan of the table (LIKE, then a check that the reference is not part of a longer one): slow on
        a large store, which is acceptable for a forget and is why purge does not use it."""
        engine = self._connectable()
        found: set[str] = set()
        if engine is None:
            return found
        with engine.connect() as connection:
            for reference in sorted(set(references)):
                whole = re.compile(rf"(?<![A-Za-z0-9]){re.escape(reference)}(?![A-Za-z0-9])")
                rows = connection.execution_options(stream_results=True).execute(
                    sa.select(EVENTS.c.sender_id, EVENTS.c.data)
                    .where(EVENTS.c.data.contains(reference, autoescape=True)))
                found.update(sender_id for sender_id, data in rows if whole.search(data or ""))
        return found

    def delete_conversations(self, sender_ids: Iterable[str], *, apply: bool = True) -> Erased:
        """Delete every event of these conversations: their texts, slots and actions, all sessions."""
        engine = self._connectable()
        wanted = sorted(set(sender_ids))
        if engine is None or not wanted:
            return Erased(0, 0)
        conversations = events = 0
        with engine.begin() as connection:
            for batch in _batches(wanted):
                where = EVENTS.c.sender_id.in_(batch)
                found = connection.execute(
                    sa.select(sa.func.count(sa.distinct(EVENTS.c.sender_id)), sa.func.count()).where(where)).one()
                conversations += found[0]
                events += found[1]
                if apply:
                    connection.execute(sa.delete(EVENTS).where(where))
        return Erased(conversations, events)

    def purge_before(self, cutoff: float, *, apply: bool = True) -> Erased:
        """Delete events older than `cutoff` (Unix seconds) that Rasa no longer loads.

        A conversation whose newest event is older than the cutoff goes whole (counted in
        `conversations`); of the others, only events before both the cutoff and their latest
        session's start go."""
        engine = self._connectable()
        if engine is None:
            return Erased(0, 0)
        latest_start = sa.func.max(sa.case((EVENTS.c.type_name == SESSION_STARTED, EVENTS.c.timestamp)))
        with engine.connect() as connection:
            senders = connection.execute(
                sa.select(EVENTS.c.sender_id, sa.func.max(EVENTS.c.timestamp), latest_start, sa.func.count())
                .group_by(EVENTS.c.sender_id).having(sa.func.min(EVENTS.c.timestamp) < cutoff)
            ).all()
        whole = [sender_id for sender_id, newest, _, _ in senders if newest < cutoff]
        events = sum(count for _, newest, _, count in senders if newest < cutoff)
        # Of a conversation still in use, the sessions before its latest one.
        older_sessions = [(sender_id, min(cutoff, start)) for sender_id, newest, start, _ in senders
                          if newest >= cutoff and start is not None]
        # One short transaction per batch: Rasa's own writes to the file wait for each (busy timeout).
        if apply:
            for batch in _batches(whole):
                with engine.begin() as connection:
                    connection.execute(sa.delete(EVENTS).where(EVENTS.c.sender_id.in_(batch),
                                                               EVENTS.c.timestamp < cutoff))
        for start in range(0, len(older_sessions), BATCH):
            with engine.begin() as connection:
                for sender_id, bound in older_sessions[start:start + BATCH]:
                    where = sa.and_(EVENTS.c.sender_id == sender_id, EVENTS.c.timestamp < bound)
                    if apply:
                        events += connection.execute(sa.delete(EVENTS).where(where)).rowcount
                    else:
                        events += connection.execute(sa.select(sa.func.count()).select_from(EVENTS).where(where)
                                                     ).scalar_one()
        conversations = len(whole)
        return Erased(conversations, events)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
