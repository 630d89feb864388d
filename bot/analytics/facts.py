"""Per-conversation facts, folded incrementally from Rasa's tracker store into the application database.

`catch_up` reads only the tracker events after the id in `analytics_cursor` (by primary key, cheap), folds
them into `conversation_facts` and `conversation_language_slots`, and moves the cursor, all in one
transaction; the report calls it first, so figures are always current (but for events of the last
`SETTLE_SECONDS` behind an id not yet visible: see `settled_up_to`). `fold` is the pure part: what a
run of events (in id order) does to a conversation's facts. Only three kinds of event matter: a
`session_started` (the start, and whether the borrower came back), a borrower message (the channel) and
a `language` slot.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.analytics.models import TRACKER_EVENTS, AnalyticsCursor, ConversationFacts, LanguageSlot
from bot.analytics.sql import EVENTS, json_text

SESSION_STARTED, USER, SLOT = "session_started", "user", "slot"
RETURN_AFTER_SECONDS = 60          # a session_started this soon after the start is the same visit
REPEAT_WINDOW_SECONDS = 7 * 86400  # repeat contact: the borrower is back within 7 days
BATCH_EVENTS = 200_000             # ids per transaction on a first catch-up (resumable between batches)
_LOOKUP = 500                      # conversation ids per IN (...) when loading existing facts
# How long a missing event id is waited for. Rasa writes a turn's events in one short transaction at the end
# of the turn, so an event is committed well within this of its timestamp.
SETTLE_SECONDS = 120


@dataclass
class Facts:
    """One `conversation_facts` row while events are folded into it."""

    conversation_id: str
    last_event_id: int
    started_event_id: int | None = None
    started_at: float | None = None
    returned: bool = False
    first_message_event_id: int | None = None
    first_message_at: float | None = None
    channel: str | None = None
    language_event_id: int | None = None
    language: str | None = None
    language_at: float | None = None


@dataclass(frozen=True)
class TrackerEvent:
    """The part of a tracker event the facts need: for a message its input channel, for a slot its value."""

    id: int
    conversation_id: str
    kind: str          # session_started | user | slot (the language slot only)
    at: float
    value: str | None


def fold(known: dict[str, Facts], events: Iterable[TrackerEvent]) -> tuple[dict[str, Facts], list[TrackerEvent]]:
    """Apply events (ascending ids, all newer than anything folded before) to the facts they touch.

    Returns the facts touched (taken from `known`, or new) and the language slot events, to be stored."""
    touched: dict[str, Facts] = {}
    slots: list[TrackerEvent] = []
    for event in events:
        facts = touched.get(event.conversation_id) or known.get(event.conversation_id) \
            or Facts(event.conversation_id, event.id)
        touched[event.conversation_id] = facts
        facts.last_event_id = event.id
        if event.kind == SESSION_STARTED:
            if facts.started_event_id is None:
                facts.started_event_id, facts.started_at = event.id, event.at
            elif facts.started_at + RETURN_AFTER_SECONDS < event.at <= facts.started_at + REPEAT_WINDOW_SECONDS:
                facts.returned = True
        elif event.kind == USER:
            if facts.first_message_event_id is None:
                facts.first_message_event_id, facts.first_message_at, facts.channel = event.id, event.at, event.value
        else:
            facts.language_event_id, facts.language, facts.language_at = event.id, event.value, event.at
            slots.append(event)
    return touched, slots


def _tracker_events(connection: Connection, after: int, up_to: int) -> Iterator[TrackerEvent]:
    """The events that matter with after < id <= up_to, ascending (a range of the primary key)."""
    value = sa.case((EVENTS.c.type_name == USER, json_text(EVENTS.c.data, "input_channel")),
                    (EVENTS.c.type_name == SLOT, json_text(EVENTS.c.data, "value")))
    statement = (
        sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, value)
        .where(EVENTS.c.id > after, EVENTS.c.id <= up_to,
               sa.or_(EVENTS.c.type_name.in_((SESSION_STARTED, USER)),
                      sa.and_(EVENTS.c.type_name == SLOT, EVENTS.c.action_name == "language")))
        .order_by(EVENTS.c.id))
    for row in connection.execute(statement):
        yield TrackerEvent(row[0], row[1], row[2], row[3], None if row[4] is None else str(row[4]))


def _known_facts(connection: Connection, conversation_ids: list[str]) -> dict[str, Facts]:
    table = ConversationFacts.__table__
    names = [f.name for f in fields(Facts)]
    known: dict[str, Facts] = {}
    for start in range(0, len(conversation_ids), _LOOKUP):
        batch = conversation_ids[start:start + _LOOKUP]
        rows = connection.execute(sa.select(*(table.c[name] for name in names))
                                  .where(table.c.conversation_id.in_(batch)))
        for row in rows:
            known[row.conversation_id] = Facts(**{name: row._mapping[name] for name in names})
    return known


def _row(facts: Facts) -> dict:
    row = {f.name: getattr(facts, f.name) for f in fields(Facts)}
    row["returned"] = bool(row["returned"])
    return row


def _store(connection: Connection, touched: dict[str, Facts], known: dict[str, Facts],
           slots: list[TrackerEvent]) -> None:
    table = ConversationFacts.__table__
    new = [_row(facts) for key, facts in touched.items() if key not in known]
    changed = [{**_row(facts), "key": key} for key, facts in touched.items() if key in known]
    if new:
        connection.execute(table.insert(), new)
    if changed:
        values = {f.name: sa.bindparam(f.name) for f in fields(Facts) if f.name != "conversation_id"}
        connection.execute(table.update().where(table.c.conversation_id == sa.bindparam("key")).values(values),
                           changed)
    if slots:
        connection.execute(LanguageSlot.__table__.insert(),
                           [{"event_id": e.id, "conversation_id": e.conversation_id, "set_at": e.at,
                             "value": e.value} for e in slots])


def _claim_cursor(connection: Connection) -> int:
    """The last event id folded, with the cursor row locked until commit (one catch-up at a time)."""
    cursor = AnalyticsCursor.__table__
    mine = cursor.c.name == TRACKER_EVENTS
    # Writing first takes the lock on both databases (SQLite: the write lock; PostgreSQL: the row),
    # so a concurrent catch-up waits and then reads the cursor this one leaves.
    if connection.execute(cursor.update().where(mine).values(last_event_id=cursor.c.last_event_id)).rowcount == 0:
        connection.execute(cursor.insert().values(name=TRACKER_EVENTS, last_event_id=0))
    return connection.execute(sa.select(cursor.c.last_event_id).where(mine)).scalar_one()


def settled_up_to(connection: Connection, after: int, up_to: int, now: float) -> int:
    """The highest id after `after` (and at most `up_to`) that can be folded without skipping an event.

    Several Rasa processes write to one PostgreSQL tracker store, and a sequence hands out ids before the
    transactions commit: id 100 can still be in flight while 101 is already visible. Folding 101 would move
    the cursor past 100 for good. So folding stops before a missing id, unless the event after it is older
    than `SETTLE_SECONDS`: then the missing ids were rolled back or erased, and are passed.
    """
    previous = EVENTS.alias("previous")
    after_gaps = (sa.select(EVENTS.c.id, EVENTS.c.timestamp)
                  .where(EVENTS.c.id > after + 1, EVENTS.c.id <= up_to,
                         ~sa.exists().where(previous.c.id == EVENTS.c.id - 1))
                  .order_by(EVENTS.c.id))
    for event_id, timestamp in connection.execute(after_gaps):
        if timestamp is None or timestamp > now - SETTLE_SECONDS:
            before = connection.execute(sa.select(sa.func.max(EVENTS.c.id))
                                        .where(EVENTS.c.id > after, EVENTS.c.id < event_id)).scalar()
            return before or after
    return up_to


def catch_up(connection: Connection, *, batch: int = BATCH_EVENTS, now: float | None = None) -> int:
    """Fold every settled tracker event newer than the cursor into the facts; returns how many were read.

    Commits after each batch of ids (the connection must not be inside a transaction of its own)."""
    folded = 0
    while True:
        with connection.begin():
            after = _claim_cursor(connection)
            newest = connection.execute(sa.select(sa.func.max(EVENTS.c.id))).scalar() or 0
            if newest <= after:
                return folded
            batch_end = min(newest, after + batch)
            up_to = settled_up_to(connection, after, batch_end, time.time() if now is None else now)
            if up_to <= after:
                return folded
            events = list(_tracker_events(connection, after, up_to))
            known = _known_facts(connection, sorted({event.conversation_id for event in events}))
            touched, slots = fold(known, events)
            _store(connection, touched, known, slots)
            connection.execute(AnalyticsCursor.__table__.update()
                               .where(AnalyticsCursor.name == TRACKER_EVENTS).values(last_event_id=up_to))
            folded += len(events)
        if up_to != batch_end or up_to == newest:
            return folded
