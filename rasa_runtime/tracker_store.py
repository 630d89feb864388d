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

Selected by `bot/runtime_config.py` (`type: rasa_runtime.tracker_store.SQLTrackerStore`).
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Optional

import sqlalchemy as sa
from rasa.core import tracker_store as rasa_tracker_store
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

_TABLE = rasa_tracker_store.SQLTrackerStore.SQLEvent.__table__
_SESSION_START = (f"(SELECT max(timestamp) FROM {_TABLE.name} "
                  "WHERE sender_id = :sender_id AND type_name = :session_started)")
_IN_LATEST_SESSION = f"(timestamp >= {_SESSION_START} OR {_SESSION_START} IS NULL)"
LATEST_SESSION_EVENTS = sa.text(
    f"SELECT data FROM {_TABLE.name} WHERE sender_id = :sender_id AND {_IN_LATEST_SESSION} ORDER BY id")
ALL_EVENTS = sa.text(f"SELECT data FROM {_TABLE.name} WHERE sender_id = :sender_id ORDER BY id")
LATEST_SESSION_COUNT = sa.text(
    f"SELECT count(*) FROM {_TABLE.name} WHERE sender_id = :sender_id AND {_IN_LATEST_SESSION}")


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

    def _parameters(self, sender_id: str) -> dict:
        return {"sender_id": sender_id, "session_started": SessionStarted.type_name}

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        statement = ALL_EVENTS if fetch_events_from_all_sessions else LATEST_SESSION_EVENTS
        with self.engine.connect() as connection:
            rows = connection.execute(statement, self._parameters(sender_id)).scalars().all()
        if not (self.domain and rows):
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(data) for data in rows], self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.engine.begin() as connection:
            stored = connection.execute(LATEST_SESSION_COUNT, self._parameters(tracker.sender_id)).scalar_one()
            rows = [self._row(tracker.sender_id, event.as_dict(), event.type_name)
                    for event in list(tracker.events)[stored:]]
            if rows:
                connection.execute(_TABLE.insert(), rows)

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
