"""Rasa's SQL tracker store with cheaper statements: same table, same rows, same answers.

Rasa 3.6's `SQLTrackerStore` builds ORM queries on every turn (SQLAlchemy spends more time
computing their cache keys than SQLite spends running them), loads full ORM objects to read one
column, counts stored events with the same subquery before every save, and opens a new SQLite
connection per session. Together that was ~45% of the Rasa process's CPU in the benchmark
(docs/PERFORMANCE.md). This subclass keeps Rasa's schema and semantics (the latest session's
events are those from the newest `session_started` on, or all when there is none; events are
ordered by id) and runs them as three fixed SQL statements and one multi-row insert.

PostgreSQL: Rasa's engine, with `pool_pre_ping`: after a database restart every pooled connection
is dead, and without the ping each one failed a turn before the pool noticed; now a dead connection is
replaced before use and the store recovers by itself (docs/scale-out.md).

SQLite: connections are pooled and use WAL with `synchronous=NORMAL` (a committed turn
survives a crash of the process; a power cut can lose the last turns, not corrupt the file).

Long conversations: reading a tracker meant decoding and replaying every event of the session on
every turn, so a turn's cost grew with the conversation. Each process now keeps the trackers it
read or wrote (`TrackerCache`) with a fingerprint of the conversation's rows in the database (their
count, the highest id and that row's timestamp), and checks it against the database on every
read: unchanged -> a copy of the kept tracker; only new rows after the kept ones (another process
answered a turn; the lock store serialises a conversation's turns) -> those rows replayed onto a
copy; anything else (rows deleted or replaced, a new session started) -> Rasa's full read. A save
extends the kept tracker with exactly the rows it inserted, decoded from their stored JSON, so the
kept tracker is always the one a full read of the database would build.

Selected by `bot/runtime_config.py` (`type: rasa_runtime.tracker_store.SQLTrackerStore`).
"""
from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import sqlalchemy as sa
from rasa.core import tracker_store as rasa_tracker_store
from rasa.shared.core.events import SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from rasa_runtime.tracker_memos import carry, clone

_TABLE = rasa_tracker_store.SQLTrackerStore.SQLEvent.__table__
_SESSION_START = (f"(SELECT max(timestamp) FROM {_TABLE.name} "
                  "WHERE sender_id = :sender_id AND type_name = :session_started)")
_IN_LATEST_SESSION = f"(timestamp >= {_SESSION_START} OR {_SESSION_START} IS NULL)"
LATEST_SESSION_EVENTS = sa.text(
    f"SELECT data FROM {_TABLE.name} WHERE sender_id = :sender_id AND {_IN_LATEST_SESSION} ORDER BY id")
ALL_EVENTS = sa.text(f"SELECT data FROM {_TABLE.name} WHERE sender_id = :sender_id ORDER BY id")
LATEST_SESSION_COUNT = sa.text(
    f"SELECT count(*) FROM {_TABLE.name} WHERE sender_id = :sender_id AND {_IN_LATEST_SESSION}")

# count, highest id, and that row's timestamp: a deleted-and-rewritten conversation whose rows
# reused the same ids (SQLite reuses the top rowids) still shows as changed by its newer timestamp.
FINGERPRINT = sa.text(
    f"SELECT count(*), max(id), (SELECT timestamp FROM {_TABLE.name} WHERE id = "
    f"(SELECT max(id) FROM {_TABLE.name} WHERE sender_id = :sender_id)) "
    f"FROM {_TABLE.name} WHERE sender_id = :sender_id")
ROWS_AFTER = sa.text(f"SELECT type_name, data FROM {_TABLE.name} WHERE sender_id = :sender_id AND id > :after ORDER BY id")
CACHED_CONVERSATIONS = 256
# On a tracker this store handed out: how many of its events are stored. A save inserts the events after
# them: the events this tracker added, whatever another writer stored meanwhile (Rasa's store inserts the
# tracker's events after the number stored at save time, which a concurrent write or a purge shifts).
STORED_EVENTS = "_rasa_runtime_stored_events"


@dataclass
class Kept:
    fingerprint: tuple
    tracker: DialogueStateTracker          # never handed out, only clones of it


class TrackerCache:
    """The latest-session trackers this process read or wrote, the least recently used dropped first."""

    def __init__(self, size: int = CACHED_CONVERSATIONS) -> None:
        self.size = size
        self.kept: OrderedDict[str, Kept] = OrderedDict()

    def get(self, sender_id: str) -> Kept | None:
        kept = self.kept.get(sender_id)
        if kept is not None:
            self.kept.move_to_end(sender_id)
        return kept

    def put(self, sender_id: str, fingerprint: tuple, tracker: DialogueStateTracker) -> None:
        self.kept[sender_id] = Kept(tuple(fingerprint), tracker)
        self.kept.move_to_end(sender_id)
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)

    def drop(self, sender_id: str) -> None:
        self.kept.pop(sender_id, None)


