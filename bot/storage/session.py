"""Engine and sessions: one `Database` per process, one session per unit of work.

Nothing connects at import time; callers build a `Database` from settings.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

# A file SQLite database keeps its connections open between units of work. SQLAlchemy 1.4 opens a
# new one per unit by default (NullPool): with the pragmas below that was ~45% of the action server's
# time in the benchmark (docs/PERFORMANCE.md). Checking a connection out hands it to one thread at a
# time; WAL lets the pooled readers and the one writer of several processes share the file.
SQLITE_POOL_SIZE = 5
SQLITE_MAX_OVERFLOW = 10


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _in_memory(url: str) -> bool:
    """`sqlite://` and `sqlite:///:memory:` (and `mode=memory` URIs): SQLAlchemy's own pool keeps them alive."""
    return url.rstrip("/") in ("sqlite:", "sqlite://") or ":memory:" in url or "mode=memory" in url


class Database:
    """An engine plus a session factory for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 5}
            if not _in_memory(url):
                # No ping: a file connection does not go stale the way a server's does.
                kwargs.update(poolclass=QueuePool, pool_size=SQLITE_POOL_SIZE,
                              max_overflow=SQLITE_MAX_OVERFLOW, pool_pre_ping=False)
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back otherwise."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