def extended(tracker: DialogueStateTracker, rows: list[tuple[str, str]]) -> Optional[DialogueStateTracker]:
    """A copy of the latest-session `tracker` with these stored rows replayed, or None when one starts a new
    session (the latest session is then another one: read it in full)."""
    if any(type_name == SessionStarted.type_name for type_name, _ in rows):
        return None
    new = clone(tracker)
    for event in deserialise_events([json.loads(data) for _, data in rows]):
        new.update(event)
    return new


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")  # several Rasa processes may share the file
    cursor.close()


class SQLTrackerStore(rasa_tracker_store.SQLTrackerStore):
    """Rasa's `SQLTrackerStore` (tables, configuration, events) with fixed statements."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            url = self.engine.url
            self.engine.dispose()
            # Rasa's engine opens a new SQLite connection per session (NullPool); Rasa uses the
            # store from its event loop, and each Sanic worker process builds its own store.
            self.engine = sa.create_engine(url, pool_size=1, max_overflow=4,
                                           poolclass=sa.pool.QueuePool,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **rasa_tracker_store.create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.cache = TrackerCache()

    def _parameters(self, sender_id: str) -> dict:
        return {"sender_id": sender_id, "session_started": SessionStarted.type_name}

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        tracker = self._read(sender_id, fetch_events_from_all_sessions)
        if tracker is not None:
            setattr(tracker, STORED_EVENTS, len(tracker.events))
        return tracker

    def _read(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        if fetch_events_from_all_sessions:
            with self.engine.connect() as connection:
                return self._full_read(connection, sender_id, ALL_EVENTS)
        with self.engine.begin() as connection:   # one snapshot: the fingerprint and the rows agree
            fingerprint = tuple(connection.execute(FINGERPRINT, self._parameters(sender_id)).one())
            kept = self.cache.get(sender_id)
            if kept is not None and self.domain:
                if kept.fingerprint == fingerprint:
                    return clone(kept.tracker)
                tracker = self._caught_up(connection, sender_id, kept, fingerprint)
                if tracker is not None:
                    self.cache.put(sender_id, fingerprint, tracker)
                    return clone(tracker)
            tracker = self._full_read(connection, sender_id, LATEST_SESSION_EVENTS)
            if tracker is None:
                self.cache.drop(sender_id)
            else:
                self.cache.put(sender_id, fingerprint, clone(tracker))
            return tracker

    def _full_read(self, connection: Any, sender_id: str, statement: Any) -> Optional[DialogueStateTracker]:
        rows = connection.execute(statement, self._parameters(sender_id)).scalars().all()
        if not (self.domain and rows):
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(data) for data in rows], self.domain.slots)

    def _caught_up(self, connection: Any, sender_id: str, kept: Kept, fingerprint: tuple
                   ) -> Optional[DialogueStateTracker]:
        """The kept tracker with the rows written after it, when nothing but appending happened since."""
        count, top_id = kept.fingerprint[:2]
        if top_id is None or fingerprint[0] <= count:
            return None
        rows = connection.execute(ROWS_AFTER, {"sender_id": sender_id, "after": top_id}).all()
        if count + len(rows) != fingerprint[0]:
            return None                      # rows were deleted as well: read in full
        return extended(kept.tracker, [tuple(row) for row in rows])

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        with self.engine.begin() as connection:
            before = tuple(connection.execute(FINGERPRINT, self._parameters(sender_id)).one())
            stored = getattr(tracker, STORED_EVENTS, None)
            if stored is None:      # a tracker this store did not hand out (a new conversation): Rasa's rule
                stored = connection.execute(LATEST_SESSION_COUNT, self._parameters(sender_id)).scalar_one()
            events = list(tracker.events)
            rows = [self._row(sender_id, event.as_dict(), event.type_name) for event in events[stored:]]
            if rows:
                connection.execute(_TABLE.insert(), rows)
            kept = self.cache.get(sender_id)
            new = None
            if kept is not None and kept.fingerprint == before:
                new = extended(kept.tracker, [(row["type_name"], row["data"]) for row in rows])
                if new is not None:    # the work done on the saved tracker's history (rasa_runtime/tracker_memos.py)
                    carry(tracker, new, len(kept.tracker.events))
            if new is None:
                self.cache.drop(sender_id)
            else:
                self.cache.put(sender_id, connection.execute(FINGERPRINT, self._parameters(sender_id)).one(), new)
        setattr(tracker, STORED_EVENTS, len(events))   # saved again later: only what it adds after this

    async def keys(self) -> Iterable[str]:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.select(_TABLE.c.sender_id).distinct()).scalars())

    @staticmethod
    def _row(sender_id: str, data: dict, type_name: str) -> dict:
        return {
            "sender_id": sender_id,
            "type_name": type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
